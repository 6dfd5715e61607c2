/* The health check server for orchestrators (--health-check): plain HTTP on
 * the bind address and port, GET (or HEAD: the same head, no body) /live,
 * /ready and /health, JSON bodies.
 * /health answers from the cached check, or waits for a new one
 * (health_check.c) without holding up the daemon. */
#define _GNU_SOURCE /* accept4, memmem */
#include "bt/files.h"
#include "service/health.h"
#include "bt/clock.h"
#include "bt/codec.h"
#include "bt/log.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define REQUEST_SECONDS 0.5 /* to read a probe's request head */

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
    h->check_fd = -1;
    bt_info("service: health checks on http://%s:%d/{live,ready,health}", d->set.health_bind,
            d->set.health_port);
    return h;
}

int bt_svc_health_fd(const bt_svc_health *h) { return h->fd; }

void bt_svc_health_free(bt_svc_health *h)
{
    if (!h)
        return;
    if (h->check_pid > 0) {
        kill(h->check_pid, SIGKILL);
        waitpid(h->check_pid, NULL, 0);
    }
    if (h->check_fd >= 0)
        close(h->check_fd);
    for (int i = 0; i < h->n_waiting; i++)
        close(h->waiting[i]);
    close(h->fd);
    free(h);
}

void bt_svc_health_close_fds(bt_svc_health *h)
{
    if (h->check_fd >= 0)
        close(h->check_fd);
    for (int i = 0; i < h->n_waiting; i++)
        close(h->waiting[i]);
    close(h->fd);
}

void bt_svc_health_store(bt_svc_health *h, bool healthy, const char *why)
{
    h->healthy = healthy;
    snprintf(h->error, sizeof h->error, "%s", healthy ? "" : why);
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

/* Best effort: a child's or a client's end may be gone. */
static void write_all(int fd, const char *p, size_t n) { (void)bt_write_all(fd, p, n); }

/* The JSON answer; error (the check's text: any bytes) escaped as valid JSON.
 * A HEAD request gets the same status and headers without the body. */
static void respond(int fd, bool head_only, int code, const char *status, const char *error,
                    bool validation)
{
    char ts[32], head[256];
    bt_buf body = {0};
    timestamp(ts, sizeof ts);
    bt_buf_puts(&body, "{\"status\":\"");
    bt_buf_puts(&body, status);
    bt_buf_puts(&body, "\",\"timestamp\":\"");
    bt_buf_puts(&body, ts);
    bt_buf_puts(&body, "\"");
    if (error) {
        bt_buf_puts(&body, ",\"details\":{\"error\":");
        if (validation) {
            bt_buf_puts(&body, "\"validation failed\",\"validation_error\":");
        }
        bt_json_str_append(&body, error, strlen(error));
        bt_buf_puts(&body, "}");
    }
    if (bt_buf_puts(&body, "}\n") != 0 || !body.data) {
        bt_buf_free(&body);
        return; /* out of memory: the probe sees the connection close */
    }
    int hn = snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\nContent-Type: application/json\r\n"
                      "Content-Length: %zu\r\nConnection: close\r\n\r\n",
                      code, code == 200 ? "OK" : code == 404 ? "Not Found" : "Service Unavailable",
                      body.len);
    write_all(fd, head, (size_t)hn);
    if (!head_only)
        write_all(fd, body.data, body.len);
    bt_buf_free(&body);
}

static void answer_health(int fd, bool head, const bt_svc_health *h)
{
    h->healthy ? respond(fd, head, 200, "healthy", NULL, false)
               : respond(fd, head, 503, "unhealthy", h->error, true);
}

void bt_svc_health_answer_waiting(bt_svc_health *h)
{
    for (int i = 0; i < h->n_waiting; i++) {
        answer_health(h->waiting[i], h->waiting_head[i], h);
        close(h->waiting[i]);
    }
    h->n_waiting = 0;
}

/* Returns true when fd was answered (and may be closed). */
static bool answer(bt_svc_daemon *d, int fd, const char *path, bool head)
{
    bt_svc_health *h = d->health;
    if (strcmp(path, "/live") == 0)
        respond(fd, head, 200, "alive", NULL, false);
    else if (strcmp(path, "/ready") == 0)
        d->set.ready ? respond(fd, head, 200, "ready", NULL, false)
                     : respond(fd, head, 503, "not_ready", "not connected to ConductorOne yet", false);
    else if (strcmp(path, "/health") != 0)
        respond(fd, head, 404, "not_found", "unknown path (use /live, /ready or /health)", false);
    else if (bt_svc_health_fresh(h))
        answer_health(fd, head, h);
    else if (h->n_waiting == HEALTH_MAX_WAITING)
        respond(fd, head, 503, "unhealthy", "too many health probes waiting", false);
    else {
        h->waiting_head[h->n_waiting] = head;
        h->waiting[h->n_waiting++] = fd; /* answered when the check ends */
        bt_svc_health_want_check(d, h);
        return false;
    }
    return true;
}

/* Read the request head within REQUEST_SECONDS in all (one deadline for the
 * whole head, however the client spreads its bytes); the path of a GET or
 * HEAD (*head set for HEAD), else "". The daemon is single-threaded: a slow client costs it this much at most. */
static void read_path(int fd, char *path, size_t n, bool *head)
{
    char req[2048];
    size_t len = 0;
    double deadline = bt_clock_monotonic() + REQUEST_SECONDS;
    path[0] = '\0';
    while (len < sizeof req - 1 && !memmem(req, len, "\r\n\r\n", 4)) {
        double left = deadline - bt_clock_monotonic();
        struct pollfd p = {fd, POLLIN, 0};
        int ready = left > 0 ? poll(&p, 1, (int)(left * 1000) + 1) : 0;
        if (ready < 0 && errno == EINTR)
            continue;
        if (ready <= 0)
            break;
        ssize_t r = recv(fd, req + len, sizeof req - 1 - len, MSG_DONTWAIT);
        if (r < 0 && (errno == EAGAIN || errno == EINTR))
            continue;
        if (r <= 0)
            break;
        len += (size_t)r;
    }
    req[len] = '\0';
    *head = strncmp(req, "HEAD ", 5) == 0;
    const char *target = *head ? req + 5 : strncmp(req, "GET ", 4) == 0 ? req + 4 : NULL;
    if (!target)
        return;
    size_t p = strcspn(target, " ?\r\n");
    if (p < n)
        snprintf(path, n, "%.*s", (int)p, target);
}

void bt_svc_health_serve(bt_svc_daemon *d)
{
    int fd = accept4(d->health->fd, NULL, NULL, SOCK_CLOEXEC);
    if (fd < 0)
        return;
    char path[64];
    bool head = false;
    read_path(fd, path, sizeof path, &head);
    if (answer(d, fd, path, head))
        close(fd);
}
