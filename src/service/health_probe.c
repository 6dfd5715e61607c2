/* `health-check`: the container probe's side of --health-check. It asks a
 * running daemon's /health (at --health-check-bind-address and
 * --health-check-port, the daemon's own flags) and exits 0 when the daemon
 * answers healthy; otherwise one error: line saying what is wrong, exit 1. */
#include "bt/service.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>

/* /health waits for the daemon's check, which takes 30 s at most. */
#define PROBE_SECONDS 40L
#define BODY_MAX 600

typedef struct {
    char text[BODY_MAX];
    size_t len;
} probe_body;

static size_t keep_body(char *data, size_t size, size_t n, void *ud)
{
    probe_body *b = ud;
    size_t bytes = size * n;
    for (size_t i = 0; i < bytes && b->len < sizeof b->text - 1; i++) {
        unsigned char c = (unsigned char)data[i];
        b->text[b->len++] = c < 0x20 || c == 0x7f ? ' ' : (char)c; /* one line, no controls */
    }
    b->text[b->len] = '\0';
    return bytes;
}

/* The address a probe connects to: a daemon bound to every address
 * (0.0.0.0, or nothing given) is asked on the loopback. */
static const char *probe_host(const bt_cli *cli)
{
    const char *bind = bt_cli_get(cli, BT_FLAG_HEALTH_CHECK_BIND_ADDRESS);
    if (!bind || !*bind || strcmp(bind, "0.0.0.0") == 0)
        return "127.0.0.1";
    return bind;
}

static int probe_port(const bt_cli *cli)
{
    long port = 8081;
    char err[256];
    if (bt_cli_get_long(cli, BT_FLAG_HEALTH_CHECK_PORT, &port, err, sizeof err) < 0 || port < 1 ||
        port > 65535) {
        fprintf(stderr, "error: --health-check-port must be between 1 and 65535\n");
        return -1;
    }
    return (int)port;
}

static int report(const char *url, CURLcode rc, long status, const probe_body *body)
{
    if (rc != CURLE_OK) {
        fprintf(stderr, "error: health check: no answer from %s: %s (is the daemon running "
                        "with --health-check on this address and port?)\n",
                url, curl_easy_strerror(rc));
        return 1;
    }
    /* The daemon answers {"status":"healthy",...}: a 200 from anything else
     * listening on that port is not a healthy daemon. */
    if (status == 200 && strstr(body->text, "\"status\":\"healthy\"")) {
        printf("healthy: %s\n", url);
        return 0;
    }
    if (status == 200) {
        fprintf(stderr, "error: health check: %s answered HTTP 200 but not as this connector's "
                        "health endpoint does: %s\n", url, body->len ? body->text : "(no body)");
        return 1;
    }
    fprintf(stderr, "error: health check: %s answered HTTP %ld: %s\n", url, status,
            body->len ? body->text : "(no body)");
    return 1;
}

int bt_service_health_probe(const bt_cli *cli)
{
    int port = probe_port(cli);
    if (port < 0)
        return 2;
    char url[512];
    const char *host = probe_host(cli);
    snprintf(url, sizeof url, strchr(host, ':') ? "http://[%s]:%d/health" : "http://%s:%d/health",
             host, port);
    if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
        fprintf(stderr, "error: health check: cannot start libcurl\n");
        return 1;
    }
    CURL *h = curl_easy_init();
    probe_body body = {.len = 0};
    body.text[0] = '\0';
    CURLcode rc = CURLE_FAILED_INIT;
    long status = 0;
    if (h) {
        curl_easy_setopt(h, CURLOPT_URL, url);
        curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http");
        curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
        curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(h, CURLOPT_TIMEOUT, PROBE_SECONDS);
        curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, keep_body);
        curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
        rc = curl_easy_perform(h);
        curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
        curl_easy_cleanup(h);
    }
    int out = report(url, rc, status, &body);
    curl_global_cleanup();
    return out;
}
