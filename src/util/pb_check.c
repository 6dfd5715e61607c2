/* The descriptor-guided wire check run before protobuf-c unpacks untrusted
 * bytes (bt/pb_check.h): bounds, varints, wire types, depth, UTF-8. */
#include "bt/pb_check.h"
#include "bt/codec.h"

#include <stdarg.h>
#include <stdio.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    char *err;
    size_t errsz;
} wire;

static int fail(char *err, size_t errsz, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t errsz, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    if (err && errsz)
        vsnprintf(err, errsz, fmt, ap);
    va_end(ap);
    return -1;
}

static int malformed(wire *w, const char *what)
{
    return fail(w->err, w->errsz, "malformed protobuf: %s", what);
}

static int read_varint(wire *w, uint64_t *v)
{
    *v = 0;
    for (unsigned shift = 0; shift < 70 && w->pos < w->n; shift += 7) {
        uint8_t b = w->p[w->pos++];
        *v |= (uint64_t)(b & 0x7F) << shift;
        if (!(b & 0x80))
            return 0;
    }
    return malformed(w, "truncated or overlong varint");
}

static int skip(wire *w, uint64_t len)
{
    if (len > w->n - w->pos)
        return malformed(w, "field runs past the end of the message");
    w->pos += (size_t)len;
    return 0;
}

static int check_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                         int depth, char *err, size_t errsz);

static int check_len_field(const ProtobufCFieldDescriptor *f, wire *w, int depth)
{
    uint64_t len;
    if (read_varint(w, &len) < 0)
        return -1;
    size_t start = w->pos;
    if (skip(w, len) < 0)
        return -1;
    if (!f)
        return 0; /* unknown field: skipped */
    if (f->type == PROTOBUF_C_TYPE_STRING &&
        !bt_utf8_is_valid((const char *)w->p + start, (size_t)len))
        return fail(w->err, w->errsz, "invalid UTF-8 in string field %s", f->name);
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    return check_message(f->descriptor, w->p + start, (size_t)len, depth + 1, w->err, w->errsz);
}

static int check_field(const ProtobufCMessageDescriptor *d, wire *w, uint64_t tag, int depth)
{
    uint64_t number = tag >> 3, ignored;
    if (number == 0 || number > UINT32_MAX)
        return malformed(w, "field number out of range");
    const ProtobufCFieldDescriptor *f =
        protobuf_c_message_descriptor_get_field(d, (unsigned)number);
    switch (tag & 7) {
    case WT_VARINT:
        return read_varint(w, &ignored);
    case WT_I64:
        return skip(w, 8);
    case WT_I32:
        return skip(w, 4);
    case WT_LEN:
        return check_len_field(f, w, depth);
    default:
        return malformed(w, "unsupported wire type (group or reserved)");
    }
}

static int check_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                         int depth, char *err, size_t errsz)
{
    if (depth > BT_PB_MAX_DEPTH)
        return fail(err, errsz, "messages nested deeper than %d levels", BT_PB_MAX_DEPTH);
    wire w = {p, n, 0, err, errsz};
    while (w.pos < w.n) {
        uint64_t tag;
        if (read_varint(&w, &tag) < 0 || check_field(d, &w, tag, depth) < 0)
            return -1;
    }
    return 0;
}

/* 0 when the bytes may be unpacked as d, else -1 with err (one line) filled. */
static int wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, char *err,
                     size_t errsz)
{
    return check_message(d, p, n, 1, err, errsz);
}

ProtobufCMessage *bt_pb_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                               char *err, size_t errsz)
{
    static const uint8_t empty;
    const uint8_t *p = data ? data : &empty;
    if (wire_check(d, p, n, err, errsz) < 0)
        return NULL;
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
    if (!m)
        fail(err, errsz, "malformed protobuf: %s does not parse", d->name);
    return m;
}

/* Skip one field's value of wire type wt. */
static int skip_value(wire *w, unsigned wt)
{
    uint64_t v;
    switch (wt) {
    case WT_VARINT: return read_varint(w, &v);
    case WT_I64: return skip(w, 8);
    case WT_I32: return skip(w, 4);
    case WT_LEN: return read_varint(w, &v) < 0 ? -1 : skip(w, v);
    default: return malformed(w, "unknown wire type");
    }
}

bool bt_pb_field_bytes(const uint8_t *p, size_t n, uint32_t field, const uint8_t **out,
                       size_t *len)
{
    wire w = {p, n, 0, NULL, 0};
    bool found = false;
    while (w.pos < w.n) {
        uint64_t tag, flen;
        if (read_varint(&w, &tag) < 0)
            return false;
        if ((tag >> 3) != field || (tag & 7) != WT_LEN) {
            if (skip_value(&w, (unsigned)(tag & 7)) < 0)
                return false;
            continue;
        }
        if (read_varint(&w, &flen) < 0 || flen > w.n - w.pos)
            return false;
        *out = w.p + w.pos; /* the last occurrence wins, as in a parser */
        *len = (size_t)flen;
        found = true;
        w.pos += (size_t)flen;
    }
    return found;
}
