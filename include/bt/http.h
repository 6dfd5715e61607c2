/* A small HTTP client for JSON POSTs over libcurl: one reused easy handle
 * (keep-alive), TLS verification always on, gzip, redirects that keep POST
 * and go only where the URL policy allows,
 * retries with backoff and Retry-After, pacing, a response size cap and a
 * secret header that never reaches the logs. It knows nothing of Lua or GraphQL. */
#ifndef BT_HTTP_H
#define BT_HTTP_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "bt/buf.h"

/* ---- the byte buffer is the codec's (bt/buf.h) ----
 * bt_http_buf* are its old names, kept while other branches still use them;
 * new code says bt_buf. */

typedef bt_buf bt_http_buf;
#define bt_http_buf_reserve bt_buf_reserve
#define bt_http_buf_append bt_buf_append
#define bt_http_buf_puts bt_buf_puts
#define bt_http_buf_clear bt_buf_clear
#define bt_http_buf_free bt_buf_free

/* ---- URL policy ---- */

/* 0 when url is https://, or http:// on a loopback host (127.0.0.0/8, ::1,
 * localhost); *loopback tells which. -1 with a message in err otherwise
 * (also for credentials in the URL). */
int bt_http_url_check(const char *url, bool *loopback, char *err, size_t errsz);
/* True for a loopback IP address in text form (127.0.0.0/8, ::1, ::ffff:127.x).
 * A loopback host by name is checked again on the address actually
 * connected: plain http to anything else is aborted before a byte is sent. */
bool bt_http_ip_is_loopback(const char *ip);

/* Whether a redirect may carry the secret header from `origin` (the url the
 * caller configured) to `target` (an absolute Location). Allowed: a target
 * that passes bt_http_url_check and is the origin's own host and port, or,
 * when suffix is set (like ".example.com"), an https host on port 443 whose
 * name ends in suffix. Refused always: https to http, a loopback origin to a
 * non-loopback host. 0, or -1 with a message naming the refused host. */
int bt_http_redirect_check(const char *origin, const char *target, const char *suffix, char *err,
                           size_t errsz);
/* host ends in suffix (case-insensitive) and is longer than it. */
bool bt_http_host_has_suffix(const char *host, const char *suffix);

/* ---- pacing: at most N requests of one class in any 60 s window ----
 * A sliding window: a burst of up to N goes out at once, then each request
 * waits for the oldest of the last N to leave the window. That stays within
 * a server limit of N per minute, counted in fixed or sliding minutes, while
 * a small job never waits. Rates above BT_PACER_MAX_BURST per minute keep the
 * same average with a burst of BT_PACER_MAX_BURST in a shorter window. */

#define BT_PACER_MAX_BURST 240

typedef struct bt_http_pacer {
    void *lock;     /* a process-shared mutex when shared (pacer_shared.c), else NULL */
    int limit;      /* requests allowed per window; 0 = unpaced */
    double window;  /* seconds */
    int count;      /* sends remembered (<= limit) */
    int oldest;     /* ring index of the oldest remembered send */
    double sent[BT_PACER_MAX_BURST]; /* bt_clock_monotonic() times */
} bt_http_pacer;

/* per_minute <= 0 means unpaced. A new rate forgets earlier sends. */
void bt_http_pacer_set(bt_http_pacer *p, double per_minute);
/* After the server said 429: the rate times factor (at least 1 a minute),
 * keeping the sends already made in the window, so that the lower rate holds
 * from now on. Returns the new rate; 0 (and nothing changed) when unpaced. */
double bt_http_pacer_lower(bt_http_pacer *p, double factor);
/* The rate set, in requests per minute (0 = unpaced). */
double bt_http_pacer_per_minute(const bt_http_pacer *p);
/* Sleeps (bt_clock_sleep) until a send fits the window, records it; returns
 * seconds slept. */
double bt_http_pacer_wait(bt_http_pacer *p);

/* Pacers in shared memory, for processes forked after this call: every
 * process then counts its sends in the same windows. NULL when mmap fails. */
typedef struct bt_http_shared_pacers bt_http_shared_pacers;
bt_http_shared_pacers *bt_http_pacers_share(void);
bt_http_pacer *bt_http_shared_reads(bt_http_shared_pacers *s);
bt_http_pacer *bt_http_shared_writes(bt_http_shared_pacers *s);
/* Take / release p->lock (no-ops for an unshared pacer). */
void bt_http_pacer_lock(bt_http_pacer *p);
void bt_http_pacer_unlock(bt_http_pacer *p);

/* ---- retry policy (pure functions, unit-tested) ---- */

typedef enum {
    BT_HTTP_RETRY_NONE = 0,
    BT_HTTP_RETRY_RATE_LIMITED, /* 429 */
    BT_HTTP_RETRY_SERVER,       /* 5xx other than 501 */
    BT_HTTP_RETRY_TRANSPORT,    /* connect, timeout, reset, ... */
    BT_HTTP_RETRY_DECODE,       /* a query's answer mangled (counted by graphql/) */
    BT_HTTP_RETRY_CAUSES        /* the number of causes, NONE included */
} bt_http_retry_cause;

/* One row per retry cause (retry.c): adding a cause is one enum value and one
 * row; the counters, graphql.stats() and the summaries follow the table. */
typedef struct bt_http_retry_cause_info {
    const char *key;   /* graphql.stats() key "retries_<key>" */
    const char *label; /* the sync summary's word ("rate limited") */
    bool throttled;    /* its wait is the server's throttling (429), else backoff */
} bt_http_retry_cause_info;

/* Indexed by bt_http_retry_cause; [BT_HTTP_RETRY_NONE] has NULL names. */
extern const bt_http_retry_cause_info bt_http_retry_causes[BT_HTTP_RETRY_CAUSES];

/* Why an attempt may be retried. curl_code is a CURLcode (0 when a response
 * arrived). A non-idempotent request (a mutation) is retried only when it
 * certainly was not applied: 429, or the connection failed before sending. */
bt_http_retry_cause bt_http_retry_cause_of(int curl_code, long status, bool idempotent);
/* The host could not be reached at all: its name did not resolve, the
 * connection was refused or unreachable, or connecting timed out (connected
 * false). Not retried while the host has never answered in this run. */
bool bt_http_unreachable(int curl_code, bool connected);
/* Exponential backoff with jitter: d = min(cap, start * 2^retry) and the
 * result is in [d/2, d]; unit_random in [0,1) picks the point. */
double bt_http_backoff(int retry, double start, double cap, double unit_random);
/* Retry-After as delta-seconds or an HTTP-date; seconds to wait from `now`
 * (epoch seconds), clamped at 0. Returns -1 when the value is not valid. */
double bt_http_parse_retry_after(const char *value, double now);

/* ---- redaction of the secret header in debug output ---- */

/* Copy one header line to out (NUL-terminated, truncated to outsz), replacing
 * the value of header `name` (case-insensitive) with [REDACTED] and every
 * occurrence of `secret` anywhere with [REDACTED]. name/secret may be NULL.
 * Returns the length written. */
size_t bt_http_redact_line(const char *line, size_t len, const char *name, const char *secret,
                           char *out, size_t outsz);

/* ---- trust store ---- */

/* Apply SSL_CERT_FILE / SSL_CERT_DIR (when set) to a CURL easy handle, as
 * CA file / CA dir. Every handle the binary opens calls this. */
bool bt_http_apply_ca_env(void *curl);
/* tls_message.c: for a certificate that failed verification, "TLS:
 * certificate not trusted for <host> (<detail>)..." in out and true. */
bool bt_http_tls_message(void *curl, int curl_code, const char *detail, char *out, size_t n);

/* ---- the client ---- */

typedef struct bt_http_limits {
    double connect_timeout;    /* seconds */
    double timeout;            /* seconds, whole attempt */
    int max_attempts;          /* attempts in all, >= 1 */
    double max_retry_wait;     /* seconds of backoff/Retry-After waiting in all */
    size_t max_response_bytes; /* decoded body bytes */
    double max_total_time;     /* seconds for one request, attempts and waits
                                * together; 0 = no cap beyond the above */
    bool retry_unreachable;    /* false: a host that never answered fails at once
                                * (a one-shot run); true: retried like any
                                * transport failure (a daemon rides out a blip) */
} bt_http_limits;

typedef struct bt_http_stats {
    long requests; /* attempts sent, retries included */
    long retries[BT_HTTP_RETRY_CAUSES]; /* by cause (DECODE: graphql/'s) */
    long long bytes_received; /* response body bytes (after gzip decoding) */
    double rate_limit_wait;   /* seconds slept because of 429 */
    double backoff_wait;      /* seconds slept before retrying 5xx/transport */
    double pacing_wait;       /* seconds slept by the pacers */
} bt_http_stats;

typedef enum {
    BT_HTTP_DONE = 0,  /* a final response arrived; see status */
    BT_HTTP_TRANSPORT, /* connect/TLS/timeout/redirect failure; see message */
    BT_HTTP_TOO_LARGE, /* body over max_response_bytes */
    BT_HTTP_NO_MEMORY
} bt_http_outcome;

typedef struct bt_http_request {
    const char *url;
    const char *body;
    size_t body_len;
    bool idempotent;      /* false: retried only when certainly not applied */
    bt_http_pacer *pacer; /* may be NULL */
    const bt_http_limits *limits;
    /* NULL: redirects are followed only within url's own host and port; else
     * also to https hosts ending in it (bt_http_redirect_check). */
    const char *redirect_host_suffix;
} bt_http_request;

#define BT_HTTP_MAX_REDIRECTS 5

typedef struct bt_http_response {
    bt_http_outcome outcome;
    long status;      /* last HTTP status (0 when none) */
    const char *body; /* NUL-terminated, owned by the client, valid until the next post */
    size_t body_len;
    double retry_after; /* seconds from the last response's Retry-After; -1 when absent */
    int attempts;
    int curl_code;     /* CURLcode of the last attempt */
    char message[256]; /* why, for TRANSPORT/TOO_LARGE */
} bt_http_response;

typedef struct bt_http_client bt_http_client;

/* user_agent is required; secret_header/secret_value (both or neither) are
 * sent on every request and redacted in debug output. NULL when libcurl
 * cannot be initialised. */
bt_http_client *bt_http_client_new(const char *user_agent, const char *secret_header,
                                   const char *secret_value);
void bt_http_client_free(bt_http_client *c);
/* Tests only: pin name resolution ("host:port:address" entries, as
 * CURLOPT_RESOLVE takes them; the list stays the caller's until the client
 * is freed). */
struct curl_slist;
bool bt_http_client_pin_for_test(bt_http_client *c, struct curl_slist *resolve);
/* Whether the server may have carried out a request that ended with *r,
 * judged from the transport alone: true when it was sent and no complete
 * answer came back (cut off, timed out after sending, unreadable, or a 5xx
 * that a gateway may have sent after the server acted). False when it never
 * left (refused connection, unknown name, TLS handshake failure) or a
 * complete 1xx-4xx answer arrived. A 2xx whose body cannot be decoded is the
 * caller's to judge. */
bool bt_http_maybe_applied(const bt_http_response *r);
/* POST with retries. Fills *resp; returns resp->outcome. */
bt_http_outcome bt_http_post(bt_http_client *c, const bt_http_request *req, bt_http_response *resp);
/* Counters add up across clients until bt_http_stats_reset(). */
const bt_http_stats *bt_http_stats_get(void);
/* Count one retry after a rate limit the caller recognised in a 2xx answer
 * (a GraphQL error saying so), and the seconds it waited. */
void bt_http_stats_count_rate_limit(double waited);
void bt_http_stats_reset(void);
/* Release the shrinkable memory a big response left behind. */
void bt_http_client_trim(bt_http_client *c);

#endif
