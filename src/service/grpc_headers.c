/* The gRPC status of an answer, from its header and trailer lines (libcurl
 * hands HTTP/2 trailers to the header callback too), its HTTP status and its
 * body. Trailers-only answers carry grpc-status among the headers. */
#include "service/svc.h"

#include <string.h>
#include <strings.h>

static bool header_is(const char *line, size_t n, const char *name, const char **value,
                      size_t *vlen)
{
    size_t k = strlen(name);
    if (n <= k || strncasecmp(line, name, k) != 0 || line[k] != ':')
        return false;
    const char *v = line + k + 1, *end = line + n;
    while (v < end && (*v == ' ' || *v == '\t'))
        v++;
    while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
        end--;
    *value = v;
    *vlen = (size_t)(end - v);
    return true;
}

/* grpc-status: decimal digits only (else false: malformed). The codes are
 * 0-16; a larger number counts as UNKNOWN, as the gRPC spec says. */
static bool parse_status(const char *v, size_t n, int *status)
{
    unsigned value = 0;
    if (n == 0)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (v[i] < '0' || v[i] > '9')
            return false;
        if (value <= BT_GRPC_UNAUTHENTICATED)
            value = value * 10 + (unsigned)(v[i] - '0');
    }
    *status = value <= BT_GRPC_UNAUTHENTICATED ? (int)value : BT_GRPC_UNKNOWN;
    return true;
}

void bt_grpc_headers_line(bt_grpc_headers *h, const char *line, size_t n)
{
    const char *v;
    size_t vlen;
    if (header_is(line, n, "content-type", &v, &vlen))
        h->grpc_content_type = vlen >= 16 && strncasecmp(v, "application/grpc", 16) == 0 &&
                               (vlen == 16 || v[16] == '+' || v[16] == ';');
    else if (header_is(line, n, "grpc-status", &v, &vlen))
        h->has_status = parse_status(v, vlen, &h->status); else if (header_is(line, n, "grpc-message", &v, &vlen))
        bt_grpc_message_decode(v, vlen, h->message, sizeof h->message);
}

int bt_grpc_result_set(bt_grpc_result *r, int code, const char *msg)
{
    size_t n = strnlen(msg, sizeof r->message - 1);
    r->code = code;
    memcpy(r->message, msg, n);
    r->message[n] = '\0';
    return code;
}

int bt_grpc_headers_result(const bt_grpc_headers *h, long http_status, bool http2,
                           const unsigned char *body, size_t len, bt_grpc_result *r)
{
    char why[600];
    if (!http2)
        return bt_grpc_result_set(r, BT_GRPC_UNAVAILABLE, "the server did not negotiate HTTP/2 (ALPN h2)");
    if (http_status != 200) {
        snprintf(why, sizeof why, "HTTP %ld%s%s", http_status, h->message[0] ? ": " : "",
                 h->message);
        return bt_grpc_result_set(r, bt_grpc_code_from_http(http_status), why);
    }
    if (!h->grpc_content_type)
        return bt_grpc_result_set(r, BT_GRPC_UNKNOWN, "the answer is not application/grpc");
    if (!h->has_status)
        return bt_grpc_result_set(r, BT_GRPC_UNAVAILABLE, "the answer ended without grpc-status");
    if (h->status != BT_GRPC_OK)
        return bt_grpc_result_set(r, h->status, h->message[0] ? h->message : "(no message)");
    int got = bt_grpc_frame_single(body, len, &r->msg, &r->msg_len);
    if (got < 0)
        return bt_grpc_result_set(r, BT_GRPC_INTERNAL, "malformed response message framing");
    if (got == 0)
        return bt_grpc_result_set(r, BT_GRPC_INTERNAL, "grpc-status 0 without a response message");
    return bt_grpc_result_set(r, BT_GRPC_OK, "");
}
