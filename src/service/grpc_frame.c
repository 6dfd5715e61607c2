/* gRPC length-prefixed messages: 1 byte compressed flag (always 0 here),
 * 4 bytes big-endian length, then the protobuf bytes. */
#include "service/svc.h"

#include <string.h>

#define BT_GRPC_MAX_MESSAGE (4u << 20) /* what the Go client accepts */

int bt_grpc_frame_append(bt_buf *b, const void *msg, size_t n)
{
    unsigned char h[5] = {0, (unsigned char)(n >> 24), (unsigned char)(n >> 16),
                          (unsigned char)(n >> 8), (unsigned char)n};
    if (n > 0xffffffffu || bt_buf_append(b, h, sizeof h) != 0)
        return -1;
    return n ? bt_buf_append(b, msg, n) : 0;
}

int bt_grpc_frame_single(const unsigned char *body, size_t len, const unsigned char **msg,
                         size_t *n)
{
    if (len == 0)
        return 0;
    if (len < 5 || body[0] != 0)
        return -1; /* truncated, or compressed (never negotiated) */
    size_t size = (size_t)body[1] << 24 | (size_t)body[2] << 16 | (size_t)body[3] << 8 | body[4];
    if (size > BT_GRPC_MAX_MESSAGE || size != len - 5)
        return -1; /* cut short, or a second message after it */
    *msg = body + 5;
    *n = size;
    return 1;
}
