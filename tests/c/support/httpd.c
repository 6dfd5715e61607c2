/* A tiny loopback HTTP/1.1 server for the HTTP and GraphQL tests. */
#define _GNU_SOURCE
#include "httpd.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

#define MAX_CONNS 256
#define MAX_HEADER 65536

struct httpd {
    int listen_fd;
    int wake[2]; /* written once at stop: every poll sees it readable */
    int port;
    pthread_t acceptor;
    pthread_mutex_t mu;
    pthread_t conns[MAX_CONNS];
    int nconns;
    httpd_response *queue;
    int qlen, qcap, qhead;
    httpd_handler handler;
    void *handler_ud;
    httpd_request *reqs;
    int nreqs, reqcap;
    char url[300];
};

typedef struct conn_arg {
    httpd *s;
    int fd;
    int number;
} conn_arg;

/* ---- small I/O helpers ---- */

/* Wait until fd is readable; false when the server is stopping. */
static bool wait_readable(httpd *s, int fd)
{
    struct pollfd p[2] = {{fd, POLLIN, 0}, {s->wake[0], POLLIN, 0}};
    for (;;) {
        if (poll(p, 2, -1) < 0)
            continue;
        if (p[1].revents)
            return false;
        if (p[0].revents)
            return true;
    }
}

static bool send_all(int fd, const char *p, size_t n)
{
    while (n > 0) {
        ssize_t w = send(fd, p, n, MSG_NOSIGNAL);
        if (w <= 0)
            return false;
        p += w;
        n -= (size_t)w;
    }
    return true;
}

/* ---- gzip with stored (uncompressed) deflate blocks ---- */

static uint32_t crc32_of(const unsigned char *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c >> 1) ^ (0xEDB88320u & (0u - (c & 1)));
    }
    return ~c;
}

static void put_le(unsigned char *o, uint32_t v, int bytes)
{
    for (int i = 0; i < bytes; i++)
        o[i] = (unsigned char)(v >> (8 * i));
}

static char *gzip_stored(const char *body, size_t n, size_t *outlen)
{
    size_t blocks = n / 65535 + 1;
    unsigned char *o = malloc(10 + blocks * 5 + n + 8), *q = o;
    static const unsigned char hdr[10] = {0x1f, 0x8b, 8, 0, 0, 0, 0, 0, 0, 0xff};
    memcpy(q, hdr, 10);
    q += 10;
    size_t off = 0;
    for (size_t b = 0; b < blocks; b++) {
        size_t len = n - off > 65535 ? 65535 : n - off;
        *q++ = b + 1 == blocks ? 1 : 0;
        put_le(q, (uint32_t)len, 2);
        put_le(q + 2, (uint32_t)(~len & 0xFFFF), 2);
        q += 4;
        memcpy(q, body + off, len);
        q += len;
        off += len;
    }
    put_le(q, crc32_of((const unsigned char *)body, n), 4);
    put_le(q + 4, (uint32_t)n, 4);
    *outlen = (size_t)(q + 8 - o);
    return (char *)o;
}

/* ---- requests ---- */

typedef struct rdbuf {
    char *data;
    size_t len, cap;
} rdbuf;

static bool read_more(httpd *s, int fd, rdbuf *b)
{
    if (b->cap - b->len < 4096) {
        b->cap = b->cap ? b->cap * 2 : 8192;
        b->data = realloc(b->data, b->cap);
    }
    if (!wait_readable(s, fd))
        return false;
    ssize_t n = recv(fd, b->data + b->len, b->cap - b->len - 1, 0);
    if (n <= 0)
        return false;
    b->len += (size_t)n;
    b->data[b->len] = '\0';
    return true;
}

bool httpd_header(const char *headers, const char *name, char *out, size_t outsz)
{
    size_t nl = strlen(name);
    for (const char *line = headers; line && *line;) {
        const char *eol = strstr(line, "\r\n");
        if (strncasecmp(line, name, nl) == 0 && line[nl] == ':') {
            const char *v = line + nl + 1;
            while (*v == ' ')
                v++;
            size_t n = eol ? (size_t)(eol - v) : strlen(v);
            snprintf(out, outsz, "%.*s", (int)n, v);
            return true;
        }
        line = eol ? eol + 2 : NULL;
    }
    return false;
}

static bool parse_head(rdbuf *b, size_t hlen, httpd_request *req)
{
    memset(req, 0, sizeof *req);
    const char *eol = strstr(b->data, "\r\n");
    if (sscanf(b->data, "%15s %255s", req->method, req->path) != 2)
        return false;
    req->headers = strndup(eol + 2, hlen - (size_t)(eol + 2 - b->data));
    return true;
}

/* One request from the connection; false when it ended. */
static bool read_request(httpd *s, int fd, rdbuf *b, httpd_request *req)
{
    char *end;
    while (!b->data || !(end = memmem(b->data, b->len, "\r\n\r\n", 4)))
        if (b->len > MAX_HEADER || !read_more(s, fd, b))
            return false;
    size_t hlen = (size_t)(end - b->data) + 4;
    if (!parse_head(b, hlen, req))
        return false;
    char cl[32] = "0";
    httpd_header(req->headers, "Content-Length", cl, sizeof cl);
    req->body_len = strtoul(cl, NULL, 10);
    while (b->len < hlen + req->body_len)
        if (!read_more(s, fd, b)) {
            free(req->headers);
            return false;
        }
    req->body = malloc(req->body_len + 1);
    memcpy(req->body, b->data + hlen, req->body_len);
    req->body[req->body_len] = '\0';
    b->len -= hlen + req->body_len;
    memmove(b->data, b->data + hlen + req->body_len, b->len);
    return true;
}

static void copy_request(httpd_request *dst, const httpd_request *src)
{
    *dst = *src;
    dst->headers = strdup(src->headers);
    dst->body = malloc(src->body_len + 1);
    memcpy(dst->body, src->body, src->body_len + 1);
}

static void record(httpd *s, const httpd_request *req)
{
    pthread_mutex_lock(&s->mu);
    if (s->nreqs == s->reqcap) {
        s->reqcap = s->reqcap ? s->reqcap * 2 : 16;
        s->reqs = realloc(s->reqs, (size_t)s->reqcap * sizeof *s->reqs);
    }
    copy_request(&s->reqs[s->nreqs++], req);
    pthread_mutex_unlock(&s->mu);
}

void httpd_request_free(httpd_request *r)
{
    free(r->headers);
    free(r->body);
    r->headers = r->body = NULL;
}

/* ---- responses ---- */

static const char *reason(int status)
{
    switch (status) {
    case 200: return "OK";
    case 301: return "Moved Permanently";
    case 302: return "Found";
    case 303: return "See Other";
    case 307: return "Temporary Redirect";
    case 308: return "Permanent Redirect";
    case 400: return "Bad Request";
    case 401: return "Unauthorized";
    case 403: return "Forbidden";
    case 404: return "Not Found";
    case 429: return "Too Many Requests";
    case 500: return "Internal Server Error";
    case 502: return "Bad Gateway";
    case 503: return "Service Unavailable";
    default: return "Status";
    }
}

static void next_response(httpd *s, const httpd_request *req, httpd_response *out)
{
    pthread_mutex_lock(&s->mu);
    bool queued = s->qhead < s->qlen;
    if (queued)
        *out = s->queue[s->qhead++];
    httpd_handler fn = s->handler;
    void *ud = s->handler_ud;
    pthread_mutex_unlock(&s->mu);
    if (queued)
        return;
    memset(out, 0, sizeof *out);
    out->body_len = -1;
    if (fn) {
        fn(req, out, ud);
    } else {
        out->status = 500;
        out->body = "{\"errors\":[{\"message\":\"test server: no scripted response\"}]}";
    }
}

/* Sends r; true when the connection stays open. */
static bool send_reply(int fd, const httpd_response *r)
{
    const char *body = r->body ? r->body : "";
    size_t len = r->body_len >= 0 ? (size_t)r->body_len : strlen(body);
    char *gz = r->gzip ? gzip_stored(body, len, &len) : NULL;
    char ctype[128];
    const char *extra = r->headers ? r->headers : "";
    bool has_ctype = httpd_header(extra, "Content-Type", ctype, sizeof ctype);
    char head[4096], clen[64] = "Connection: close\r\n";
    if (!r->no_length)
        snprintf(clen, sizeof clen, "Content-Length: %zu\r\n", len);
    int hn =
        snprintf(head, sizeof head, "HTTP/1.1 %d %s\r\n%s%s%s%s\r\n", r->status, reason(r->status),
                 clen, has_ctype ? "" : "Content-Type: application/json\r\n",
                 gz ? "Content-Encoding: gzip\r\n" : "", extra);
    size_t send_len =
        r->mode == HTTPD_TRUNCATE && (size_t)r->truncate_at < len ? (size_t)r->truncate_at : len;
    bool ok = send_all(fd, head, (size_t)hn) && send_all(fd, gz ? gz : body, send_len);
    free(gz);
    char conn[32];
    bool close_it =
        httpd_header(extra, "Connection", conn, sizeof conn) && strcasecmp(conn, "close") == 0;
    return ok && r->mode == HTTPD_REPLY && !close_it && !r->no_length;
}

static bool respond(httpd *s, int fd, const httpd_response *r)
{
    if (r->mode == HTTPD_DROP)
        return false;
    if (r->mode == HTTPD_HANG) {
        wait_readable(s, fd); /* the client gave up (EOF) or the server stops */
        return false;
    }
    return send_reply(fd, r);
}

/* ---- threads ---- */

static void *conn_main(void *arg)
{
    conn_arg a = *(conn_arg *)arg;
    free(arg);
    rdbuf b = {0};
    httpd_request req;
    while (read_request(a.s, a.fd, &b, &req)) {
        req.connection = a.number;
        record(a.s, &req);
        httpd_response r;
        next_response(a.s, &req, &r);
        bool keep = respond(a.s, a.fd, &r);
        if (r.free_body)
            free((char *)r.body);
        httpd_request_free(&req);
        if (!keep)
            break;
    }
    close(a.fd);
    free(b.data);
    return NULL;
}

static void spawn(httpd *s, int fd)
{
    pthread_mutex_lock(&s->mu);
    conn_arg *a = malloc(sizeof *a);
    *a = (conn_arg){s, fd, s->nconns + 1};
    if (s->nconns == MAX_CONNS || pthread_create(&s->conns[s->nconns], NULL, conn_main, a) != 0) {
        close(fd);
        free(a);
    } else {
        s->nconns++;
    }
    pthread_mutex_unlock(&s->mu);
}

static void *accept_main(void *arg)
{
    httpd *s = arg;
    while (wait_readable(s, s->listen_fd)) {
        int fd = accept(s->listen_fd, NULL, NULL);
        int one = 1;
        if (fd >= 0 && setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one) == 0)
            spawn(s, fd);
        else if (fd >= 0)
            close(fd);
    }
    return NULL;
}

static int listen_on(int port, int *bound)
{
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t alen = sizeof a;
    if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof a) != 0 || listen(fd, 64) != 0 ||
        getsockname(fd, (struct sockaddr *)&a, &alen) != 0) {
        if (fd >= 0)
            close(fd);
        return -1;
    }
    *bound = ntohs(a.sin_port);
    return fd;
}

int httpd_free_port(void)
{
    int port = 0;
    int fd = listen_on(0, &port);
    if (fd >= 0)
        close(fd);
    return port;
}

httpd *httpd_start(int port)
{
    httpd *s = calloc(1, sizeof *s);
    s->listen_fd = listen_on(port, &s->port);
    if (s->listen_fd < 0 || pipe(s->wake) != 0) {
        free(s);
        return NULL;
    }
    pthread_mutex_init(&s->mu, NULL);
    pthread_create(&s->acceptor, NULL, accept_main, s);
    return s;
}

void httpd_stop(httpd *s)
{
    if (!s)
        return;
    char c = 'x';
    if (write(s->wake[1], &c, 1) != 1)
        abort();
    pthread_join(s->acceptor, NULL);
    for (int i = 0; i < s->nconns; i++)
        pthread_join(s->conns[i], NULL);
    close(s->listen_fd);
    close(s->wake[0]);
    close(s->wake[1]);
    for (int i = 0; i < s->qlen; i++) {
        free((char *)s->queue[i].body);
        free((char *)s->queue[i].headers);
    }
    for (int i = 0; i < s->nreqs; i++)
        httpd_request_free(&s->reqs[i]);
    free(s->queue);
    free(s->reqs);
    pthread_mutex_destroy(&s->mu);
    free(s);
}

/* ---- the test's side ---- */

int httpd_port(const httpd *s) { return s->port; }

const char *httpd_url(httpd *s, const char *path)
{
    snprintf(s->url, sizeof s->url, "http://127.0.0.1:%d%s", s->port, path ? path : "/");
    return s->url;
}

void httpd_push(httpd *s, const httpd_response *r)
{
    httpd_response c = *r;
    size_t len = r->body ? (r->body_len >= 0 ? (size_t)r->body_len : strlen(r->body)) : 0;
    char *body = malloc(len + 1);
    if (len)
        memcpy(body, r->body, len);
    body[len] = '\0';
    c.body = body;
    c.body_len = (long)len;
    c.headers = r->headers ? strdup(r->headers) : NULL;
    c.free_body = false; /* freed at stop */
    pthread_mutex_lock(&s->mu);
    if (s->qlen == s->qcap) {
        s->qcap = s->qcap ? s->qcap * 2 : 16;
        s->queue = realloc(s->queue, (size_t)s->qcap * sizeof *s->queue);
    }
    s->queue[s->qlen++] = c;
    pthread_mutex_unlock(&s->mu);
}

void httpd_push_json(httpd *s, int status, const char *body)
{
    httpd_response r = {.status = status, .body = body, .body_len = -1};
    httpd_push(s, &r);
}

void httpd_set_handler(httpd *s, httpd_handler fn, void *ud)
{
    pthread_mutex_lock(&s->mu);
    s->handler = fn;
    s->handler_ud = ud;
    pthread_mutex_unlock(&s->mu);
}

int httpd_request_count(httpd *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nreqs;
    pthread_mutex_unlock(&s->mu);
    return n;
}

int httpd_connection_count(httpd *s)
{
    pthread_mutex_lock(&s->mu);
    int n = s->nconns;
    pthread_mutex_unlock(&s->mu);
    return n;
}

bool httpd_request_get(httpd *s, int i, httpd_request *out)
{
    pthread_mutex_lock(&s->mu);
    bool ok = i >= 0 && i < s->nreqs;
    if (ok)
        copy_request(out, &s->reqs[i]);
    pthread_mutex_unlock(&s->mu);
    return ok;
}
