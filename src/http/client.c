/* The HTTP client: one libcurl easy handle reused across requests
 * (keep-alive), POST with retries, backoff, Retry-After and pacing, and
 * redirects followed here rather than by libcurl (see follow_redirects). */
#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt/clock.h"
#include "bt/http.h"
#include "bt/log.h"
#include "bt/secret.h"

struct bt_http_client {
    CURL *curl;
    struct curl_slist *headers;
    char *secret_header; /* header name whose value is never printed */
    char *secret_value;
    bt_http_buf body;
    size_t cap; /* max body bytes for the current request */
    bool over_cap, oom;
    bool connected; /* the latest attempt got a connection */
    bool answered;  /* some response came back since the client was made */
    bool refused;   /* a redirect the URL policy refused; why is in errbuf */
    bool plain_http; /* the exchange under way is http://: loopback only */
    char bad_ip[64]; /* the non-loopback address a plain-http exchange reached */
    double retry_after; /* of the latest response, -1 when absent */
    uint64_t rng;
    char errbuf[CURL_ERROR_SIZE];
};

static bt_http_stats g_stats;
static bool g_curl_ready;

const bt_http_stats *bt_http_stats_get(void) { return &g_stats; }

void bt_http_stats_reset(void) { memset(&g_stats, 0, sizeof g_stats); }

void bt_http_stats_count_rate_limit(double waited)
{
    g_stats.retries[BT_HTTP_RETRY_RATE_LIMITED]++;
    g_stats.rate_limit_wait += waited;
}

/* ---- libcurl callbacks ---- */

static size_t on_body(char *ptr, size_t size, size_t nmemb, void *ud)
{
    bt_http_client *c = ud;
    size_t n = size * nmemb;
    if (n > c->cap - c->body.len) {
        c->over_cap = true;
        return 0; /* aborts the transfer with CURLE_WRITE_ERROR */
    }
    if (bt_http_buf_append(&c->body, ptr, n) != 0) {
        c->oom = true;
        return 0;
    }
    g_stats.bytes_received += (long long)n;
    return n;
}

static void take_retry_after(bt_http_client *c, const char *v, size_t n)
{
    char value[128];
    if (n >= sizeof value)
        return;
    memcpy(value, v, n);
    value[n] = '\0';
    c->retry_after = bt_http_parse_retry_after(value, bt_clock_now());
}

static size_t on_header(char *buf, size_t size, size_t nitems, void *ud)
{
    bt_http_client *c = ud;
    size_t n = size * nitems;
    static const char ra[] = "retry-after:";
    if (n >= 5 && memcmp(buf, "HTTP/", 5) == 0)
        c->retry_after = -1; /* a new response in a redirect chain */
    else if (n > sizeof ra - 1 && strncasecmp(buf, ra, sizeof ra - 1) == 0)
        take_retry_after(c, buf + sizeof ra - 1, n - (sizeof ra - 1));
    return n;
}

/* Log each line of a header block or info text, secret blanked out. */
static void debug_lines(bt_http_client *c, const char *tag, const char *data, size_t size)
{
    char line[1024];
    while (size > 0) {
        const char *nl = memchr(data, '\n', size);
        size_t len = nl ? (size_t)(nl - data) : size;
        size_t next = nl ? len + 1 : len;
        if (len && data[len - 1] == '\r')
            len--;
        if (len) {
            bt_http_redact_line(data, len, c->secret_header, c->secret_value, line, sizeof line);
            bt_debug("http%s %s", tag, line);
        }
        data += next;
        size -= next;
    }
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    (void)h;
    if (type == CURLINFO_HEADER_OUT)
        debug_lines(ud, ">", data, size);
    else if (type == CURLINFO_HEADER_IN)
        debug_lines(ud, "<", data, size);
    else if (type == CURLINFO_TEXT)
        debug_lines(ud, "*", data, size);
    return 0; /* bodies and TLS records are never printed */
}

/* ---- creation ---- */

static struct curl_slist *add_header(struct curl_slist *list, const char *line)
{
    struct curl_slist *next = curl_slist_append(list, line);
    if (!next)
        curl_slist_free_all(list);
    return next;
}

/* The secret header line, built in a buffer that is wiped after copying. */
static struct curl_slist *add_secret_header(struct curl_slist *list, const char *name,
                                            const char *value)
{
    size_t n = strlen(name) + strlen(value) + 3;
    char *line = malloc(n);
    if (!line) {
        curl_slist_free_all(list);
        return NULL;
    }
    snprintf(line, n, "%s: %s", name, value);
    list = add_header(list, line);
    explicit_bzero(line, n);
    free(line);
    return list;
}

static struct curl_slist *build_headers(const char *secret_header, const char *secret_value)
{
    struct curl_slist *h = add_header(NULL, "Content-Type: application/json");
    if (h)
        h = add_header(h, "Accept: application/json");
    if (h)
        h = add_header(h, "Expect:"); /* no 100-continue round trip */
    if (h && secret_header)
        h = add_secret_header(h, secret_header, secret_value);
    return h;
}

static uint64_t seed(const void *p)
{
    uint64_t s = (uint64_t)(bt_clock_now() * 1e6) ^ (uint64_t)(uintptr_t)p;
    return s ? s : 0x9e3779b97f4a7c15ULL;
}

/* Called once the connection stands, before a byte of the request is sent:
 * plain http (only ever allowed to a loopback host, bt_http_url_check) must
 * have reached a loopback address, whatever the name resolved to. */
static int on_prereq(void *ud, char *primary_ip, char *local_ip, int primary_port, int local_port)
{
    bt_http_client *c = ud;
    (void)local_ip;
    (void)primary_port;
    (void)local_port;
    if (!c->plain_http || bt_http_ip_is_loopback(primary_ip))
        return CURL_PREREQFUNC_OK;
    snprintf(c->bad_ip, sizeof c->bad_ip, "%s", primary_ip ? primary_ip : "?");
    return CURL_PREREQFUNC_ABORT;
}

static bool set_fixed_options(bt_http_client *c, const char *user_agent)
{
    CURL *h = c->curl;
    bool ok = true;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, user_agent) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HTTPHEADER, c->headers) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https") == CURLE_OK;
    /* libcurl would resend our secret header to any host a Location names. */
    ok &= curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TCP_KEEPALIVE, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_DEBUGDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PREREQDATA, c) == CURLE_OK;
    ok &= bt_http_apply_ca_env(h);
    return ok;
}

static char *dup_or_null(const char *s, bool *ok)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        *ok = false;
    return d;
}

bt_http_client *bt_http_client_new(const char *user_agent, const char *secret_header,
                                   const char *secret_value)
{
    if (!g_curl_ready && curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK)
        return NULL;
    g_curl_ready = true;
    if ((secret_header == NULL) != (secret_value == NULL))
        return NULL;
    bt_http_client *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool ok = true;
    c->retry_after = -1;
    c->rng = seed(c);
    c->secret_header = dup_or_null(secret_header, &ok);
    c->secret_value = dup_or_null(secret_value, &ok);
    c->curl = ok ? curl_easy_init() : NULL;
    c->headers = c->curl ? build_headers(secret_header, secret_value) : NULL;
    if (!c->headers || !set_fixed_options(c, user_agent)) {
        bt_http_client_free(c);
        return NULL;
    }
    return c;
}

bool bt_http_client_pin_for_test(bt_http_client *c, struct curl_slist *resolve)
{
    return curl_easy_setopt(c->curl, CURLOPT_RESOLVE, resolve) == CURLE_OK;
}

void bt_http_client_free(bt_http_client *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    for (struct curl_slist *h = c->headers; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data)); /* the key is in there */
    curl_slist_free_all(c->headers);
    bt_secret_free(c->secret_value);
    free(c->secret_header);
    bt_http_buf_free(&c->body);
    free(c);
}

void bt_http_client_trim(bt_http_client *c)
{
    if (c && c->body.cap > (1u << 20))
        bt_http_buf_free(&c->body);
}

/* ---- one attempt ---- */

static bool set_request_options(bt_http_client *c, const bt_http_request *req, double timeout)
{
    const bt_http_limits *l = req->limits;
    CURL *h = c->curl;
    bool ok = true;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDS, req->body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)req->body_len) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, (long)(l->connect_timeout * 1000)) ==
          CURLE_OK;
    /* Never 0: libcurl reads 0 ms as "no timeout". */
    long timeout_ms = timeout * 1000 < 1 ? 1 : (long)(timeout * 1000);
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms) == CURLE_OK;
    /* Refuses early when Content-Length already says too much. */
    ok &= curl_easy_setopt(h, CURLOPT_MAXFILESIZE_LARGE, (curl_off_t)l->max_response_bytes) ==
          CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_VERBOSE, bt_log_enabled(BT_LOG_DEBUG) ? 1L : 0L) == CURLE_OK;
    return ok;
}

static void fill_outcome(bt_http_client *c, CURLcode rc, bt_http_response *r)
{
    r->curl_code = (int)rc;
    r->retry_after = c->retry_after;
    r->body = c->body.data ? c->body.data : "";
    r->body_len = c->body.len;
    if (c->over_cap || rc == CURLE_FILESIZE_EXCEEDED) {
        r->outcome = BT_HTTP_TOO_LARGE;
        snprintf(r->message, sizeof r->message, "response body exceeds the limit of %zu bytes",
                 c->cap);
    } else if (c->refused) {
        r->outcome = BT_HTTP_TRANSPORT;
        snprintf(r->message, sizeof r->message, "%s", c->errbuf);
    } else if (c->oom) {
        r->outcome = BT_HTTP_NO_MEMORY;
        snprintf(r->message, sizeof r->message, "out of memory reading the response");
    } else if (rc != CURLE_OK) {
        r->outcome = BT_HTTP_TRANSPORT;
        const char *detail = c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        if (!bt_http_tls_message(c->curl, (int)rc, detail, r->message, sizeof r->message))
            snprintf(r->message, sizeof r->message, "%s", detail);
    } else {
        r->outcome = BT_HTTP_DONE;
        r->message[0] = '\0';
    }
}

/* One request and its response on url; the body of a redirect is dropped
 * with the next call. */
static CURLcode exchange(bt_http_client *c, const char *url, long *status)
{
    bt_http_buf_clear(&c->body);
    c->over_cap = c->oom = false;
    c->retry_after = -1;
    c->errbuf[0] = '\0';
    CURLcode rc = CURLE_FAILED_INIT;
    c->plain_http = strncasecmp(url, "http://", 7) == 0;
    c->bad_ip[0] = '\0';
    if (curl_easy_setopt(c->curl, CURLOPT_URL, url) == CURLE_OK) {
        g_stats.requests++;
        rc = curl_easy_perform(c->curl);
    }
    if (c->bad_ip[0]) {
        c->refused = true;
        snprintf(c->errbuf, sizeof c->errbuf, "plain http refused: the host resolved to %s, "
                 "not a loopback address (nothing was sent; use https://)", c->bad_ip);
    }
    *status = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, status);
    return rc;
}

static bool is_redirect(long status)
{
    return status == 301 || status == 302 || status == 303 || status == 307 || status == 308;
}

/* The checked, copied target of the redirect just received; NULL with *rc,
 * c->refused or c->oom saying why not. */
static char *redirect_target(bt_http_client *c, const bt_http_request *req, int hops,
                             CURLcode *rc)
{
    if (hops == BT_HTTP_MAX_REDIRECTS) {
        snprintf(c->errbuf, sizeof c->errbuf, "more than %d redirects", BT_HTTP_MAX_REDIRECTS);
        *rc = CURLE_TOO_MANY_REDIRECTS;
        return NULL;
    }
    char *location = NULL;
    curl_easy_getinfo(c->curl, CURLINFO_REDIRECT_URL, &location);
    if (bt_http_redirect_check(req->url, location, req->redirect_host_suffix, c->errbuf,
                               sizeof c->errbuf) != 0) {
        c->refused = true;
        return NULL;
    }
    if (!(location = strdup(location)))
        c->oom = true;
    return location;
}

/* The attempt's timeout covers all its hops: the next one gets what is left.
 * False when nothing is. */
static bool hop_time_left(bt_http_client *c, double timeout, long long *spent_ms)
{
    curl_off_t us = 0;
    curl_easy_getinfo(c->curl, CURLINFO_TOTAL_TIME_T, &us);
    *spent_ms += (long long)(us / 1000);
    long long budget = (long long)(timeout * 1000);
    if (budget <= 0) /* no timeout set */
        return true;
    return *spent_ms < budget &&
           curl_easy_setopt(c->curl, CURLOPT_TIMEOUT_MS, (long)(budget - *spent_ms)) == CURLE_OK;
}

/* Follows up to BT_HTTP_MAX_REDIRECTS redirects, repeating the POST and its
 * body (all five codes keep them: a GraphQL GET would be another request).
 * libcurl would resend the secret header to any host; here each Location is
 * checked against the request's own url first, and a refused one ends the
 * attempt. */
static CURLcode follow_redirects(bt_http_client *c, const bt_http_request *req, double timeout,
                                 long *status)
{
    char *url = NULL;
    long long spent_ms = 0;
    CURLcode rc = exchange(c, req->url, status);
    for (int hops = 0; rc == CURLE_OK && is_redirect(*status); hops++) {
        char *next = redirect_target(c, req, hops, &rc);
        if (!next)
            break;
        free(url);
        url = next;
        if (!hop_time_left(c, timeout, &spent_ms)) {
            snprintf(c->errbuf, sizeof c->errbuf, "timed out following redirects");
            rc = CURLE_OPERATION_TIMEDOUT;
            break;
        }
        bt_debug("http: HTTP %ld redirect to %s", *status, url);
        rc = exchange(c, url, status);
    }
    free(url);
    return rc;
}

static void attempt(bt_http_client *c, const bt_http_request *req, double timeout,
                    bt_http_response *r)
{
    c->refused = false;
    c->cap = req->limits->max_response_bytes;
    CURLcode rc = CURLE_FAILED_INIT;
    r->status = 0;
    if (set_request_options(c, req, timeout))
        rc = follow_redirects(c, req, timeout, &r->status);
    curl_off_t connect_us = 0;
    curl_easy_getinfo(c->curl, CURLINFO_CONNECT_TIME_T, &connect_us);
    c->connected = connect_us > 0 || r->status > 0;
    c->answered |= r->status > 0;
    fill_outcome(c, rc, r);
}

/* ---- retries ---- */

static double unit_random(bt_http_client *c)
{
    uint64_t x = c->rng; /* xorshift64* */
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    c->rng = x;
    return (double)((x * 0x2545F4914F6CDD1DULL) >> 11) / 9007199254740992.0;
}

static double retry_delay(bt_http_client *c, bt_http_retry_cause cause, const bt_http_response *r,
                          int retry)
{
    if (cause == BT_HTTP_RETRY_RATE_LIMITED && r->retry_after >= 0)
        return r->retry_after;
    return bt_http_backoff(retry, 1.0, 60.0, unit_random(c));
}

static void count_retry(bt_http_retry_cause cause, double waited)
{
    g_stats.retries[cause]++;
    if (bt_http_retry_causes[cause].throttled)
        g_stats.rate_limit_wait += waited;
    else
        g_stats.backoff_wait += waited;
}

/* The pace after a 429: each request whose first answer is 429 lowers its
 * pacer by this factor for the rest of the run (multiplicative decrease; a
 * server whose limit is below ours is met within a few 429s). */
#define PACE_DECREASE 0.75

static bool g_said_429; /* the first 429 of the run was told at warn */

static void slow_down(const bt_http_request *req)
{
    double was = req->pacer ? bt_http_pacer_per_minute(req->pacer) : 0;
    double now = req->pacer ? bt_http_pacer_lower(req->pacer, PACE_DECREASE) : 0;
    if (now > 0 && !g_said_429)
        bt_warn("http: rate limited by the server (HTTP 429): pace lowered from %.0f to %.0f "
                "requests/min for the rest of the run", was, now);
    else if (now > 0)
        bt_debug("http: HTTP 429 again: pace lowered from %.0f to %.0f requests/min", was, now);
    else if (!g_said_429)
        bt_warn("http: rate limited by the server (HTTP 429); retrying after its wait "
                "(client-side pacing is off)");
    g_said_429 = true;
}

static void describe(const bt_http_response *r, char *out, size_t n)
{
    if (r->outcome == BT_HTTP_DONE)
        snprintf(out, n, "HTTP %ld", r->status);
    else
        snprintf(out, n, "%s", r->message);
}

/* Sleeps before the next attempt; false when the wait budget or the
 * request's total time cap says stop. */
static bool wait_before_retry(bt_http_client *c, const bt_http_request *req,
                              bt_http_retry_cause cause, const bt_http_response *r, double *waited,
                              double deadline)
{
    char what[300];
    describe(r, what, sizeof what);
    double wait = retry_delay(c, cause, r, r->attempts - 1);
    if (*waited + wait > req->limits->max_retry_wait) {
        bt_warn("http: %s; not retrying: waiting %.1f s more would exceed the %.0f s budget", what,
                wait, req->limits->max_retry_wait);
        return false;
    }
    if (bt_clock_monotonic() + wait >= deadline) {
        bt_warn("http: %s; not retrying: waiting %.1f s more would pass the %g s cap on one "
                "request's total time",
                what, wait, req->limits->max_total_time);
        return false;
    }
    /* 429s are told once (slow_down) and counted in the summary. */
    bt_log(cause == BT_HTTP_RETRY_RATE_LIMITED ? BT_LOG_DEBUG : BT_LOG_WARN,
           "http: %s; retrying in %.1f s (attempt %d of %d)", what, wait, r->attempts + 1,
           req->limits->max_attempts);
    bt_clock_sleep(wait);
    *waited += wait;
    count_retry(cause, wait);
    return true;
}

static bt_http_outcome refuse_url(bt_http_response *r)
{
    r->outcome = BT_HTTP_TRANSPORT;
    r->body = "";
    return r->outcome;
}

/* "host[:port]" of an http(s) URL (already checked by bt_http_url_check). */
static void url_host(const char *url, char *out, size_t n)
{
    const char *p = strstr(url, "://");
    p = p ? p + 3 : url;
    size_t len = strcspn(p, "/?#");
    snprintf(out, n, "%.*s", (int)len, p);
}

/* A host that never answered and cannot be reached now: fail at once, naming
 * it, instead of minutes of retries against a wrong name or a closed port. */
static bool unreachable_from_the_start(bt_http_client *c, const bt_http_request *req,
                                       bt_http_response *r)
{
    if (c->answered || !bt_http_unreachable(r->curl_code, c->connected))
        return false;
    char host[64], why[sizeof r->message];
    url_host(req->url, host, sizeof host);
    memcpy(why, r->message, sizeof why);
    snprintf(r->message, sizeof r->message, "cannot reach %.60s: %.140s (not retried: it has not "
             "answered yet)", host, why);
    return true;
}

/* Seconds the next attempt may take: the per-attempt timeout, cut to what is
 * left of the request's total time (<= 0 when nothing is). */
static double attempt_timeout(const bt_http_limits *l, double deadline)
{
    double left = deadline - bt_clock_monotonic();
    return left < l->timeout ? left : l->timeout;
}

static bt_http_outcome out_of_time(bt_http_response *r, const bt_http_limits *l)
{
    r->outcome = BT_HTTP_TRANSPORT;
    r->body = r->body ? r->body : "";
    snprintf(r->message, sizeof r->message, "gave up: the %g s cap on one request's total "
             "time (--http-max-total-time) ran out", l->max_total_time);
    return r->outcome;
}

bt_http_outcome bt_http_post(bt_http_client *c, const bt_http_request *req, bt_http_response *resp)
{
    memset(resp, 0, sizeof *resp);
    resp->retry_after = -1;
    bool loopback;
    if (bt_http_url_check(req->url, &loopback, resp->message, sizeof resp->message) != 0)
        return refuse_url(resp);
    const bt_http_limits *l = req->limits;
    int max = l->max_attempts < 1 ? 1 : l->max_attempts;
    double waited = 0;
    double deadline = l->max_total_time > 0 ? bt_clock_monotonic() + l->max_total_time : 1e300;
    for (int n = 1;; n++) {
        if (req->pacer)
            g_stats.pacing_wait += bt_http_pacer_wait(req->pacer);
        double timeout = attempt_timeout(l, deadline);
        if (timeout <= 0.001)
            return out_of_time(resp, l);
        attempt(c, req, timeout, resp);
        resp->attempts = n;
        bt_http_retry_cause cause =
            bt_http_retry_cause_of(resp->curl_code, resp->status, req->idempotent);
        if (cause == BT_HTTP_RETRY_NONE ||
            (!l->retry_unreachable && unreachable_from_the_start(c, req, resp)))
            break;
        if (cause == BT_HTTP_RETRY_RATE_LIMITED && n == 1)
            slow_down(req);
        if (n >= max) {
            bt_warn("http: giving up after %d attempts", n);
            break;
        }
        if (!wait_before_retry(c, req, cause, resp, &waited, deadline))
            break;
    }
    return resp->outcome;
}
