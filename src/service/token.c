/* The access token: a client-credentials POST with a fresh EdDSA client
 * assertion, cached until 10 s before it expires (see bt_svc_token_reuse).
 * No refresh token. */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/secret.h"
#include "bt/log.h"

#include <curl/curl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define TOKEN_USER_AGENT "baton-c1-credential-provider baton-sdk/v0.25.0"
#define MAX_TOKEN_ANSWER ((size_t)64 << 10)
#define DEFAULT_TOKEN_LIFE 300 /* seconds, when expires_in is absent or not positive */

int bt_svc_token_http_code(long http_status)
{
    /* The endpoint refused the client: permanent. Anything else (a 5xx, a 429,
     * a proxy's page) may pass: retried. */
    return http_status == 400 || http_status == 401 || http_status == 403
               ? BT_GRPC_UNAUTHENTICATED : BT_GRPC_UNAVAILABLE;
}

double bt_svc_token_reuse(long expires_in)
{
    /* The SDK's rule (until 10 s before expiry) where it leaves a useful
     * time; a life of 10 s or less would mean a token POST per RPC: half. */
    double life = expires_in > 0 ? (double)expires_in : DEFAULT_TOKEN_LIFE;
    return life > 10 ? life - 10 : life / 2;
}

int bt_svc_token_init(bt_svc_token *t, const bt_svc_creds *c, const char *token_host)
{
    memset(t, 0, sizeof *t);
    t->creds = c;
    size_t n = strlen(token_host) + 32;
    t->url = malloc(n);
    if (!t->url)
        return -1;
    snprintf(t->url, n, "https://%s/auth/v1/token", token_host);
    return 0;
}

void bt_svc_token_drop(bt_svc_token *t)
{
    bt_secret_free(t->auth);
    t->auth = NULL;
    t->expires_at = 0;
}

void bt_svc_token_free(bt_svc_token *t)
{
    bt_svc_token_drop(t);
    free(t->url);
    memset(t, 0, sizeof *t);
}

void bt_svc_token_type(const char *type, char *out, size_t outsz)
{
    const char *v = type;
    if (!type || !*type || strcasecmp(type, "bearer") == 0)
        v = "Bearer";
    else if (strcasecmp(type, "basic") == 0)
        v = "Basic";
    else if (strcasecmp(type, "mac") == 0)
        v = "MAC";
    snprintf(out, outsz, "%s", v);
}

static bool printable_token(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
            return false;
    return true;
}

static int fail(char *err, size_t errsz, int code, const char *msg)
{
    snprintf(err, errsz, "%s", msg);
    return code;
}

/* expires_in must be an integer: digits, optionally negative. */
static int parse_expires(const bt_jmin_value *v, long *out)
{
    if (v->type != BT_JMIN_NUMBER || v->len > 12)
        return -1;
    const char *p = v->text + (v->text[0] == '-');
    if (!*p || strspn(p, "0123456789") != strlen(p))
        return -1;
    *out = strtol(v->text, NULL, 10);
    return 0;
}

int bt_svc_token_parse(const char *body, size_t len, char **token, char **type,
                       long *expires_in, char *err, size_t errsz)
{
    bt_jmin_value tok, typ, exp;
    *token = *type = NULL;
    *expires_in = 0;
    int ft = bt_jmin_find(body, len, "access_token", &tok);
    int fy = bt_jmin_find(body, len, "token_type", &typ);
    int fe = bt_jmin_find(body, len, "expires_in", &exp);
    int rc = BT_GRPC_OK;
    if (ft < 0)
        rc = fail(err, errsz, BT_GRPC_UNAVAILABLE, "failed to get token: the answer is not a JSON object");
    else if (fe == 1 && parse_expires(&exp, expires_in) != 0)
        rc = fail(err, errsz, BT_GRPC_UNAVAILABLE, "failed to get token: expires_in is not an integer");
    else if (ft == 0 || tok.type != BT_JMIN_STRING || tok.len == 0 || !printable_token(tok.text))
        rc = fail(err, errsz, BT_GRPC_UNAUTHENTICATED, "failed to get token: no usable access_token");
    else if (fy == 1 && (typ.type != BT_JMIN_STRING || !printable_token(typ.text)))
        rc = fail(err, errsz, BT_GRPC_UNAVAILABLE, "failed to get token: token_type is not a word");
    if (rc == BT_GRPC_OK) {
        *token = strndup(tok.text, tok.len);
        *type = strdup(fy == 1 ? typ.text : "");
    }
    bt_jmin_value_free(&tok);
    bt_jmin_value_free(&typ);
    bt_jmin_value_free(&exp);
    return rc;
}

/* ---- the POST ---- */

static size_t on_body(char *p, size_t size, size_t nmemb, void *ud)
{
    bt_buf *b = ud;
    size_t n = size * nmemb;
    if (n > MAX_TOKEN_ANSWER - b->len || bt_buf_append(b, p, n) != 0)
        return 0;
    return n;
}

static int form_body(CURL *h, const bt_svc_creds *c, bt_buf *form)
{
    char *assertion = bt_svc_jws_assertion(c, (long)bt_clock_now());
    char *id = curl_easy_escape(h, c->client_id, 0);
    int rc = -1;
    if (assertion && id) {
        bt_buf_puts(form, "client_id=");
        bt_buf_puts(form, id);
        bt_buf_puts(form, "&grant_type=client_credentials&client_assertion_type="
                               "urn%3Aietf%3Aparams%3Aoauth%3Aclient-assertion-type%3Ajwt-bearer"
                               "&client_assertion=");
        rc = bt_buf_puts(form, assertion); /* base64url and '.': form-safe */
    }
    curl_free(id);
    free(assertion);
    return rc;
}

/* A stalled token endpoint cannot hold up a stop: the request is given up
 * once the stop budget is spent (libcurl calls this at least once a second). */
static int on_progress(void *ud, curl_off_t dltotal, curl_off_t dlnow, curl_off_t ultotal,
                       curl_off_t ulnow)
{
    (void)ud, (void)dltotal, (void)dlnow, (void)ultotal, (void)ulnow;
    return bt_svc_stop_overdue() ? 1 : 0;
}

static bool set_options(CURL *h, const char *url, const bt_buf *form, bt_buf *answer,
                        struct curl_slist *hdrs, char *errbuf)
{
    bool ok = true;
    ok &= curl_easy_setopt(h, CURLOPT_URL, url) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "https") == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HTTP_VERSION, (long)CURL_HTTP_VERSION_2TLS) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_SSLVERSION, (long)CURL_SSLVERSION_TLSv1_2) == CURLE_OK;
    ok &= bt_http_apply_ca_env(h);
    ok &= curl_easy_setopt(h, CURLOPT_USERAGENT, TOKEN_USER_AGENT) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDS, form->data) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)form->len) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_WRITEDATA, answer) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, 30000L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 60000L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L) == CURLE_OK;
    ok &= curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress) == CURLE_OK;
    return ok;
}

/* POST the form; returns the HTTP status, or -1 with err filled. */
static long post_form(const char *url, const bt_buf *form, bt_buf *answer, char *err,
                      size_t errsz)
{
    CURL *h = curl_easy_init();
    char errbuf[CURL_ERROR_SIZE] = "";
    struct curl_slist *hdrs = curl_slist_append(NULL, "Content-Type: application/x-www-form-urlencoded");
    long status = -1;
    CURLcode rc = CURLE_FAILED_INIT;
    if (h && hdrs && set_options(h, url, form, answer, hdrs, errbuf))
        rc = curl_easy_perform(h);
    if (rc == CURLE_OK)
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
    else
        snprintf(err, errsz, "failed to get token: %s",
                 errbuf[0] ? errbuf : curl_easy_strerror(rc));
    curl_slist_free_all(hdrs);
    curl_easy_cleanup(h);
    return status;
}

static int store(bt_svc_token *t, char *token, const char *type, long expires_in)
{
    char word[64];
    bt_svc_token_type(type, word, sizeof word);
    size_t n = strlen(word) + strlen(token) + 2;
    bt_svc_token_drop(t);
    t->auth = malloc(n);
    if (t->auth)
        snprintf(t->auth, n, "%s %s", word, token);
    t->expires_at = bt_clock_monotonic() + bt_svc_token_reuse(expires_in);
    explicit_bzero(token, strlen(token));
    return t->auth ? BT_GRPC_OK : BT_GRPC_INTERNAL;
}

static int fetch(bt_svc_token *t, char *err, size_t errsz)
{
    bt_buf form = {0}, answer = {0};
    char *token = NULL, *type = NULL;
    long expires_in = 0, status;
    int rc = BT_GRPC_UNAVAILABLE;
    t->fetches++;
    if (form_body(NULL, t->creds, &form) != 0)
        snprintf(err, errsz, "failed to get token: cannot sign the client assertion");
    else if ((status = post_form(t->url, &form, &answer, err, errsz)) < 0)
        rc = BT_GRPC_UNAVAILABLE;
    else if (status != 200) {
        rc = bt_svc_token_http_code(status);
        snprintf(err, errsz, "failed to get token: HTTP status %ld", status);
    }
    else if ((rc = bt_svc_token_parse(answer.data ? answer.data : "", answer.len, &token, &type,
                                      &expires_in, err, errsz)) == BT_GRPC_OK)
        rc = store(t, token, type, expires_in);
    if (form.data)
        explicit_bzero(form.data, form.len);
    if (answer.data)
        explicit_bzero(answer.data, answer.len);
    bt_buf_free(&form);
    bt_buf_free(&answer);
    free(token);
    free(type);
    return rc;
}

int bt_svc_token_get(bt_svc_token *t, const char **auth, char *err, size_t errsz)
{
    *auth = NULL;
    if (t->auth && bt_clock_monotonic() < t->expires_at) {
        *auth = t->auth;
        return BT_GRPC_OK;
    }
    int rc = fetch(t, err, errsz);
    if (rc == BT_GRPC_OK) {
        *auth = t->auth;
        bt_debug("service: new access token (%ld fetched so far)", t->fetches);
    }
    return rc;
}
