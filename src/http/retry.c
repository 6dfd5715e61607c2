/* Retry policy and pacing: which failures are retried, how long to wait. */
#include <ctype.h>
#include <curl/curl.h>
#include <math.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/http.h"

/* The connection failed before any byte of the request left: even a
 * mutation is certainly not applied. */
static bool failed_before_send(int code)
{
    return code == CURLE_COULDNT_RESOLVE_PROXY || code == CURLE_COULDNT_RESOLVE_HOST ||
           code == CURLE_COULDNT_CONNECT;
}

static bool transient_transport(int code)
{
    switch (code) {
    case CURLE_OPERATION_TIMEDOUT:
    case CURLE_SEND_ERROR:
    case CURLE_RECV_ERROR:
    case CURLE_GOT_NOTHING:
    case CURLE_PARTIAL_FILE:
    case CURLE_SSL_CONNECT_ERROR:
    case CURLE_HTTP2:
    case CURLE_HTTP2_STREAM:
    /* a body that does not inflate (corrupt gzip) or a Content-Encoding
     * libcurl does not know: a damaged answer, like a truncated one */
    case CURLE_BAD_CONTENT_ENCODING: return true;
    default: return failed_before_send(code);
    }
}

const bt_http_retry_cause_info bt_http_retry_causes[BT_HTTP_RETRY_CAUSES] = {
    [BT_HTTP_RETRY_NONE] = {0},
    [BT_HTTP_RETRY_RATE_LIMITED] = {.key = "rate_limited", .label = "rate limited",
                                    .throttled = true},
    [BT_HTTP_RETRY_SERVER] = {.key = "server", .label = "server"},
    [BT_HTTP_RETRY_TRANSPORT] = {.key = "transport", .label = "transport"},
    [BT_HTTP_RETRY_DECODE] = {.key = "decode", .label = "mangled"},
};

bt_http_retry_cause bt_http_retry_cause_of(int curl_code, long status, bool idempotent)
{
    if (curl_code != CURLE_OK) {
        if (failed_before_send(curl_code))
            return BT_HTTP_RETRY_TRANSPORT;
        return idempotent && transient_transport(curl_code) ? BT_HTTP_RETRY_TRANSPORT
                                                            : BT_HTTP_RETRY_NONE;
    }
    if (status == 429)
        return BT_HTTP_RETRY_RATE_LIMITED;
    /* 501 Not Implemented will not change by asking again. */
    if (idempotent && status >= 500 && status <= 599 && status != 501)
        return BT_HTTP_RETRY_SERVER;
    return BT_HTTP_RETRY_NONE;
}

bool bt_http_unreachable(int curl_code, bool connected)
{
    return failed_before_send(curl_code) || (curl_code == CURLE_OPERATION_TIMEDOUT && !connected);
}

/* The TLS handshake failed: the request itself never left. */
static bool tls_refused(int code)
{
    return code == CURLE_SSL_CONNECT_ERROR || code == CURLE_PEER_FAILED_VERIFICATION ||
           code == CURLE_SSL_CERTPROBLEM || code == CURLE_SSL_CIPHER ||
           code == CURLE_SSL_CACERT_BADFILE;
}

bool bt_http_maybe_applied(const bt_http_response *r)
{
    if (r->attempts == 0)
        return false; /* refused before sending, or no time left to send */
    switch (r->outcome) {
    case BT_HTTP_TRANSPORT:
        /* ABORTED_BY_CALLBACK: the pre-request check refused the address */
        return r->curl_code != CURLE_OK && !failed_before_send(r->curl_code) &&
               !tls_refused(r->curl_code) && r->curl_code != CURLE_ABORTED_BY_CALLBACK;
    case BT_HTTP_TOO_LARGE:
    case BT_HTTP_NO_MEMORY: return true; /* answered, but the answer was not read */
    case BT_HTTP_DONE: return r->status >= 500 && r->status <= 599;
    }
    return true;
}

double bt_http_backoff(int retry, double start, double cap, double unit_random)
{
    double d = start;
    for (int i = 0; i < retry && d < cap; i++)
        d *= 2;
    if (d > cap)
        d = cap;
    if (unit_random < 0 || unit_random >= 1)
        unit_random = 0;
    return d / 2 + d / 2 * unit_random;
}

static bool all_digits(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (!isdigit((unsigned char)s[i]))
            return false;
    return n > 0;
}

double bt_http_parse_retry_after(const char *value, double now)
{
    while (*value == ' ' || *value == '\t')
        value++;
    size_t n = strlen(value);
    while (n && isspace((unsigned char)value[n - 1]))
        n--;
    if (all_digits(value, n)) {
        double secs = 0;
        for (size_t i = 0; i < n && secs < 1e9; i++)
            secs = secs * 10 + (value[i] - '0');
        return secs;
    }
    char date[64];
    if (n == 0 || n >= sizeof date)
        return -1;
    memcpy(date, value, n);
    date[n] = '\0';
    time_t t = curl_getdate(date, NULL);
    if (t == (time_t)-1)
        return -1;
    double wait = (double)t - now;
    return wait > 0 ? wait : 0;
}

void bt_http_pacer_set(bt_http_pacer *p, double per_minute)
{
    bt_http_pacer_lock(p);
    int limit = 0;
    double window = 0;
    if (per_minute > 0) {
        double burst = per_minute < BT_PACER_MAX_BURST ? per_minute : BT_PACER_MAX_BURST;
        limit = burst < 1 ? 1 : (int)burst;
        window = 60.0 * limit / per_minute;
    }
    /* A shared pacer keeps the other processes' sends when the rate is the same. */
    if (!p->lock || limit != p->limit || window != p->window)
        p->count = p->oldest = 0;
    p->limit = limit;
    p->window = window;
    bt_http_pacer_unlock(p);
}

/* The pacer's limit and window for a rate (the burst capped as in set). */
static void shape(double per_minute, int *limit, double *window)
{
    double burst = per_minute < BT_PACER_MAX_BURST ? per_minute : BT_PACER_MAX_BURST;
    *limit = burst < 1 ? 1 : (int)burst;
    *window = 60.0 * *limit / per_minute;
}

double bt_http_pacer_lower(bt_http_pacer *p, double factor)
{
    bt_http_pacer_lock(p);
    if (p->limit <= 0) {
        bt_http_pacer_unlock(p);
        return 0;
    }
    double now = 60.0 * p->limit / p->window, rate = now * factor;
    if (rate < 1)
        rate = 1;
    int limit;
    double window;
    shape(rate, &limit, &window);
    /* The last min(count, limit) sends, oldest first, laid out from slot 0. */
    double keep[BT_PACER_MAX_BURST];
    int k = p->count < limit ? p->count : limit;
    for (int i = 0; i < k; i++)
        keep[i] = p->sent[(p->oldest + p->count - k + i) % p->limit];
    memcpy(p->sent, keep, (size_t)k * sizeof keep[0]);
    p->count = k;
    p->oldest = 0;
    p->limit = limit;
    p->window = window;
    bt_http_pacer_unlock(p);
    return rate;
}

double bt_http_pacer_per_minute(const bt_http_pacer *p)
{
    return p->limit > 0 ? 60.0 * p->limit / p->window : 0;
}

/* The slot is reserved under the lock and slept for outside it, so pacers
 * shared between processes never hold the lock while sleeping. */
double bt_http_pacer_wait(bt_http_pacer *p)
{
    if (p->limit <= 0)
        return 0;
    bt_http_pacer_lock(p);
    double now = bt_clock_monotonic(), at = now;
    if (p->count == p->limit) {
        double free_at = p->sent[p->oldest] + p->window;
        if (free_at > now)
            at = free_at;
        p->oldest = (p->oldest + 1) % p->limit;
        p->count--;
    }
    p->sent[(p->oldest + p->count) % p->limit] = at;
    p->count++;
    bt_http_pacer_unlock(p);
    if (at > now)
        bt_clock_sleep(at - now);
    return at - now;
}
