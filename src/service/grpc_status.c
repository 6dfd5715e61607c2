/* gRPC status policy and the protocol's timing rules, as pure functions. */
#include "service/svc.h"

#include <stdio.h>
#include <string.h>

int bt_grpc_code_from_http(long s)
{
    switch (s) {
    case 400: return BT_GRPC_INTERNAL;
    case 401: return BT_GRPC_UNAUTHENTICATED;
    case 403: return BT_GRPC_PERMISSION_DENIED;
    case 404: return BT_GRPC_UNIMPLEMENTED;
    case 429: case 502: case 503: case 504: return BT_GRPC_UNAVAILABLE;
    default: return BT_GRPC_UNKNOWN;
    }
}

bool bt_grpc_code_is_permanent(int code)
{
    return code == BT_GRPC_UNAUTHENTICATED || code == BT_GRPC_PERMISSION_DENIED ||
           code == BT_GRPC_INVALID_ARGUMENT || code == BT_GRPC_UNIMPLEMENTED ||
           code == BT_GRPC_FAILED_PRECONDITION || code == BT_GRPC_NOT_FOUND;
}

static int hexval(char c)
{
    return c >= '0' && c <= '9' ? c - '0' : c >= 'a' && c <= 'f' ? c - 'a' + 10
         : c >= 'A' && c <= 'F' ? c - 'A' + 10 : -1;
}

/* %XX decoding; bytes that would be control characters become '?', so a
 * server's text cannot forge log lines. */
void bt_grpc_message_decode(const char *in, size_t n, char *out, size_t outsz)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 1 < outsz; i++) {
        unsigned char ch = (unsigned char)in[i];
        if (ch == '%' && i + 2 < n && hexval(in[i + 1]) >= 0 && hexval(in[i + 2]) >= 0) {
            ch = (unsigned char)(hexval(in[i + 1]) << 4 | hexval(in[i + 2]));
            i += 2;
        }
        out[o++] = (ch < 0x20 || ch == 0x7f) ? '?' : (char)ch;
    }
    if (outsz)
        out[o] = '\0';
}

void bt_grpc_timeout_value(double seconds, char *out, size_t outsz)
{
    static const struct { char unit; double per_second; } units[] = {
        {'n', 1e9}, {'u', 1e6}, {'m', 1e3}, {'S', 1}, {'M', 1.0 / 60}, {'H', 1.0 / 3600}};
    if (seconds < 0)
        seconds = 0;
    for (size_t i = 0; i < sizeof units / sizeof units[0]; i++) {
        double v = seconds * units[i].per_second;
        if (v < 1e8) {
            long n = (long)v;
            snprintf(out, outsz, "%ld%c", n < 1 ? 1 : n, units[i].unit);
            return;
        }
    }
    snprintf(out, outsz, "99999999H");
}

double bt_svc_poll_wait(bool has_next_poll, double next_poll)
{
    if (!has_next_poll || next_poll < 0)
        return 0;
    return next_poll > 300 ? 300 : next_poll;
}

double bt_svc_poll_error_wait(int err_count)
{
    double w = (double)err_count * err_count;
    return w > 60 ? 60 : w;
}

double bt_svc_heartbeat_interval(double next_heartbeat)
{
    if (next_heartbeat <= 0)
        return 30;
    return next_heartbeat < 1 ? 1 : next_heartbeat > 300 ? 300 : next_heartbeat;
}

double bt_svc_hello_backoff(int failures)
{
    double w = 1;
    for (int i = 1; i < failures && w < 300; i++)
        w *= 2;
    return w > 300 ? 300 : w;
}
