/* gRPC over libcurl: HTTP/2 over TLS (ALPN h2, checked), te: trailers,
 * application/grpc, the status from the trailers or a trailers-only answer,
 * and non-200 HTTP answers mapped to gRPC codes. One easy handle per
 * connection object, so the HTTP/2 connection is reused between calls. */
#include "service/svc.h"
#include "bt/log.h"

#include <curl/curl.h>
#include <openssl/ssl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MAX_RESPONSE ((size_t)(4u << 20) + 5)

struct bt_grpc_conn {
    CURL *curl;
    char *base_url; /* https://authority */
    char *user_agent;
    const char *auth; /* during a call, for redaction */
    bool (*abort_check)(void); /* true: give up the call (the daemon is stopping) */
    bt_buf resp;
    bool over_cap, not_h2;
    bt_grpc_headers h;
    char errbuf[CURL_ERROR_SIZE];
};

bt_grpc_conn *bt_grpc_conn_new(const char *authority, const char *user_agent)
{
    bt_grpc_conn *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    size_t n = strlen(authority) + 9;
    c->base_url = malloc(n);
    c->user_agent = strdup(user_agent);
    c->curl = curl_easy_init();
    if (!c->base_url || !c->user_agent || !c->curl) {
        bt_grpc_conn_free(c);
        return NULL;
    }
    snprintf(c->base_url, n, "https://%s", authority);
    return c;
}

void bt_grpc_conn_set_abort(bt_grpc_conn *c, bool (*check)(void)) { c->abort_check = check; }

void bt_grpc_conn_free(bt_grpc_conn *c)
{
    if (!c)
        return;
    if (c->curl)
        curl_easy_cleanup(c->curl);
    free(c->base_url);
    free(c->user_agent);
    bt_buf_free(&c->resp);
    free(c);
}

static size_t mem_read(void *ud, char *out, size_t n)
{
    bt_grpc_membody *m = ud;
    size_t left = m->buf->len - m->at;
    if (n > left)
        n = left;
    memcpy(out, m->buf->data + m->at, n);
    m->at += n;
    return n;
}

bt_grpc_body bt_grpc_body_mem(bt_grpc_membody *m)
{
    m->at = 0;
    return (bt_grpc_body){mem_read, m, (long long)m->buf->len};
}

/* ---- callbacks ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    bt_grpc_conn *c = ud;
    size_t n = size * nmemb;
    if (n > MAX_RESPONSE - c->resp.len || bt_buf_append(&c->resp, p, n) != 0) {
        c->over_cap = true;
        return 0;
    }
    return n;
}

/* Headers and trailers alike: libcurl hands HTTP/2 trailers to this callback. */
static size_t on_header(char *line, size_t size, size_t nitems, void *ud)
{
    bt_grpc_conn *c = ud;
    bt_grpc_headers_line(&c->h, line, size * nitems);
    return size * nitems;
}

static int on_debug(CURL *h, curl_infotype type, char *data, size_t size, void *ud)
{
    bt_grpc_conn *c = ud;
    char line[512];
    (void)h;
    if (type != CURLINFO_HEADER_OUT && type != CURLINFO_HEADER_IN && type != CURLINFO_TEXT)
        return 0; /* bodies and TLS records are never printed */
    while (size > 0) {
        const char *nl = memchr(data, '\n', size);
        size_t len = nl ? (size_t)(nl - data) : size, next = nl ? len + 1 : len;
        if (len && data[len - 1] == '\r')
            len--;
        if (len) {
            bt_http_redact_line(data, len, "authorization", c->auth, line, sizeof line);
            bt_debug("grpc%s %s", type == CURLINFO_HEADER_OUT ? ">" : type == CURLINFO_HEADER_IN ? "<" : "*", line);
        }
        data += next;
        size -= next;
    }
    return 0;
}

static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    bt_grpc_conn *c = ud;
    (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return c->abort_check && c->abort_check() ? 1 : 0;
}

/* Before the request goes out: gRPC needs HTTP/2, so a TLS session whose ALPN
 * did not pick h2 sends nothing. */
static int on_prereq(void *ud, char *ip, char *local_ip, int port, int local_port)
{
    bt_grpc_conn *c = ud;
    struct curl_tlssessioninfo *tls = NULL;
    const unsigned char *alpn = NULL;
    unsigned len = 0;
    (void)ip, (void)local_ip, (void)port, (void)local_port;
    if (curl_easy_getinfo(c->curl, CURLINFO_TLS_SSL_PTR, &tls) != CURLE_OK || !tls ||
        tls->backend != CURLSSLBACKEND_OPENSSL || !tls->internals)
        return CURL_PREREQFUNC_OK; /* the version check after the call still applies */
    SSL_get0_alpn_selected(tls->internals, &alpn, &len);
    c->not_h2 = !(len == 2 && memcmp(alpn, "h2", 2) == 0);
    return c->not_h2 ? CURL_PREREQFUNC_ABORT : CURL_PREREQFUNC_OK;
}

static size_t on_read(char *out, size_t size, size_t nitems, void *ud)
{
    const bt_grpc_body *b = ud;
    return b->read(b->ud, out, size * nitems);
}

/* ---- one call ---- */

static struct curl_slist *request_headers(const char *auth, double deadline)
{
    struct curl_slist *h = NULL, *next;
    char timeout[64], value[24];
    const char *lines[] = {"content-type: application/grpc", "te: trailers", "Expect:",
                           "Accept:", timeout};
    size_t count = 4;
    if (deadline > 0) {
        bt_grpc_timeout_value(deadline, value, sizeof value);
        snprintf(timeout, sizeof timeout, "grpc-timeout: %s", value);
        count = 5;
    }
    for (size_t i = 0; i < count; i++) {
        if (!(next = curl_slist_append(h, lines[i])))
            return curl_slist_free_all(h), NULL;
        h = next;
    }
    size_t n = strlen(auth) + 16;
    char *line = malloc(n);
    if (!line)
        return curl_slist_free_all(h), NULL;
    snprintf(line, n, "authorization: %s", auth);
    next = curl_slist_append(h, line);
    explicit_bzero(line, n);
    free(line);
    if (!next)
        curl_slist_free_all(h);
    return next;
}

static bool set_options(bt_grpc_conn *c, const char *url, struct curl_slist *hdrs,
                        const bt_grpc_body *body, double deadline)
{
    CURL *h = c->curl;
    bool ok = true;
    curl_easy_reset(h); /* keeps the connection cache */
    ok &= curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYPEER, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSL_VERIFYHOST, 2L) == CURLE_OK;
    ok &= bt_http_apply_ca_env(h);
    ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, c->user_agent) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POST, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_READFUNCTION, on_read) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_READDATA, body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body->total) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HEADERDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, c->errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, (long)(deadline * 1000)) == CURLE_OK;
    /* No call may hang forever on a silent server, deadline or not. */
    ok &= curl_easy_setopt(h, CURLOPT_LOW_SPEED_LIMIT, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_LOW_SPEED_TIME, 60L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PREREQFUNCTION, on_prereq) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PREREQDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_XFERINFODATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_DEBUGFUNCTION, on_debug) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_DEBUGDATA, c) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_VERBOSE, bt_log_enabled(BT_LOG_DEBUG) ? 1L : 0L) == CURLE_OK;
    return ok;
}

/* The status of a finished exchange, from HTTP status, headers and body. */
static int classify(bt_grpc_conn *c, CURLcode rc, bt_grpc_result *r)
{
    long status = 0, version = 0;
    curl_easy_getinfo(c->curl, CURLINFO_RESPONSE_CODE, &status);
    curl_easy_getinfo(c->curl, CURLINFO_HTTP_VERSION, &version);
    if (c->not_h2)
        return bt_grpc_result_set(r, BT_GRPC_UNAVAILABLE, "the server did not negotiate HTTP/2 (ALPN h2)");
    if (rc != CURLE_OK && !c->h.has_status) {
        const char *why = c->over_cap ? "response larger than 4 MiB"
                        : c->errbuf[0] ? c->errbuf : curl_easy_strerror(rc);
        return bt_grpc_result_set(r, c->over_cap ? BT_GRPC_INTERNAL : BT_GRPC_UNAVAILABLE, why);
    }
    return bt_grpc_headers_result(&c->h, status, version == CURL_HTTP_VERSION_2_0,
                                  (const unsigned char *)c->resp.data, c->resp.len, r);
}

static void reset_state(bt_grpc_conn *c, const char *auth)
{
    bt_buf_clear(&c->resp);
    c->over_cap = c->not_h2 = false;
    memset(&c->h, 0, sizeof c->h);
    c->errbuf[0] = '\0';
    c->auth = auth;
}

int bt_grpc_call(bt_grpc_conn *c, const char *path, const char *auth, const bt_grpc_body *body,
                 double deadline, bt_grpc_result *r)
{
    memset(r, 0, sizeof *r);
    reset_state(c, auth);
    size_t n = strlen(c->base_url) + strlen(path) + 1;
    char *url = malloc(n);
    struct curl_slist *hdrs = request_headers(auth, deadline);
    if (!url || !hdrs) {
        free(url);
        curl_slist_free_all(hdrs);
        return bt_grpc_result_set(r, BT_GRPC_INTERNAL, "out of memory");
    }
    snprintf(url, n, "%s%s", c->base_url, path);
    CURLcode rc = CURLE_FAILED_INIT;
    if (set_options(c, url, hdrs, body, deadline))
        rc = curl_easy_perform(c->curl);
    classify(c, rc, r);
    for (struct curl_slist *h = hdrs; h; h = h->next)
        explicit_bzero(h->data, strlen(h->data)); /* the token is in there */
    curl_slist_free_all(hdrs);
    free(url);
    c->auth = NULL;
    return r->code;
}
