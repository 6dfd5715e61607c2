/* GraphQL over the HTTP client, with no Lua (src/graphql/): the driver's C
 * API (options, write permission, counters, shutdown), the endpoint, one
 * request's transport, retries and re-ask budget, mutation detection. The
 * Lua binding bt.graphql is built on it in src/prim/ (bt/graphql_lua.h).
 * Nothing here knows a particular server's schema. */
#ifndef BT_GRAPHQL_H
#define BT_GRAPHQL_H
#include <stdbool.h>
#include <stddef.h>
#include "bt/http.h"

/* ---- the driver's API ---- */

typedef struct bt_graphql_options {
    double connect_timeout;            /* seconds (default 10) */
    double timeout;                    /* seconds per attempt (default 60) */
    int max_attempts;                  /* default 8 */
    double max_retry_wait;             /* seconds of retry waiting in all (default 900) */
    size_t max_response_bytes;         /* default 64 MiB */
    double reads_per_minute_override;  /* -1 = unset: the script's value holds */
    double writes_per_minute_override; /* -1 = unset; 0 = unpaced */
    double max_total_time;             /* seconds for one request with all its
                                        * retries (default 1800) */
    bool retry_unreachable;            /* bt_http_limits'; false by default */
} bt_graphql_options;

typedef struct bt_graphql_stats {
    long requests; /* HTTP attempts, retries included */
    long reads;    /* query documents executed */
    long writes;   /* mutation documents executed */
    long retries;  /* every cause's added up */
    long retries_by[BT_HTTP_RETRY_CAUSES]; /* by cause (bt_http_retry_causes) */
    long long bytes_received;
    double rate_limit_wait_seconds; /* slept on 429 */
    double backoff_wait_seconds;    /* slept before retrying 5xx/transport failures */
    double pacing_wait_seconds;     /* slept by reads/writes_per_minute pacing */
    long pages;                     /* pages handed to paginate's on_page */
} bt_graphql_stats;

void bt_graphql_default_options(bt_graphql_options *o);
/* NULL restores the defaults. Takes effect from the next request. */
/* A list's progress record (progress.c): console
 * `users 3,500/20,000 (17%) · 35/200 requests · ETA 2m45s`, JSON
 * {"msg":"progress","phase","done","total","requests","eta_s"} (total and
 * eta_s left out when the list has no totalCount). */
typedef struct {
    const char *phase;
    long long done, total; /* total -1: unknown */
    long requests;
    long long expected; /* requests the whole list takes; -1: unknown */
    long long eta_s;    /* -1: unknown; 0 at the list's end */
} bt_graphql_progress;
void bt_graphql_log_progress(const bt_graphql_progress *p);
/* Seconds as "45s", "2m45s", "1h02m". */
void bt_graphql_format_duration(long long s, char *out, size_t n);

/* The reads pace in force now (requests per minute; 0 = unpaced): the
 * script's or --reads-per-minute, as lowered after HTTP 429s. */
double bt_graphql_reads_per_minute(void);
double bt_graphql_writes_per_minute(void);
/* Called after each successful graphql.configure with the endpoint and the
 * pace (the driver's start line); NULL: none. */
typedef void (*bt_graphql_configured_fn)(const char *url, void *ud);
void bt_graphql_on_configure(bt_graphql_configured_fn fn, void *ud);

/* Pace through pacers shared with other processes (bt_http_pacers_share);
 * NULL, NULL goes back to this process's own. */
void bt_graphql_share_pacing(bt_http_pacer *reads, bt_http_pacer *writes);
void bt_graphql_set_options(const bt_graphql_options *o);
/* Mutations raise a Lua error unless allowed (the driver allows them only
 * under --provisioning). Default: refused. */
void bt_graphql_allow_writes(bool allow);
void bt_graphql_get_stats(bt_graphql_stats *out);
void bt_graphql_reset_stats(void);
/* Frees the curl handle and forgets the endpoint and key (configure must be
 * called again). Options, write permission and counters stay. Safe twice. */
void bt_graphql_shutdown(void);

/* ---- the operator's endpoint (operator.c): the one URL a secret goes to ---- */

/* What the connector's bundled endpoint file declares (all strings owned;
 * any may be NULL): the operator's full URL from config field url_config,
 * else template with "{name}" replaced by the name from config field
 * name_config; the secret in config field auth_config goes in header
 * auth_header; redirect_host_suffix applies to the template's URL only. */
typedef struct bt_endpoint_spec {
    char *url_config, *name_config, *template, *auth_header, *auth_config;
    char *redirect_host_suffix;
} bt_endpoint_spec;

/* The spec's fields by number (0 .. BT_ENDPOINT_SPEC_FIELDS - 1): the key in
 * the endpoint file, and the member its value goes to. */
#define BT_ENDPOINT_SPEC_FIELDS 6
extern const char *const bt_endpoint_spec_keys[BT_ENDPOINT_SPEC_FIELDS];
char **bt_endpoint_spec_slot(bt_endpoint_spec *spec, int i);
void bt_endpoint_spec_free(bt_endpoint_spec *spec);

/* The operator's endpoint from the spec and the resolved configuration. 0,
 * or -1 with the reason in err; either way the previous binding is gone, and
 * on failure every credentialed graphql.configure is refused with that
 * reason. A NULL spec: the connector declares no credentialed endpoint. */
int bt_graphql_bind_operator(const bt_endpoint_spec *spec, char *err, size_t errsz);
/* Bind url, header, config field and suffix directly (tests; copies). */
int bt_graphql_bind_operator_url(const char *url, const char *auth_header,
                                 const char *auth_config, const char *redirect_host_suffix);
void bt_graphql_unbind_operator(void);
/* The bound URL, NULL when none. */
const char *bt_graphql_operator_url(void);

struct bt_graphql_endpoint;
/* 0 when ep may carry its credentials: no auth_header/auth_config at all, or
 * exactly the bound url, header, config field and (absent or equal) redirect
 * suffix. -1 with the reason in err otherwise. */
int bt_graphql_operator_check(const struct bt_graphql_endpoint *ep, char *err, size_t errsz);

/* ---- the endpoint (set by graphql.configure) ---- */

typedef struct bt_graphql_endpoint {
    const char *url;
    const char *auth_header;       /* NULL: no auth header */
    const char *auth_config;       /* config field holding the header's value */
    const char *user_agent_suffix; /* NULL or appended to the User-Agent */
    /* NULL: redirects stay on url's host; else also https hosts ending in it
     * (like ".example.com"); url's host must end in it too. */
    const char *redirect_host_suffix;
    double reads_per_minute;       /* 0 = unpaced */
    double writes_per_minute;
    /* Phrases, one a line, that mark a GraphQL error at HTTP 2xx as a rate
     * limit (matched case-insensitively in its message): retried like a 429,
     * queries and mutations alike. NULL: none. */
    const char *rate_limit_errors;
} bt_graphql_endpoint;

/* 0, or -1 with a message in err (never containing the key). */
int bt_graphql_configure(const bt_graphql_endpoint *ep, char *err, size_t errsz);
bool bt_graphql_is_configured(void);

/* ---- pieces (exposed for the binding and the tests) ---- */

/* True when the document holds a mutation operation: a top-level `mutation`
 * keyword, after whitespace, commas, comments, strings and fragments. */
bool bt_graphql_is_mutation(const char *doc, size_t len);
/* The operation's name ("" when anonymous), for error messages. */
void bt_graphql_operation_name(const char *doc, size_t len, char *out, size_t n);

#define BT_JSON_MAX_DEPTH 200

/* The most nodes one connection is expected to hold unless the caller says
 * otherwise: far above any real list, low enough that a server answering
 * "more" forever is stopped (ceil(max / page size) pages). */
#define BT_GRAPHQL_MAX_NODES 10000000LL

/* One page of a walk: every time it is asked again because its answer was
 * damaged (a body that is not JSON, or a page of the wrong shape) counts
 * against one attempt cap and one --http-max-total-time deadline, not a cap
 * per layer. */
void bt_graphql_page_begin(void);
void bt_graphql_page_end(void);
/* Before asking the current query again because its answer was damaged:
 * false when the attempt cap or the deadline says stop; else count it in
 * retries_by[BT_HTTP_RETRY_DECODE], warn with `what`, sleep the backoff and return true. */
bool bt_graphql_reask(const char *what);

/* Count one page handed to on_page (for bt_graphql_get_stats). */
void bt_graphql_note_page(void);
/* ---- one request, for the binding (prim/graphql_exec.c) ---- */

/* 0 when a document may be sent now, with *write set when it is a mutation;
 * -1 with the reason in err when graphql.configure has not run or a mutation
 * comes while writes are refused. */
int bt_graphql_admit(const char *query, size_t qlen, bool *write, char *err, size_t errsz);
/* The request body, cleared, for the caller to fill. */
bt_http_buf *bt_graphql_body(void);
/* Count the document about to be sent (reads or writes) and log it. */
void bt_graphql_note_request(bool write);
/* One query's re-ask budget starts, unless a page under way holds one. */
void bt_graphql_query_begin(void);
/* POST the body once (with the HTTP client's own retries), within what is
 * left of the re-ask deadline. */
void bt_graphql_post(bool write, bt_http_response *resp);
/* After the last post of a document. */
void bt_graphql_query_end(void);
/* in with the endpoint's secret blanked out, into out[0..n). */
void bt_graphql_redact(const char *in, char *out, size_t n);
/* Whether a GraphQL error message holds one of the script's rate-limit
 * phrases (bt_graphql_endpoint.rate_limit_errors). */
bool bt_graphql_rate_limit_message(const char *msg);
/* Before asking again after a rate limit reported as a GraphQL error: like a
 * 429 (Retry-After when given, else backoff from 1 s to 60 s), within the
 * attempt cap, the wait budget and the total time. false: give up. */
bool bt_graphql_wait_rate_limited(int *tries, double *waited, const bt_http_response *resp);

/* ---- results (result.c): what a script is told, before Lua ---- */

typedef struct bt_graphql_error {
    const char *kind;   /* auth, endpoint, rate_limited, server, http, transport, decode, graphql */
    long status;        /* HTTP status; <= 0: none */
    char message[600];  /* the attempt count added, the session's secret blanked out */
    double retry_after; /* seconds; < 0: none */
} bt_graphql_error;

/* Fill e from kind, status and message for the result r. */
void bt_graphql_error_set(bt_graphql_error *e, const bt_http_response *r, const char *kind,
                          long status, const char *message);
/* The error r is before its body is read: a transport failure (kind
 * transport) or a body over the size cap (decode) is final; another non-2xx
 * status gets its kind and that kind's default message, which a message in
 * the body may replace. false for a 2xx, whose body decides. */
bool bt_graphql_http_error(const bt_http_response *r, bt_graphql_error *e);

#endif
