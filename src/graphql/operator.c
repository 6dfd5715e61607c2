/* The operator's endpoint: the only URL a secret may be sent to. It comes
 * from the operator's configuration (a full URL, or a name put into the
 * connector's bundled template) and is fixed before any handler runs;
 * graphql.configure may carry credentials only to exactly this endpoint,
 * under exactly its header. Any other endpoint gets no credentials. */
#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "bt/config.h"
#include "bt/graphql.h"

static struct {
    char *url, *auth_header, *auth_config, *redirect_host_suffix;
    char why[300]; /* why none is bound */
} g_op = {.why = "the endpoint is fixed once the configuration is resolved, after the "
                  "scripts load"};

const char *const bt_endpoint_spec_keys[BT_ENDPOINT_SPEC_FIELDS] = {
    "url_config", "name_config", "template", "auth_header", "auth_config", "redirect_host_suffix"};

char **bt_endpoint_spec_slot(bt_endpoint_spec *spec, int i)
{
    char **slots[BT_ENDPOINT_SPEC_FIELDS] = {&spec->url_config,  &spec->name_config,
                                             &spec->template,    &spec->auth_header,
                                             &spec->auth_config, &spec->redirect_host_suffix};
    return slots[i];
}

void bt_endpoint_spec_free(bt_endpoint_spec *spec)
{
    if (!spec)
        return;
    for (int i = 0; i < BT_ENDPOINT_SPEC_FIELDS; i++)
        free(*bt_endpoint_spec_slot(spec, i));
    memset(spec, 0, sizeof *spec);
}

static void clear(void)
{
    free(g_op.url);
    free(g_op.auth_header);
    free(g_op.auth_config);
    free(g_op.redirect_host_suffix);
    g_op.url = g_op.auth_header = g_op.auth_config = g_op.redirect_host_suffix = NULL;
}

void bt_graphql_unbind_operator(void)
{
    clear();
    snprintf(g_op.why, sizeof g_op.why, "the connector declares no credentialed endpoint");
}

const char *bt_graphql_operator_url(void) { return g_op.url; }

static char *dup_opt(const char *s, bool *ok)
{
    char *d = s ? strdup(s) : NULL;
    if (s && !d)
        *ok = false;
    return d;
}

int bt_graphql_bind_operator_url(const char *url, const char *auth_header,
                                 const char *auth_config, const char *redirect_host_suffix)
{
    bool ok = true;
    clear();
    g_op.url = dup_opt(url, &ok);
    g_op.auth_header = dup_opt(auth_header, &ok);
    g_op.auth_config = dup_opt(auth_config, &ok);
    g_op.redirect_host_suffix = dup_opt(redirect_host_suffix, &ok);
    if (ok && url && auth_header && auth_config)
        return 0;
    clear();
    snprintf(g_op.why, sizeof g_op.why, "the credentialed endpoint is incomplete");
    return -1;
}

static int fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* err from fmt, kept as the reason credentials are refused. */
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    snprintf(g_op.why, sizeof g_op.why, "%.290s", err);
    return -1;
}

/* The value without leading and trailing white space, in out. */
static void trimmed(const char *v, char *out, size_t n)
{
    while (*v && isspace((unsigned char)*v))
        v++;
    size_t len = strlen(v);
    while (len > 0 && isspace((unsigned char)v[len - 1]))
        len--;
    snprintf(out, n, "%.*s", (int)len, v);
}

static bool is_label(const char *s, size_t n)
{
    if (n == 0 || n > 63 || s[0] == '-' || s[n - 1] == '-')
        return false;
    for (size_t i = 0; i < n; i++)
        if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') || s[i] == '-'))
            return false;
    return true;
}

/* The one DNS label in a name given as "acme", "acme<host_rest>" or
 * "https://acme<host_rest>" with an optional "/" (host_rest: what follows
 * "{name}" in the template's host, like ".example.com"). Every character is
 * accounted for, so no value can smuggle in another host. */
static bool name_label(const char *value, const char *host_rest, char *out, size_t n)
{
    char v[300];
    snprintf(v, sizeof v, "%.299s", value);
    for (char *p = v; *p; p++)
        *p = (char)tolower((unsigned char)*p);
    char *host = v;
    if (strncmp(v, "https://", 8) == 0) {
        host = v + 8;
        char *slash = strchr(host, '/');
        if (slash && slash[1] != '\0')
            return false;
        if (slash)
            *slash = '\0';
    }
    size_t len = strlen(host), rest = strlen(host_rest);
    if (rest > 0 && len > rest && strcasecmp(host + len - rest, host_rest) == 0)
        len -= rest;
    if (!is_label(host, len) || len >= n)
        return false;
    snprintf(out, n, "%.*s", (int)len, host);
    return true;
}

/* The template's parts around "{name}": before it and its host's rest. */
static bool split_template(const char *t, size_t *at, char *host_rest, size_t n)
{
    const char *p = strstr(t, "{name}");
    if (!p || strstr(p + 6, "{name}") || strncmp(t, "https://", 8) != 0)
        return false;
    const char *path = strchr(t + 8, '/');
    if (path && path < p)
        return false; /* {name} must be in the host */
    *at = (size_t)(p - t);
    size_t rest = strcspn(p + 6, "/:?#");
    snprintf(host_rest, n, "%.*s", (int)rest, p + 6);
    return true;
}

static int bind_template(const bt_endpoint_spec *spec, const char *value, char *err, size_t errsz)
{
    size_t at;
    char rest[200], label[64], url[1024];
    if (!spec->template || !split_template(spec->template, &at, rest, sizeof rest))
        return fail(err, errsz, "the connector's endpoint template is not https://...{name}...");
    if (!name_label(value, rest, label, sizeof label))
        return fail(err, errsz, "%s is not accepted: give a single name, or that name followed by "
                    "%s; to reach another endpoint give the full url",
                    spec->name_config ? spec->name_config : "the name", rest);
    snprintf(url, sizeof url, "%.*s%s%s", (int)at, spec->template, label, spec->template + at + 6);
    if (bt_graphql_bind_operator_url(url, spec->auth_header, spec->auth_config,
                                     spec->redirect_host_suffix) != 0)
        return fail(err, errsz, "cannot keep the endpoint (out of memory)");
    return 0;
}

int bt_graphql_bind_operator(const bt_endpoint_spec *spec, char *err, size_t errsz)
{
    char v[1024];
    bt_graphql_unbind_operator();
    if (!spec)
        return fail(err, errsz, "the connector declares no credentialed endpoint");
    if (!spec->auth_header || !spec->auth_config)
        return fail(err, errsz, "the connector's endpoint names no auth_header and auth_config");
    const char *url = spec->url_config ? bt_config_get(spec->url_config) : NULL;
    trimmed(url ? url : "", v, sizeof v);
    if (v[0]) /* the operator's own URL: checked like any url at configure */
        return bt_graphql_bind_operator_url(v, spec->auth_header, spec->auth_config, NULL) == 0
                   ? 0
                   : fail(err, errsz, "cannot keep the endpoint (out of memory)");
    const char *name = spec->name_config ? bt_config_get(spec->name_config) : NULL;
    trimmed(name ? name : "", v, sizeof v);
    if (!v[0])
        return fail(err, errsz, "no endpoint: set %s or %s",
                    spec->name_config ? spec->name_config : "a name",
                    spec->url_config ? spec->url_config : "a url");
    return bind_template(spec, v, err, errsz);
}

static bool same(const char *a, const char *b, bool nocase)
{
    if (!a || !b)
        return a == b;
    return nocase ? strcasecmp(a, b) == 0 : strcmp(a, b) == 0;
}

int bt_graphql_operator_check(const bt_graphql_endpoint *ep, char *err, size_t errsz)
{
    if (!ep->auth_header && !ep->auth_config)
        return 0; /* a second endpoint: no credentials */
    if (!g_op.url) {
        snprintf(err, errsz, "no credentials can be sent: %s", g_op.why);
        return -1;
    }
    if (!ep->url || strcmp(ep->url, g_op.url) != 0) {
        snprintf(err, errsz, "credentials go only to the operator's endpoint %.300s, not to "
                 "%.300s; another endpoint takes no auth_header or auth_config",
                 g_op.url, ep->url ? ep->url : "(none)");
        return -1;
    }
    if (!same(ep->auth_header, g_op.auth_header, true) ||
        !same(ep->auth_config, g_op.auth_config, false)) {
        snprintf(err, errsz, "credentials go only as the connector's own header %s from %s",
                 g_op.auth_header, g_op.auth_config);
        return -1;
    }
    if (ep->redirect_host_suffix && !same(ep->redirect_host_suffix, g_op.redirect_host_suffix, true)) {
        snprintf(err, errsz, "redirect_host_suffix %s is not the connector's (%s)",
                 ep->redirect_host_suffix,
                 g_op.redirect_host_suffix ? g_op.redirect_host_suffix : "none: redirects stay on "
                                                                          "the endpoint's host");
        return -1;
    }
    return 0;
}
