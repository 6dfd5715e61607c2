/* A tiny loopback HTTP/1.1 server for tests: scripted responses (a queue, then
 * an optional handler), keep-alive, faults (drop, truncate, hang), gzip, and a
 * record of every request received. One thread per connection. */
#ifndef BT_TEST_HTTPD_H
#define BT_TEST_HTTPD_H
#include <stdbool.h>
#include <stddef.h>

typedef enum {
    HTTPD_REPLY = 0, /* a normal response */
    HTTPD_DROP,      /* read the request, close without answering */
    HTTPD_TRUNCATE,  /* full Content-Length, only truncate_at body bytes, close */
    HTTPD_HANG,      /* read the request, never answer (until the client leaves) */
} httpd_mode;

typedef struct httpd_response {
    int status;
    const char *headers; /* extra lines, each "Name: value\r\n"; NULL for none */
    const char *body;    /* NULL: empty */
    long body_len;       /* -1: strlen(body) */
    httpd_mode mode;
    long truncate_at;
    bool gzip;      /* send Content-Encoding: gzip */
    bool no_length; /* no Content-Length: the body ends when the connection closes */
    bool free_body; /* handler responses: the server frees body after sending */
} httpd_response;

typedef struct httpd_request {
    char method[16];
    char path[256];
    char *headers; /* the raw header block, NUL-terminated */
    char *body;    /* NUL-terminated */
    size_t body_len;
    int connection; /* 1-based number of the connection it arrived on */
} httpd_request;

typedef void (*httpd_handler)(const httpd_request *req, httpd_response *out, void *ud);

typedef struct httpd httpd;

/* Listen on 127.0.0.1 (port 0 = any free port). NULL on failure. */
httpd *httpd_start(int port);
void httpd_stop(httpd *s); /* joins every thread; frees everything */
int httpd_port(const httpd *s);
/* "http://127.0.0.1:<port><path>" in a buffer owned by s (valid until the next call). */
const char *httpd_url(httpd *s, const char *path);
/* A port nobody listens on right now (bound then released). */
int httpd_free_port(void);

/* Queue a response (copied). */
void httpd_push(httpd *s, const httpd_response *r);
/* Queue a JSON response with the given status. */
void httpd_push_json(httpd *s, int status, const char *body);
/* Called when the queue is empty. */
void httpd_set_handler(httpd *s, httpd_handler fn, void *ud);

int httpd_request_count(httpd *s);
int httpd_connection_count(httpd *s);
/* Copy of request i (0-based); caller frees with httpd_request_free. */
bool httpd_request_get(httpd *s, int i, httpd_request *out);
void httpd_request_free(httpd_request *r);
/* Value of header `name` in a raw header block, copied into out; false if absent. */
bool httpd_header(const char *headers, const char *name, char *out, size_t outsz);

#endif
