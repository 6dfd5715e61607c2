/* The URL policy: https everywhere, plain http only on a loopback host. */
#include <arpa/inet.h>
#include <curl/curl.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "bt/http.h"

/* host as CURLU returns it: a name, a dotted quad, or "[v6]". */
static bool host_is_loopback(const char *host)
{
    if (strcasecmp(host, "localhost") == 0 || strcasecmp(host, "localhost.") == 0)
        return true;
    struct in_addr v4;
    if (inet_pton(AF_INET, host, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    size_t n = strlen(host);
    if (n < 3 || host[0] != '[' || host[n - 1] != ']' || n - 2 >= INET6_ADDRSTRLEN)
        return false;
    char bare[INET6_ADDRSTRLEN];
    memcpy(bare, host + 1, n - 2);
    bare[n - 2] = '\0';
    struct in6_addr v6;
    return inet_pton(AF_INET6, bare, &v6) == 1 && IN6_IS_ADDR_LOOPBACK(&v6);
}

bool bt_http_ip_is_loopback(const char *ip)
{
    struct in_addr v4;
    struct in6_addr v6;
    if (!ip)
        return false;
    if (inet_pton(AF_INET, ip, &v4) == 1)
        return (ntohl(v4.s_addr) >> 24) == 127;
    if (inet_pton(AF_INET6, ip, &v6) != 1)
        return false;
    if (IN6_IS_ADDR_LOOPBACK(&v6))
        return true;
    /* ::ffff:127.x.y.z */
    return IN6_IS_ADDR_V4MAPPED(&v6) && v6.s6_addr[12] == 127;
}

static int fail(char *err, size_t errsz, const char *msg, const char *detail)
{
    snprintf(err, errsz, "%s%s", msg, detail ? detail : "");
    return -1;
}

/* Checks the parsed parts; frees nothing. */
static int check_parts(CURLU *u, bool *loopback, char *err, size_t errsz)
{
    char *scheme = NULL, *host = NULL, *user = NULL, *fragment = NULL;
    int rc = -1;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        fail(err, errsz, "url has no scheme or host", NULL);
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        fail(err, errsz, "url must not carry credentials", NULL);
    /* libcurl drops a #fragment unsent: refused rather than silently cut. */
    else if (curl_url_get(u, CURLUPART_FRAGMENT, &fragment, 0) == CURLUE_OK)
        fail(err, errsz, "url must not have a #fragment", NULL);
    else {
        *loopback = host_is_loopback(host);
        if (strcasecmp(scheme, "https") == 0 || (strcasecmp(scheme, "http") == 0 && *loopback))
            rc = 0;
        else if (strcasecmp(scheme, "http") == 0)
            fail(err, errsz, "plain http is allowed only on a loopback host; use https:// for ",
                 host);
        else
            fail(err, errsz, "unsupported url scheme: ", scheme);
    }
    curl_free(scheme);
    curl_free(host);
    curl_free(user);
    curl_free(fragment);
    return rc;
}

int bt_http_url_check(const char *url, bool *loopback, char *err, size_t errsz)
{
    *loopback = false;
    CURLU *u = curl_url();
    if (!u)
        return fail(err, errsz, "out of memory", NULL);
    int rc;
    /* libcurl also takes "https:/host"; only the plain scheme://host form is. */
    size_t scheme_len = strspn(url, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ");
    if (scheme_len == 0 || strncmp(url + scheme_len, "://", 3) != 0 ||
        curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = fail(err, errsz, "not a valid absolute url", NULL);
    else
        rc = check_parts(u, loopback, err, errsz);
    curl_url_cleanup(u);
    return rc;
}

/* ---- redirects ---- */

typedef struct url_parts {
    char *scheme, *host, *port; /* port with the scheme's default filled in */
} url_parts;

static void parts_free(url_parts *p)
{
    curl_free(p->scheme);
    curl_free(p->host);
    curl_free(p->port);
}

static bool parts_get(const char *url, url_parts *p)
{
    memset(p, 0, sizeof *p);
    CURLU *u = curl_url();
    bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_SCHEME, &p->scheme, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_HOST, &p->host, 0) == CURLUE_OK &&
              curl_url_get(u, CURLUPART_PORT, &p->port, CURLU_DEFAULT_PORT) == CURLUE_OK;
    curl_url_cleanup(u);
    if (!ok)
        parts_free(p);
    return ok;
}

bool bt_http_host_has_suffix(const char *host, const char *suffix)
{
    size_t h = strlen(host), s = suffix ? strlen(suffix) : 0;
    return s > 0 && h > s && strcasecmp(host + h - s, suffix) == 0;
}

/* Whether the key may go to `to`: the origin's own host and port, or (over
 * https on the default port) a host under the suffix. */
static bool host_allowed(const url_parts *from, const url_parts *to, const char *suffix)
{
    if (strcasecmp(from->host, to->host) == 0 && strcmp(from->port, to->port) == 0)
        return true;
    return bt_http_host_has_suffix(to->host, suffix) && strcasecmp(to->scheme, "https") == 0 &&
           strcmp(to->port, "443") == 0;
}

static int refuse(char *err, size_t errsz, const char *host, const char *why, const char *more)
{
    snprintf(err, errsz, "redirect to %.120s refused: %s%.120s", host, why, more ? more : "");
    return -1;
}

/* Compares the parsed target against the origin; both are valid. */
static int check_target(const url_parts *from, const url_parts *to, const char *suffix,
                        char *err, size_t errsz)
{
    bool from_loopback = host_is_loopback(from->host);
    if (strcasecmp(from->scheme, "https") == 0 && strcasecmp(to->scheme, "https") != 0)
        return refuse(err, errsz, to->host, "it leaves https for plain http", NULL);
    if (from_loopback && !host_is_loopback(to->host))
        return refuse(err, errsz, to->host, "it leaves a loopback host", NULL);
    if (host_allowed(from, to, suffix))
        return 0;
    if (suffix)
        return refuse(err, errsz, to->host, "the key is sent only to hosts ending in ", suffix);
    return refuse(err, errsz, to->host, "the key is sent only to ", from->host);
}

int bt_http_redirect_check(const char *origin, const char *target, const char *suffix, char *err,
                           size_t errsz)
{
    bool loopback;
    char why[200];
    url_parts from, to;
    if (!parts_get(origin, &from))
        return fail(err, errsz, "redirect refused: the configured url does not parse", NULL);
    int rc;
    if (!target || !parts_get(target, &to)) {
        parts_free(&from);
        return fail(err, errsz, "redirect refused: the Location is missing or not a valid url", NULL);
    }
    if (bt_http_url_check(target, &loopback, why, sizeof why) != 0)
        rc = refuse(err, errsz, to.host, why, NULL);
    else
        rc = check_target(&from, &to, suffix, err, errsz);
    parts_free(&from);
    parts_free(&to);
    return rc;
}
