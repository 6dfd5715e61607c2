/* The health check server for orchestrators (--health-check): plain HTTP on
 * the bind address and port, GET /live, /ready and /health, JSON bodies.
 * /health runs the script's `validate` in a task process (30 s at most) and
 * caches the answer for 60 s, so probes do not spend the API's read budget. */
#define _GNU_SOURCE /* accept4, memmem */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/log.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_CACHE_SECONDS 60.0
#define HEALTH_TIMEOUT_SECONDS 30.0

struct bt_svc_health {
    int fd;
    double checked_at; /* monotonic; 0 = never */
    bool healthy;
    char error[512];
};

bt_svc_health *bt_svc_health_start(bt_svc_daemon *d, char *err, size_t errsz)
{
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)d->set.health_port)};
    if (inet_pton(AF_INET, d->set.health_bind, &a.sin_addr) != 1) {
        snprintf(err, errsz, "--health-check-bind-address is not an IPv4 address");
        return NULL;
    }
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 16) != 0) {
        snprintf(err, errsz, "cannot listen on %s:%d", d->set.health_bind, d->set.health_port);
        if (fd >= 0)
            close(fd);
        return NULL;
    }
    bt_svc_health *h = calloc(1, sizeof *h);
    if (!h) {
        close(fd);
        snprintf(err, errsz, "out of memory");
        return NULL;
    }
    h->fd = fd;
    bt_info("service: health checks on http://%s:%d/{live,ready,health}", d->set.health_bind,
            d->set.health_port);
    return h;
}

int bt_svc_health_fd(const bt_svc_health *h) { return h->fd; }

void bt_svc_health_free(bt_svc_health *h)
{
    if (h) {
        close(h->fd);
        free(h);
    }
}

/* The check itself, in a task process: exit 0 when validate() succeeds. */
static void check_child(bt_svc_daemon *d, int fd)
{
    bt_svc_outcome out;
    bt_contract c;
    memset(&out, 0, sizeof out);
    prctl(PR_SET_PDEATHSIG, SIGKILL);
    signal(SIGTERM, SIG_DFL);
    bt_host *h = bt_svc_child_host(d, &c, &out);
    if (h) {
        lua_State *L = bt_host_lua(h);
        bt_host_error herr;
        bt_contract_push_function(h, &c, "validate");
        if (!lua_isfunction(L, -1))
            snprintf(out.text, sizeof out.text, "the connector script has no validate function");
        else if (bt_host_call(h, 0, 2, &herr) != 0)
            bt_log_redact(herr.message, out.text, sizeof out.text);
        else if (!lua_toboolean(L, -2))
            bt_log_redact(luaL_tolstring(L, -1, NULL), out.text, sizeof out.text);
    }
    (void)!write(fd, out.text, strlen(out.text));
    _exit(out.text[0] ? 1 : 0);
}

static void wait_check(bt_svc_health *h, pid_t pid, int fd)
{
    double until = bt_clock_monotonic() + HEALTH_TIMEOUT_SECONDS;
    int status = -1;
    while (waitpid(pid, &status, WNOHANG) == 0) {
        if (bt_clock_monotonic() > until) {
            kill(pid, SIGKILL);
            waitpid(pid, &status, 0);
            status = -1;
            snprintf(h->error, sizeof h->error, "the check took longer than 30 s");
            break;
        }
        usleep(20000);
    }
    ssize_t n = read(fd, h->error, sizeof h->error - 1);
    if (status != -1)
        h->error[n > 0 ? n : 0] = '\0';
    h->healthy = status == 0;
    if (!h->healthy && !h->error[0])
        snprintf(h->error, sizeof h->error, "the check process failed");
}

static void run_check(bt_svc_daemon *d, bt_svc_health *h)
{
    int p[2];
    h->error[0] = '\0';
    fflush(NULL);
    pid_t pid = pipe(p) == 0 ? fork() : -1;
    if (pid == 0) {
        close(p[0]);
        check_child(d, p[1]);
    }
    if (pid < 0) {
        h->healthy = false;
        snprintf(h->error, sizeof h->error, "cannot start the check process");
    } else {
        close(p[1]);
        wait_check(h, pid, p[0]);
        close(p[0]);
    }
    h->checked_at = bt_clock_monotonic();
}

/* ---- HTTP ---- */

static void timestamp(char *out, size_t n)
{
    time_t now = time(NULL);
    struct tm tm;
    gmtime_r(&now, &tm);
    strftime(out, n, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

/* JSON string body (quotes and control characters escaped). */
static void json_escape(const char *s, char *out, size_t n)
{
    size_t o = 0;
    for (; *s && o + 7 < n; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            o += (size_t)snprintf(out + o, n - o, "\\%c", c);
        else if (c < 0x20)
            o += (size_t)snprintf(out + o, n - o, "\\u%04x", c);
        else
            out[o++] = (char)c;
    }
    out[o] = '\0';
}

static void respond(int fd, int code, const char *status, const char *error, bool validation)
{
    char ts[32], err[1100], body[2600], head[256];
    timestamp(ts, sizeof ts);
    if (error) {
        json_escape(error, err, sizeof err);
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"timestamp\":\"%s\",\"details\":{\"error\":\"%s\"%s%s%s}}\n",
                 status, ts, validation ? "validation failed" : err,
                 validation ? ",\"validation_error\":\"" : "", validation ? err : "",
                 validation ? "\"" : "");
    } else
        snprintf(body, sizeof body, "{\"status\":\"%s\",\"timestamp\":\"%s\"}\n", status, ts);
    int hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Service Unavailable",
                      strlen(body));
    (void)!write(fd, head, (size_t)hn);
    (void)!write(fd, body, strlen(body));
}

static void answer(bt_svc_daemon *d, int fd, const char *path)
{
    bt_svc_health *h = d->health;
    if (strcmp(path, "/live") == 0)
        respond(fd, 200, "alive", NULL, false);
    else if (strcmp(path, "/ready") == 0)
        d->set.ready ? respond(fd, 200, "ready", NULL, false)
                     : respond(fd, 503, "not_ready", "not connected to ConductorOne yet", false);
    else if (strcmp(path, "/health") == 0) {
        if (h->checked_at == 0 || bt_clock_monotonic() - h->checked_at > HEALTH_CACHE_SECONDS)
            run_check(d, h);
        h->healthy ? respond(fd, 200, "healthy", NULL, false)
                   : respond(fd, 503, "unhealthy", h->error, true);
    } else
        respond(fd, 404, "not_found", "unknown path (use /live, /ready or /health)", false);
}

/* Read the request head (1 s at most); the path of a GET, else "". */
static void read_path(int fd, char *path, size_t n)
{
    char req[2048];
    size_t len = 0;
    struct timeval tv = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    path[0] = '\0';
    while (len < sizeof req - 1 && !memmem(req, len, "\r\n\r\n", 4)) {
        ssize_t r = read(fd, req + len, sizeof req - 1 - len);
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    req[len] = '\0';
    if (strncmp(req, "GET ", 4) != 0)
        return;
    size_t p = strcspn(req + 4, " ?\r\n");
    if (p < n)
        snprintf(path, n, "%.*s", (int)p, req + 4);
}

void bt_svc_health_serve(bt_svc_daemon *d)
{
    int fd = accept4(d->health->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char path[64];
    read_path(fd, path, sizeof path);
    answer(d, fd, path);
    close(fd);
}
