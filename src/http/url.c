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

static int fail(char *err, size_t errsz, const char *msg, const char *detail)
{
    snprintf(err, errsz, "%s%s", msg, detail ? detail : "");
    return -1;
}

/* Checks the parsed parts; frees nothing. */
static int check_parts(CURLU *u, bool *loopback, char *err, size_t errsz)
{
    char *scheme = NULL, *host = NULL, *user = NULL;
    int rc = -1;
    if (curl_url_get(u, CURLUPART_SCHEME, &scheme, 0) != CURLUE_OK ||
        curl_url_get(u, CURLUPART_HOST, &host, 0) != CURLUE_OK)
        fail(err, errsz, "url has no scheme or host", NULL);
    else if (curl_url_get(u, CURLUPART_USER, &user, 0) == CURLUE_OK)
        fail(err, errsz, "url must not carry credentials", NULL);
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
    return rc;
}

int bt_http_url_check(const char *url, bool *loopback, char *err, size_t errsz)
{
    *loopback = false;
    CURLU *u = curl_url();
    if (!u)
        return fail(err, errsz, "out of memory", NULL);
    int rc;
    if (curl_url_set(u, CURLUPART_URL, url, 0) != CURLUE_OK)
        rc = fail(err, errsz, "not a valid absolute url", NULL);
    else
        rc = check_parts(u, loopback, err, errsz);
    curl_url_cleanup(u);
    return rc;
}
