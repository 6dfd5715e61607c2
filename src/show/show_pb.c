/* Decoding the c1.connector.v2 blobs of a c1z with protobuf-c, after a
 * descriptor-guided check of the wire data (depth, bounds, UTF-8). */
#include <string.h>

#include "bt/model.h"
#include "bt/show.h"
#include "c1/connector/v2/annotation_entitlement.pb-c.h"
#include "c1/connector/v2/annotation_external_link.pb-c.h"
#include "c1/connector/v2/annotation_grant.pb-c.h"
#include "c1/connector/v2/annotation_resource_tree.pb-c.h"
#include "c1/connector/v2/annotation_trait.pb-c.h"
#include "c1/connector/v2/annotation_v1_identifier.pb-c.h"
#include "c1/connector/v2/asset.pb-c.h"
#include "c1/connector/v2/connector.pb-c.h"
#include "c1/connector/v2/entitlement.pb-c.h"
#include "c1/connector/v2/grant.pb-c.h"
#include "c1/connector/v2/resource.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

enum { WT_VARINT = 0, WT_I64 = 1, WT_LEN = 2, WT_I32 = 5 };

typedef struct {
    const uint8_t *p;
    size_t n, pos;
    bt_show_err *e;
} wire;

static int malformed(wire *w, const char *what)
{
    bt_show_fail(w->e, "malformed protobuf: %s", what);
    return -1;
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

static int check_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth,
                         bt_show_err *e);

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
    if (f->type == PROTOBUF_C_TYPE_STRING && !bt_show_utf8_valid(w->p + start, (size_t)len)) {
        bt_show_fail(w->e, "invalid UTF-8 in string field %s", f->name);
        return -1;
    }
    if (f->type != PROTOBUF_C_TYPE_MESSAGE)
        return 0;
    return check_message(f->descriptor, w->p + start, (size_t)len, depth + 1, w->e);
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

static int check_message(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n, int depth,
                         bt_show_err *e)
{
    if (depth > BT_SHOW_MAX_DEPTH) {
        bt_show_fail(e, "messages nested deeper than %d levels", BT_SHOW_MAX_DEPTH);
        return -1;
    }
    wire w = {p, n, 0, e};
    while (w.pos < w.n) {
        uint64_t tag;
        if (read_varint(&w, &tag) < 0 || check_field(d, &w, tag, depth) < 0)
            return -1;
    }
    return 0;
}

int bt_show_wire_check(const ProtobufCMessageDescriptor *d, const uint8_t *p, size_t n,
                       bt_show_err *e)
{
    return check_message(d, p, n, 1, e);
}

ProtobufCMessage *bt_show_decode(const ProtobufCMessageDescriptor *d, const void *data, size_t n,
                                 bt_show_err *e)
{
    static const uint8_t empty;
    const uint8_t *p = data ? data : &empty;
    if (bt_show_wire_check(d, p, n, e) < 0)
        return NULL;
    ProtobufCMessage *m = protobuf_c_message_unpack(d, NULL, n, p);
    if (!m)
        bt_show_fail(e, "malformed protobuf: %s does not parse", d->name);
    return m;
}

void bt_show_msg_free(ProtobufCMessage *m)
{
    if (m)
        protobuf_c_message_free_unpacked(m, NULL);
}

/* The sink's registry of known Any payloads serves the reader too. */
const ProtobufCMessageDescriptor *bt_show_type_for_url(const char *type_url)
{
    return bt_pb_find_type(type_url);
}
