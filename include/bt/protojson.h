/* A protobuf-c message as the JSON Go's protojson prints, compact
 * (src/codec/protojson.c): lowerCamelCase field names, proto3 defaults
 * omitted, enums by name, int64 as strings, bytes as base64, Any as
 * {"@type": url, ...fields}, Struct/Value/ListValue as plain JSON, Timestamp
 * as RFC 3339 UTC, maps as objects; fields in field-number order. Strings go
 * through the codec's escaper (invalid UTF-8 becomes U+FFFD). Driven by the
 * descriptors only: no Lua, no I/O. The JSONL sink and `show` both use it. */
#ifndef BT_PROTOJSON_H
#define BT_PROTOJSON_H
#include <protobuf-c/protobuf-c.h>
#include <stdbool.h>

#include "bt/buf.h"

typedef struct {
    /* An Any's payload as a message, or NULL when its type is unknown or it
     * does not decode (it is then written as base64 under "value"). NULL
     * function: every payload as base64. */
    ProtobufCMessage *(*unpack_any)(void *ctx, const char *type_url, const uint8_t *data,
                                    size_t len);
    void *ctx; /* for unpack_any */
    int max_depth; /* nesting (messages, Struct, ListValue, Any) allowed; 0 = no limit */
} bt_protojson_opts;

enum { BT_PROTOJSON_OOM = -1, BT_PROTOJSON_TOO_DEEP = -2 };

/* Append m as JSON. 0, BT_PROTOJSON_OOM or BT_PROTOJSON_TOO_DEEP (b may then
 * hold part of it). */
int bt_protojson_write(bt_buf *b, const ProtobufCMessage *m, const bt_protojson_opts *o);
/* Append m's members without the braces, each preceded by a comma when
 * *first is false (then *first becomes false). For {"kind":...,<fields>}. */
int bt_protojson_write_members(bt_buf *b, const ProtobufCMessage *m, bool *first,
                               const bt_protojson_opts *o);

#define BT_PROTOJSON_DOUBLE_LEN 40 /* a double as protojson writes it, NUL included */

#endif
