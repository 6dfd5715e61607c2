/* The process-wide GraphQL endpoint: options from the driver, the endpoint
 * from graphql.configure, the HTTP client, pacers and counters. */
#include <curl/curl.h>
#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/clock.h"
#include "bt/config.h"
#include "bt/graphql.h"
#include "bt/log.h"

typedef struct session {
    bool configured;
    char *url;
    char *auth_header;
    char *redirect_host_suffix; /* NULL: redirects only to url's own host */
    char *rate_limit_errors;    /* bt_graphql_endpoint's; NULL: none */
    char *secret; /* the header's value; wiped when forgotten */
    char user_agent[256];
    double reads_per_minute, writes_per_minute; /* the script's */
    bt_http_pacer reads, writes;
    bt_http_client *client;
    bt_http_buf body; /* request body, reused */
} session;

static session S;
/* Pacers shared with other processes (service mode), else S's own. */
static bt_http_pacer *g_shared_reads, *g_shared_writes;

static bt_http_pacer *reads_pacer(void) { return g_shared_reads ? g_shared_reads : &S.reads; }
static bt_http_pacer *writes_pacer(void) { return g_shared_writes ? g_shared_writes : &S.writes; }

void bt_graphql_share_pacing(bt_http_pacer *reads, bt_http_pacer *writes)
{
    g_shared_reads = reads;
    g_shared_writes = writes;
}
static bt_graphql_options g_opts = {10, 60, 8, 900, (size_t)64 << 20, -1, -1, 1800, false};
static bool g_allow_writes;
static long g_reads, g_writes, g_pages, g_decode_retries;

void bt_graphql_default_options(bt_graphql_options *o)
{
    *o = (bt_graphql_options){10, 60, 8, 900, (size_t)64 << 20, -1, -1, 1800, false};
}

static void apply_pacing(void)
{
    double r = g_opts.reads_per_minute_override >= 0 ? g_opts.reads_per_minute_override
                                                     : S.reads_per_minute;
    double w = g_opts.writes_per_minute_override >= 0 ? g_opts.writes_per_minute_override
                                                      : S.writes_per_minute;
    bt_http_pacer_set(reads_pacer(), r);
    bt_http_pacer_set(writes_pacer(), w);
}

void bt_graphql_set_options(const bt_graphql_options *o)
{
    if (o)
        g_opts = *o;
    else
        bt_graphql_default_options(&g_opts);
    apply_pacing();
}

void bt_graphql_allow_writes(bool allow) { g_allow_writes = allow; }

double bt_graphql_reads_per_minute(void) { return bt_http_pacer_per_minute(reads_pacer()); }
double bt_graphql_writes_per_minute(void) { return bt_http_pacer_per_minute(writes_pacer()); }

static bt_graphql_configured_fn g_on_configure;
static void *g_on_configure_ud;

void bt_graphql_on_configure(bt_graphql_configured_fn fn, void *ud)
{
    g_on_configure = fn;
    g_on_configure_ud = ud;
}

void bt_graphql_note_page(void) { g_pages++; }

void bt_graphql_get_stats(bt_graphql_stats *out)
{
    const bt_http_stats *h = bt_http_stats_get();
    memset(out, 0, sizeof *out);
    out->requests = h->requests;
    out->reads = g_reads;
    out->writes = g_writes;
    for (int c = 0; c < BT_HTTP_RETRY_CAUSES; c++)
        out->retries_by[c] = h->retries[c];
    out->retries_by[BT_HTTP_RETRY_DECODE] = g_decode_retries;
    for (int c = 0; c < BT_HTTP_RETRY_CAUSES; c++)
        out->retries += out->retries_by[c];
    out->bytes_received = h->bytes_received;
    out->rate_limit_wait_seconds = h->rate_limit_wait;
    out->backoff_wait_seconds = h->backoff_wait;
    out->pacing_wait_seconds = h->pacing_wait;
    out->pages = g_pages;
}

void bt_graphql_reset_stats(void)
{
    bt_http_stats_reset();
    g_reads = g_writes = g_pages = g_decode_retries = 0;
}

static void forget_secret(void)
{
    if (S.secret) {
        explicit_bzero(S.secret, strlen(S.secret));
        free(S.secret);
    }
    S.secret = NULL;
}

void bt_graphql_shutdown(void)
{
    bt_http_client_free(S.client);
    forget_secret();
    free(S.url);
    free(S.auth_header);
    free(S.redirect_host_suffix);
    free(S.rate_limit_errors);
    bt_http_buf_free(&S.body);
    memset(&S, 0, sizeof S);
}

bool bt_graphql_is_configured(void) { return S.configured; }

/* ---- configure ---- */

static int fail(char *err, size_t errsz, const char *a, const char *b)
{
    snprintf(err, errsz, "%s%s", a, b ? b : "");
    return -1;
}

/* RFC 9110 token characters. */
static bool header_name_ok(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("!#$%&'*+-.^_`|~", *s) &&
            !((*s >= '0' && *s <= '9') || (*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z')))
            return false;
    return true;
}

static bool printable(const char *s, bool allow_space)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s == 0x7f || (!allow_space && *s == ' '))
            return false;
    return true;
}

/* The key from the config store, checked; NULL with err filled. Messages
 * name the field, never the value. */
static const char *auth_value(const bt_graphql_endpoint *ep, char *err, size_t errsz)
{
    if (!header_name_ok(ep->auth_header)) {
        fail(err, errsz, "auth_header is not a valid header name", NULL);
        return NULL;
    }
    if (!ep->auth_config) {
        fail(err, errsz, "auth_header needs auth_config (the config field holding its value)",
             NULL);
        return NULL;
    }
    const char *v = bt_config_get(ep->auth_config);
    if (!v || !*v)
        fail(err, errsz, "configuration field is not set: ", ep->auth_config);
    else if (!printable(v, true))
        fail(err, errsz, "configuration field holds control characters: ", ep->auth_config);
    else
        return v;
    return NULL;
}

/* ".example.com" or deeper: a leading dot, then at least two host labels
 * (so never a bare top-level domain), and the url's own host inside it. */
static bool redirect_suffix_ok(const char *suffix, const char *url)
{
    static const char host_chars[] = "abcdefghijklmnopqrstuvwxyz"
                                     "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-.";
    size_t n = strlen(suffix);
    const char *labels = suffix + 1;
    if (n < 4 || n > 253 || suffix[0] != '.' || labels[0] == '.' || suffix[n - 1] == '.')
        return false;
    if (!strchr(labels, '.') || strstr(labels, "..") || strspn(labels, host_chars) != n - 1)
        return false;
    CURLU *u = curl_url();
    char *host = NULL;
    bool inside = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
                  curl_url_get(u, CURLUPART_HOST, &host, 0) == CURLUE_OK &&
                  bt_http_host_has_suffix(host, suffix);
    curl_free(host);
    curl_url_cleanup(u);
    return inside;
}

static int check_endpoint(const bt_graphql_endpoint *ep, const char **key, char *err, size_t errsz)
{
    bool loopback;
    char why[200];
    *key = NULL;
    if (!ep->url || bt_http_url_check(ep->url, &loopback, why, sizeof why) != 0)
        return fail(err, errsz, "url: ", ep->url ? why : "missing");
    if (ep->user_agent_suffix &&
        (strlen(ep->user_agent_suffix) > 100 || !printable(ep->user_agent_suffix, true)))
        return fail(err, errsz, "user_agent_suffix must be printable and at most 100 bytes", NULL);
    if (ep->redirect_host_suffix && !redirect_suffix_ok(ep->redirect_host_suffix, ep->url))
        return fail(err, errsz, "redirect_host_suffix must look like \".example.com\" and the "
                    "url's host must end in it", NULL);
    if (ep->reads_per_minute < 0 || ep->writes_per_minute < 0)
        return fail(err, errsz, "reads_per_minute and writes_per_minute must be >= 0", NULL);
    if (bt_graphql_operator_check(ep, err, errsz) != 0)
        return -1;
    if (ep->auth_header && !(*key = auth_value(ep, err, errsz)))
        return -1;
    return 0;
}

static void set_user_agent(const char *suffix)
{
    snprintf(S.user_agent, sizeof S.user_agent, BT_PROGRAM "/%s (+libcurl)%s%s", BT_VERSION,
             suffix ? " " : "", suffix ? suffix : "");
}

int bt_graphql_configure(const bt_graphql_endpoint *ep, char *err, size_t errsz)
{
    const char *key;
    if (check_endpoint(ep, &key, err, errsz) != 0)
        return -1;
    bt_graphql_shutdown();
    S.url = strdup(ep->url);
    S.auth_header = key ? strdup(ep->auth_header) : NULL;
    S.secret = key ? strdup(key) : NULL;
    S.redirect_host_suffix = ep->redirect_host_suffix ? strdup(ep->redirect_host_suffix) : NULL;
    S.rate_limit_errors = ep->rate_limit_errors ? strdup(ep->rate_limit_errors) : NULL;
    set_user_agent(ep->user_agent_suffix);
    if (!S.url || (key && (!S.auth_header || !S.secret)) ||
        (ep->redirect_host_suffix && !S.redirect_host_suffix))
        S.client = NULL;
    else
        S.client = bt_http_client_new(S.user_agent, S.auth_header, S.secret);
    if (!S.client) {
        bt_graphql_shutdown();
        return fail(err, errsz, "cannot initialise the HTTP client (libcurl)", NULL);
    }
    S.reads_per_minute = ep->reads_per_minute;
    S.writes_per_minute = ep->writes_per_minute;
    apply_pacing();
    S.configured = true;
    bt_debug("graphql: endpoint %s, reads/min %g, writes/min %g", S.url,
             bt_http_pacer_per_minute(reads_pacer()), bt_http_pacer_per_minute(writes_pacer()));
    if (g_on_configure)
        g_on_configure(S.url, g_on_configure_ud);
    return 0;
}

/* ---- one request, for prim/graphql_exec.c ---- */

int bt_graphql_admit(const char *query, size_t qlen, bool *write, char *err, size_t errsz)
{
    *write = false;
    if (!S.configured)
        return fail(err, errsz, "call graphql.configure{} first", NULL);
    *write = bt_graphql_is_mutation(query, qlen);
    if (*write && !g_allow_writes)
        return fail(err, errsz, "mutation refused: writes are allowed only in the provisioning "
                    "phase (--provisioning)", NULL);
    return 0;
}

bt_http_buf *bt_graphql_body(void)
{
    bt_http_buf_clear(&S.body);
    return &S.body;
}

void bt_graphql_note_request(bool write)
{
    if (write)
        g_writes++;
    else
        g_reads++;
    bt_debug("graphql: POST %s (%s, %zu bytes)", S.url, write ? "mutation" : "query", S.body.len);
}

static bt_http_limits limits(void)
{
    return (bt_http_limits){g_opts.connect_timeout, g_opts.timeout, g_opts.max_attempts,
                            g_opts.max_retry_wait, g_opts.max_response_bytes,
                            g_opts.max_total_time, g_opts.retry_unreachable};
}

/* Re-asks of damaged answers: of one page while a walk has begun one, else
 * of one query. */
static struct {
    bool page;       /* a page is under way: its state spans several queries */
    int used;        /* re-asks so far */
    double deadline; /* monotonic */
} g_reask;

static void reask_reset(void)
{
    g_reask.used = 0;
    g_reask.deadline = bt_clock_monotonic() + g_opts.max_total_time;
}

void bt_graphql_page_begin(void)
{
    reask_reset();
    g_reask.page = true;
}

void bt_graphql_page_end(void)
{
    g_reask.page = false;
}

bool bt_graphql_reask(const char *what)
{
    int max = g_opts.max_attempts > 1 ? g_opts.max_attempts : 1;
    double wait = bt_http_backoff(g_reask.used, 0.5, 30, (double)rand() / RAND_MAX);
    if (g_reask.used + 1 >= max || bt_clock_monotonic() + wait >= g_reask.deadline)
        return false;
    g_reask.used++;
    g_decode_retries++;
    bt_warn("graphql: %s; asking again in %.1f s (attempt %d of %d)", what, wait,
            g_reask.used + 1, max);
    bt_clock_sleep(wait);
    return true;
}

void bt_graphql_query_begin(void)
{
    /* Asking again after a mangled answer stays inside the same total cap
     * (the page's, when a walk asks for one). */
    if (!g_reask.page)
        reask_reset();
}

void bt_graphql_post(bool write, bt_http_response *resp)
{
    bt_http_limits lim = limits();
    bt_http_request req = {.url = S.url,
                           .body = S.body.data,
                           .body_len = S.body.len,
                           .idempotent = !write,
                           .pacer = write ? writes_pacer() : reads_pacer(),
                           .limits = &lim,
                           .redirect_host_suffix = S.redirect_host_suffix};
    lim.max_total_time = g_reask.deadline - bt_clock_monotonic();
    if (lim.max_total_time < 0.001)
        lim.max_total_time = 0.001;
    bt_http_post(S.client, &req, resp);
}

void bt_graphql_query_end(void) { bt_http_client_trim(S.client); }

void bt_graphql_redact(const char *in, char *out, size_t n)
{
    bt_http_redact_line(in, strlen(in), NULL, S.secret, out, n);
}

/* Whether hay holds needle[0..n), ignoring ASCII case. */
static bool contains_nocase(const char *hay, const char *needle, size_t n)
{
    for (; n && *hay; hay++) {
        size_t i = 0;
        while (i < n && hay[i] && tolower((unsigned char)hay[i]) == tolower((unsigned char)needle[i]))
            i++;
        if (i == n)
            return true;
    }
    return false;
}

bool bt_graphql_rate_limit_message(const char *msg)
{
    bool hit = false;
    for (const char *p = S.rate_limit_errors; p && msg && *p && !hit;) {
        size_t len = strcspn(p, "\n");
        hit = len > 0 && contains_nocase(msg, p, len);
        p += len + (p[len] == '\n');
    }
    return hit;
}

/* Before asking again after a rate limit reported as a GraphQL error: like a
 * 429 (Retry-After when given, else backoff from 1 s to 60 s), within the
 * attempt cap, the wait budget and the total time. false: give up. */
bool bt_graphql_wait_rate_limited(int *tries, double *waited, const bt_http_response *resp)
{
    int max = g_opts.max_attempts > 1 ? g_opts.max_attempts : 1;
    double wait = resp->retry_after >= 0
                      ? resp->retry_after
                      : bt_http_backoff(*tries, 1.0, 60.0, (double)rand() / RAND_MAX);
    if (*tries + 1 >= max || *waited + wait > g_opts.max_retry_wait ||
        bt_clock_monotonic() + wait >= g_reask.deadline)
        return false;
    (*tries)++;
    *waited += wait;
    bt_info("graphql: rate limited (a GraphQL error says so); asking again in %.1f s "
            "(attempt %d of %d)",
            wait, *tries + 1, max);
    bt_clock_sleep(wait);
    bt_http_stats_count_rate_limit(wait);
    return true;
}
