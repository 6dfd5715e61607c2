/* The descriptor-guided wire check run before protobuf-c unpacks untrusted
 * bytes (bt/pb_check.h): bounds, varints, wire types, depth, UTF-8; on
 * request also NUL bytes in string fields, named by their path. */
#include "bt/pb_check.h"
#include "bt/codec.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

/* What one walk shares across its levels. */
typedef struct {
    char *err;
    size_t errsz;
    bool refuse_nul; /* a NUL byte in a string field is refused too */
    char path[256];  /* the dotted field names down to the message being read */
} walk;

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    char *err;
    size_t errsz;
    walk *k; /* NULL outside a descriptor walk */
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
                         int depth, walk *k);

static int check_string(const ProtobufCFieldDescriptor *f, wire *w, const uint8_t *s, size_t n)
{
    if (!bt_utf8_is_valid((const char *)s, n))
        return fail(w->err, w->errsz, "invalid UTF-8 in string field %s", f->name);
    if (w->k->refuse_nul && memchr(s, 0, n))
        return fail(w->err, w->errsz, "string field %s%s holds a NUL byte", w->k->path, f->name);
    return 0;
}

/* A nested message, its field name on the path while it is read. */
static int check_nested(const ProtobufCFieldDescriptor *f, wire *w, const uint8_t *p, size_t n,
                        int depth)
{
    walk *k = w->k;
    size_t at = strlen(k->path);
    if (k->refuse_nul)
        snprintf(k->path + at, sizeof k->path - at, "%s.", f->name);
    int rc = check_message(f->descriptor, p, n, depth + 1, k);
    k->path[at] = '\0';
    return rc;
}

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
    if (f->type == PROTOBUF_C_TYPE_STRING)
        return check_string(f, w, w->p + start, (size_t)len);
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    return check_nested(f, w, w->p + start, (size_t)len, depth);
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
                         int depth, walk *k)
{
    if (depth > BT_PB_MAX_DEPTH)
        return fail(k->err, k->errsz, "messages nested deeper than %d levels", BT_PB_MAX_DEPTH);
    wire w = {p, n, 0, k->err, k->errsz, k};
    while (w.pos < w.n) {
        uint64_t tag;
        if (read_varint(&w, &tag) < 0 || check_field(d, &w, tag, depth) < 0)
            return -1;
    }
    return 0;
}

/* 0 when the bytes may be unpacked as d, else -1 with err (one line) filled. */
static int wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                      bool refuse_nul, char *err, size_t errsz)
{
    walk k = {err, errsz, refuse_nul, ""};
    return check_message(d, p, n, 1, &k);
}

int bt_pb_check_no_nul(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                       char *err, size_t errsz)
{
    static const uint8_t empty;
    return wire_check(d, data ? data : &empty, n, true, err, errsz);
}

ProtobufCMessage *bt_pb_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                               char *err, size_t errsz)
{
    static const uint8_t empty;
    const uint8_t *p = data ? data : &empty;
    if (wire_check(d, p, n, false, err, errsz) < 0)
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
    wire w = {p, n, 0, NULL, 0, NULL};
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
