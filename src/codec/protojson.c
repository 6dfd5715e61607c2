/* protojson: a protobuf-c message as the JSON Go's protojson prints
 * (bt/protojson.h). Driven by the descriptors, so it serves every message of
 * vendor/baton/proto; the well-known types are told by their full names. */
#include "bt/protojson.h"

#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bt/codec.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

typedef struct {
    bt_buf *b;
    const bt_protojson_opts *o;
} pj;

static int write_message(pj *j, const ProtobufCMessage *m, int depth);
static int write_members(pj *j, const ProtobufCMessage *m, bool *first, int depth);

static int too_deep(const pj *j, int depth)
{
    return j->o && j->o->max_depth > 0 && depth > j->o->max_depth;
}

/* ---- scalars -------------------------------------------------------------- */

static void put_cstring(pj *j, const char *s)
{
    bt_json_str_append(j->b, s ? s : "", s ? strlen(s) : 0);
}

/* A double as protojson writes it: the shortest text that reads back equal,
 * "NaN" / "Infinity" / "-Infinity" quoted. */
static void format_double(double v, char out[BT_PROTOJSON_DOUBLE_LEN])
{
    if (isnan(v)) {
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "%s", v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    for (int prec = 1; prec <= 17; prec++) { /* the shortest that reads back equal */
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
}

static void put_double(pj *j, double v)
{
    char text[BT_PROTOJSON_DOUBLE_LEN];
    format_double(v, text);
    bt_buf_puts(j->b, text);
}

static void put_base64(pj *j, const uint8_t *p, size_t n)
{
    bt_buf_putc(j->b, '"');
    bt_base64_append(j->b, p, n);
    bt_buf_putc(j->b, '"');
}

/* "snake_case" -> "snakeCase" (protoc's json_name rule), then ':'. */
static void put_json_name(pj *j, const char *name)
{
    bool upper = false;
    bt_buf_putc(j->b, '"');
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        bt_buf_putc(j->b, upper && *p >= 'a' && *p <= 'z' ? (char)(*p - 'a' + 'A') : *p);
        upper = false;
    }
    bt_buf_puts(j->b, "\":");
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, like protojson; the
 * seconds as a quoted number when the year is out of any calendar's reach. */
static void put_timestamp(pj *j, const Google__Protobuf__Timestamp *t)
{
    int64_t days = t->seconds / 86400, rem = t->seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    bt_civil_from_days(days, &y, &mo, &d);
    if (y - 1900 > INT_MAX || y - 1900 < INT_MIN) {
        bt_buf_printf(j->b, "\"%lld\"", (long long)t->seconds);
        return;
    }
    bt_buf_printf(j->b, "\"%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, d,
                  (int)(rem / 3600), (int)(rem / 60 % 60), (int)(rem % 60));
    int32_t ns = t->nanos;
    if (ns > 0 && ns < 1000000000) {
        if (ns % 1000000 == 0)
            bt_buf_printf(j->b, ".%03d", (int)(ns / 1000000));
        else if (ns % 1000 == 0)
            bt_buf_printf(j->b, ".%06d", (int)(ns / 1000));
        else
            bt_buf_printf(j->b, ".%09d", (int)ns);
    }
    bt_buf_puts(j->b, "Z\"");
}

/* ---- Struct, Value, ListValue ------------------------------------------- */

static int write_value(pj *j, const Google__Protobuf__Value *v, int depth);

/* A Struct ({"key":value,...}: fields) or a ListValue ([value,...]: values). */
static int write_values(pj *j, Google__Protobuf__Struct__FieldsEntry *const *fields,
                        Google__Protobuf__Value *const *values, size_t n, int depth)
{
    if (too_deep(j, depth))
        return BT_PROTOJSON_TOO_DEEP;
    bt_buf_putc(j->b, fields ? '{' : '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_buf_putc(j->b, ',');
        if (fields) {
            put_cstring(j, fields[i]->key);
            bt_buf_putc(j->b, ':');
        }
        int rc = write_value(j, fields ? fields[i]->value : values[i], depth);
        if (rc != 0)
            return rc;
    }
    bt_buf_putc(j->b, fields ? '}' : ']');
    return 0;
}

static int write_struct(pj *j, const Google__Protobuf__Struct *s, int depth)
{
    static Google__Protobuf__Struct__FieldsEntry *const none[1];
    return write_values(j, s && s->fields ? s->fields : none, NULL, s ? s->n_fields : 0, depth);
}

static int write_list(pj *j, const Google__Protobuf__ListValue *l, int depth)
{
    return write_values(j, NULL, l ? l->values : NULL, l ? l->n_values : 0, depth);
}

static int write_value(pj *j, const Google__Protobuf__Value *v, int depth)
{
    switch (v ? v->kind_case : GOOGLE__PROTOBUF__VALUE__KIND__NOT_SET) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: put_double(j, v->number_value); return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: put_cstring(j, v->string_value); return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        bt_buf_puts(j->b, v->bool_value ? "true" : "false");
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE: return write_struct(j, v->struct_value, depth + 1);
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE: return write_list(j, v->list_value, depth + 1);
    default: bt_buf_puts(j->b, "null"); return 0;
    }
}

/* ---- Any -------------------------------------------------------------------- */

static bool is_wkt(const ProtobufCMessageDescriptor *d)
{
    return strncmp(d->name, "google.protobuf.", 16) == 0;
}

/* {"@type": url, <fields of the payload>}; a well-known payload goes under
 * "value"; a payload of unknown type (or that does not decode) is kept as
 * base64 under "value". */
static int write_any(pj *j, const Google__Protobuf__Any *any, int depth)
{
    bt_buf_puts(j->b, "{\"@type\":");
    put_cstring(j, any->type_url);
    ProtobufCMessage *inner = j->o && j->o->unpack_any && any->type_url
                                  ? j->o->unpack_any(j->o->ctx, any->type_url, any->value.data,
                                                     any->value.len)
                                  : NULL;
    int rc = 0;
    bool first = false;
    if (!inner) {
        bt_buf_puts(j->b, ",\"value\":");
        put_base64(j, any->value.data, any->value.len);
    } else if (is_wkt(inner->descriptor)) {
        bt_buf_puts(j->b, ",\"value\":");
        rc = write_message(j, inner, depth + 1);
    } else {
        rc = write_members(j, inner, &first, depth + 1);
    }
    if (inner)
        protobuf_c_message_free_unpacked(inner, NULL);
    bt_buf_putc(j->b, '}');
    return rc;
}

/* ---- fields ----------------------------------------------------------------- */

static size_t elem_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64: return 8;
    case PROTOBUF_C_TYPE_DOUBLE: return sizeof(double);
    case PROTOBUF_C_TYPE_FLOAT: return sizeof(float);
    case PROTOBUF_C_TYPE_BOOL: return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING: return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES: return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE: return sizeof(ProtobufCMessage *);
    default: return 4; /* 32-bit ints and enums */
    }
}

/* int32 family as numbers, 64-bit integers as quoted strings. */
static bool put_integer(pj *j, ProtobufCType t, const void *p)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: bt_buf_printf(j->b, "%d", (int)*(const int32_t *)p); return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        bt_buf_printf(j->b, "%u", (unsigned)*(const uint32_t *)p);
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        bt_buf_printf(j->b, "\"%lld\"", (long long)*(const int64_t *)p);
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        bt_buf_printf(j->b, "\"%llu\"", (unsigned long long)*(const uint64_t *)p);
        return true;
    default: return false;
    }
}

static void put_enum(pj *j, const ProtobufCEnumDescriptor *d, int v)
{
    const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(d, v);
    if (ev)
        put_cstring(j, ev->name);
    else
        bt_buf_printf(j->b, "%d", v);
}

/* One value of field f stored at p. */
static int write_scalar(pj *j, const ProtobufCFieldDescriptor *f, const void *p, int depth)
{
    if (put_integer(j, f->type, p))
        return 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT: put_double(j, *(const float *)p); return 0;
    case PROTOBUF_C_TYPE_DOUBLE: put_double(j, *(const double *)p); return 0;
    case PROTOBUF_C_TYPE_BOOL:
        bt_buf_puts(j->b, *(const protobuf_c_boolean *)p ? "true" : "false");
        return 0;
    case PROTOBUF_C_TYPE_ENUM: put_enum(j, f->descriptor, *(const int *)p); return 0;
    case PROTOBUF_C_TYPE_STRING: put_cstring(j, *(char *const *)p); return 0;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        put_base64(j, bd->data, bd->len);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (!sub)
            return bt_buf_puts(j->b, "{}"), 0;
        return write_message(j, sub, depth + 1);
    }
    default: return 0;
    }
}

static bool is_map_entry(const ProtobufCFieldDescriptor *f)
{
    if (f->type != PROTOBUF_C_TYPE_MESSAGE || f->label != PROTOBUF_C_LABEL_REPEATED)
        return false;
    const ProtobufCMessageDescriptor *d = f->descriptor;
    size_t n = strlen(d->short_name);
    return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
           d->fields[0].id == 1 && strcmp(d->fields[0].name, "key") == 0 && d->fields[1].id == 2 &&
           strcmp(d->fields[1].name, "value") == 0;
}

static void put_map_key(pj *j, const ProtobufCFieldDescriptor *k, const char *entry)
{
    const void *p = entry + k->offset;
    if (k->type == PROTOBUF_C_TYPE_STRING) {
        put_cstring(j, *(char *const *)p);
        return;
    }
    bool wide = k->type == PROTOBUF_C_TYPE_INT64 || k->type == PROTOBUF_C_TYPE_UINT64;
    bt_buf_printf(j->b, "\"%lld\"",
                  wide ? (long long)*(const int64_t *)p : (long long)*(const int32_t *)p);
}

static int write_map(pj *j, const ProtobufCFieldDescriptor *f, void *const *entries, size_t n,
                     int depth)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    bt_buf_putc(j->b, '{');
    for (size_t i = 0; i < n; i++) {
        const char *e = entries[i];
        if (i)
            bt_buf_putc(j->b, ',');
        put_map_key(j, &d->fields[0], e);
        bt_buf_putc(j->b, ':');
        int rc = write_scalar(j, &d->fields[1], e + d->fields[1].offset, depth);
        if (rc != 0)
            return rc;
    }
    bt_buf_putc(j->b, '}');
    return 0;
}

static int write_repeated(pj *j, const ProtobufCFieldDescriptor *f, const char *base, size_t n,
                          int depth)
{
    const char *arr = *(const char *const *)(base + f->offset);
    if (is_map_entry(f))
        return write_map(j, f, (void *const *)arr, n, depth);
    size_t sz = elem_size(f->type);
    bt_buf_putc(j->b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_buf_putc(j->b, ',');
        int rc = write_scalar(j, f, arr + i * sz, depth);
        if (rc != 0)
            return rc;
    }
    bt_buf_putc(j->b, ']');
    return 0;
}

/* Is a singular field set (proto3: not the default)? */
static bool field_present(const ProtobufCFieldDescriptor *f, const char *base)
{
    const void *p = base + f->offset;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)(base + f->quantifier_offset) == f->id;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && f->type != PROTOBUF_C_TYPE_MESSAGE &&
        f->type != PROTOBUF_C_TYPE_STRING)
        return *(const protobuf_c_boolean *)(base + f->quantifier_offset);
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)p;
        return s && (*s || f->label == PROTOBUF_C_LABEL_OPTIONAL);
    }
    case PROTOBUF_C_TYPE_MESSAGE: return *(void *const *)p != NULL;
    case PROTOBUF_C_TYPE_BYTES: return ((const ProtobufCBinaryData *)p)->len > 0;
    default: {
        static const unsigned char zero[8];
        return memcmp(p, zero, elem_size(f->type)) != 0;
    }
    }
}

static int write_members(pj *j, const ProtobufCMessage *m, bool *first, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    const char *base = (const char *)m;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        size_t n = 0;
        if (f->label == PROTOBUF_C_LABEL_REPEATED) {
            n = *(const size_t *)(base + f->quantifier_offset);
            if (n == 0)
                continue;
        } else if (!field_present(f, base)) {
            continue;
        }
        if (!*first)
            bt_buf_putc(j->b, ',');
        *first = false;
        put_json_name(j, f->name);
        int rc = f->label == PROTOBUF_C_LABEL_REPEATED ? write_repeated(j, f, base, n, depth)
                                                        : write_scalar(j, f, base + f->offset, depth);
        if (rc != 0)
            return rc;
    }
    return j->b->oom ? BT_PROTOJSON_OOM : 0;
}

static int write_message(pj *j, const ProtobufCMessage *m, int depth)
{
    if (too_deep(j, depth))
        return BT_PROTOJSON_TOO_DEEP;
    const char *name = m->descriptor->name;
    if (strcmp(name, "google.protobuf.Any") == 0)
        return write_any(j, (const Google__Protobuf__Any *)m, depth);
    if (strcmp(name, "google.protobuf.Struct") == 0)
        return write_struct(j, (const Google__Protobuf__Struct *)m, depth);
    if (strcmp(name, "google.protobuf.Value") == 0)
        return write_value(j, (const Google__Protobuf__Value *)m, depth);
    if (strcmp(name, "google.protobuf.ListValue") == 0)
        return write_list(j, (const Google__Protobuf__ListValue *)m, depth);
    if (strcmp(name, "google.protobuf.Timestamp") == 0) {
        put_timestamp(j, (const Google__Protobuf__Timestamp *)m);
        return 0;
    }
    bool first = true;
    bt_buf_putc(j->b, '{');
    int rc = write_members(j, m, &first, depth);
    bt_buf_putc(j->b, '}');
    return rc;
}

int bt_protojson_write_members(bt_buf *b, const ProtobufCMessage *m, bool *first,
                               const bt_protojson_opts *o)
{
    pj j = {b, o};
    int rc = write_members(&j, m, first, 0);
    return rc != 0 ? rc : b->oom ? BT_PROTOJSON_OOM : 0;
}

int bt_protojson_write(bt_buf *b, const ProtobufCMessage *m, const bt_protojson_opts *o)
{
    pj j = {b, o};
    int rc = write_message(&j, m, 0);
    return rc != 0 ? rc : b->oom ? BT_PROTOJSON_OOM : 0;
}
