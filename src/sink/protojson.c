/* protojson: a protobuf-c message as the JSON Go's protojson prints (compact).
 * Driven by the generated descriptors, so it works for every message of
 * vendor/baton/proto. Special forms: Any, Struct, Value, ListValue, Timestamp
 * and map fields (repeated "...Entry" messages with key = 1, value = 2). */
#include "bt/model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int write_message(bt_bytes *b, const ProtobufCMessage *m);

/* ------------------------------------------------------------------------
 * Scalars */

void bt_json_append_string(bt_bytes *b, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    bt_bytes_putc(b, '"');
    size_t i = 0;
    while (i < n) {
        unsigned char c = (unsigned char)s[i];
        if (c >= 0x80) {
            size_t len = bt_utf8_next_len(s + i, n - i);
            if (len == 0) {
                bt_bytes_puts(b, "\xEF\xBF\xBD"); /* U+FFFD */
                i++;
            } else {
                bt_bytes_append(b, s + i, len);
                i += len;
            }
            continue;
        }
        switch (c) {
        case '"': bt_bytes_puts(b, "\\\""); break;
        case '\\': bt_bytes_puts(b, "\\\\"); break;
        case '\n': bt_bytes_puts(b, "\\n"); break;
        case '\r': bt_bytes_puts(b, "\\r"); break;
        case '\t': bt_bytes_puts(b, "\\t"); break;
        case '\b': bt_bytes_puts(b, "\\b"); break;
        case '\f': bt_bytes_puts(b, "\\f"); break;
        default:
            if (c < 0x20) {
                char esc[7] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15], 0};
                bt_bytes_puts(b, esc);
            } else {
                bt_bytes_putc(b, (char)c);
            }
        }
        i++;
    }
    bt_bytes_putc(b, '"');
}

static void put_cstring(bt_bytes *b, const char *s)
{
    bt_json_append_string(b, s ? s : "", s ? strlen(s) : 0);
}

/* Shortest text that reads back as the same double. */
void bt_protojson_format_double(double v, char out[BT_PROTOJSON_DOUBLE_LEN])
{
    if (isnan(v)) {
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "\"NaN\"");
        return;
    }
    if (isinf(v)) {
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "%s", v > 0 ? "\"Infinity\"" : "\"-Infinity\"");
        return;
    }
    /* the shortest precision that reads back as the same double */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(out, BT_PROTOJSON_DOUBLE_LEN, "%.*g", prec, v);
        if (strtod(out, NULL) == v)
            break;
    }
}

static void put_double(bt_bytes *b, double v)
{
    char buf[BT_PROTOJSON_DOUBLE_LEN];
    bt_protojson_format_double(v, buf);
    bt_bytes_puts(b, buf);
}

static void put_base64(bt_bytes *b, const uint8_t *p, size_t n)
{
    static const char tbl[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    bt_bytes_putc(b, '"');
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)p[i + 1] << 8;
        if (i + 2 < n)
            v |= p[i + 2];
        char q[4] = {tbl[(v >> 18) & 63], tbl[(v >> 12) & 63], i + 1 < n ? tbl[(v >> 6) & 63] : '=',
                     i + 2 < n ? tbl[v & 63] : '='};
        bt_bytes_append(b, q, 4);
    }
    bt_bytes_putc(b, '"');
}

/* "snake_case" -> "snakeCase" (protoc's json_name rule). */
static void put_json_name(bt_bytes *b, const char *name)
{
    bt_bytes_putc(b, '"');
    bool upper = false;
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        char c = *p;
        if (upper && c >= 'a' && c <= 'z')
            c = (char)(c - 'a' + 'A');
        upper = false;
        bt_bytes_putc(b, c);
    }
    bt_bytes_putc(b, '"');
}

/* ------------------------------------------------------------------------
 * Timestamp */

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, like protojson. */
static void put_timestamp(bt_bytes *b, const Google__Protobuf__Timestamp *t)
{
    int64_t days = t->seconds / 86400, rem = t->seconds % 86400;
    if (rem < 0) {
        rem += 86400;
        days--;
    }
    int64_t y;
    unsigned mo, d;
    civil_from_days(days, &y, &mo, &d);
    bt_bytes_printf(b, "\"%04lld-%02u-%02uT%02d:%02d:%02d", (long long)y, mo, d, (int)(rem / 3600),
                    (int)(rem / 60 % 60), (int)(rem % 60));
    int32_t ns = t->nanos;
    if (ns > 0 && ns < 1000000000) {
        if (ns % 1000000 == 0)
            bt_bytes_printf(b, ".%03d", (int)(ns / 1000000));
        else if (ns % 1000 == 0)
            bt_bytes_printf(b, ".%06d", (int)(ns / 1000));
        else
            bt_bytes_printf(b, ".%09d", (int)ns);
    }
    bt_bytes_puts(b, "Z\"");
}

/* ------------------------------------------------------------------------
 * Struct, Value, ListValue */

static int write_value(bt_bytes *b, const Google__Protobuf__Value *v);

static int write_struct(bt_bytes *b, const Google__Protobuf__Struct *s)
{
    bt_bytes_putc(b, '{');
    for (size_t i = 0; i < s->n_fields; i++) {
        if (i)
            bt_bytes_putc(b, ',');
        put_cstring(b, s->fields[i]->key);
        bt_bytes_putc(b, ':');
        if (write_value(b, s->fields[i]->value) != 0)
            return -1;
    }
    bt_bytes_putc(b, '}');
    return 0;
}

static int write_list(bt_bytes *b, const Google__Protobuf__ListValue *l)
{
    bt_bytes_putc(b, '[');
    for (size_t i = 0; i < l->n_values; i++) {
        if (i)
            bt_bytes_putc(b, ',');
        if (write_value(b, l->values[i]) != 0)
            return -1;
    }
    bt_bytes_putc(b, ']');
    return 0;
}

static int write_value(bt_bytes *b, const Google__Protobuf__Value *v)
{
    if (!v) {
        bt_bytes_puts(b, "null");
        return 0;
    }
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE: put_double(b, v->number_value); return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE: put_cstring(b, v->string_value); return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        bt_bytes_puts(b, v->bool_value ? "true" : "false");
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        if (v->struct_value)
            return write_struct(b, v->struct_value);
        bt_bytes_puts(b, "{}");
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        if (v->list_value)
            return write_list(b, v->list_value);
        bt_bytes_puts(b, "[]");
        return 0;
    default: bt_bytes_puts(b, "null"); return 0;
    }
}

/* ------------------------------------------------------------------------
 * Any */

static bool is_wkt(const ProtobufCMessageDescriptor *d)
{
    return strncmp(d->name, "google.protobuf.", 16) == 0;
}

static int write_any(bt_bytes *b, const Google__Protobuf__Any *any)
{
    bt_bytes_puts(b, "{\"@type\":");
    put_cstring(b, any->type_url);
    const ProtobufCMessageDescriptor *d = bt_pb_find_type(any->type_url);
    ProtobufCMessage *inner = d ? protobuf_c_message_unpack(d, NULL, any->value.len, any->value.data) : NULL;
    int rc = 0;
    if (!inner) {
        bt_bytes_puts(b, ",\"value\":");
        put_base64(b, any->value.data, any->value.len);
    } else if (is_wkt(d)) {
        bt_bytes_puts(b, ",\"value\":");
        rc = write_message(b, inner);
    } else {
        bool first = false;
        rc = bt_protojson_append_members(b, inner, &first);
    }
    if (inner)
        protobuf_c_message_free_unpacked(inner, NULL);
    bt_bytes_putc(b, '}');
    return rc;
}

/* ------------------------------------------------------------------------
 * Generic fields */

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

/* One value of field f stored at p. */
static int write_scalar(bt_bytes *b, const ProtobufCFieldDescriptor *f, const void *p)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32: bt_bytes_printf(b, "%d", (int)*(const int32_t *)p); return 0;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32: bt_bytes_printf(b, "%u", (unsigned)*(const uint32_t *)p); return 0;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        bt_bytes_printf(b, "\"%lld\"", (long long)*(const int64_t *)p);
        return 0;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        bt_bytes_printf(b, "\"%llu\"", (unsigned long long)*(const uint64_t *)p);
        return 0;
    case PROTOBUF_C_TYPE_FLOAT: put_double(b, *(const float *)p); return 0;
    case PROTOBUF_C_TYPE_DOUBLE: put_double(b, *(const double *)p); return 0;
    case PROTOBUF_C_TYPE_BOOL:
        bt_bytes_puts(b, *(const protobuf_c_boolean *)p ? "true" : "false");
        return 0;
    case PROTOBUF_C_TYPE_ENUM: {
        int v = *(const int *)p;
        const ProtobufCEnumValue *ev = protobuf_c_enum_descriptor_get_value(f->descriptor, v);
        if (ev)
            put_cstring(b, ev->name);
        else
            bt_bytes_printf(b, "%d", v);
        return 0;
    }
    case PROTOBUF_C_TYPE_STRING: put_cstring(b, *(char *const *)p); return 0;
    case PROTOBUF_C_TYPE_BYTES: {
        const ProtobufCBinaryData *bd = p;
        put_base64(b, bd->data, bd->len);
        return 0;
    }
    case PROTOBUF_C_TYPE_MESSAGE: {
        const ProtobufCMessage *sub = *(ProtobufCMessage *const *)p;
        if (!sub) {
            bt_bytes_puts(b, "{}");
            return 0;
        }
        return write_message(b, sub);
    }
    }
    return 0;
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

static int write_map(bt_bytes *b, const ProtobufCFieldDescriptor *f, void *const *entries, size_t n)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    bt_bytes_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        const char *e = entries[i];
        if (i)
            bt_bytes_putc(b, ',');
        if (d->fields[0].type == PROTOBUF_C_TYPE_STRING) {
            put_cstring(b, *(char *const *)(e + d->fields[0].offset));
        } else {
            bt_bytes_putc(b, '"');
            bt_bytes_printf(b, "%lld", d->fields[0].type == PROTOBUF_C_TYPE_INT64 ||
                                               d->fields[0].type == PROTOBUF_C_TYPE_UINT64
                                           ? (long long)*(const int64_t *)(e + d->fields[0].offset)
                                           : (long long)*(const int32_t *)(e + d->fields[0].offset));
            bt_bytes_putc(b, '"');
        }
        bt_bytes_putc(b, ':');
        if (write_scalar(b, &d->fields[1], e + d->fields[1].offset) != 0)
            return -1;
    }
    bt_bytes_putc(b, '}');
    return 0;
}

static int write_repeated(bt_bytes *b, const ProtobufCFieldDescriptor *f, const char *base, size_t n)
{
    const char *arr = *(const char *const *)(base + f->offset);
    if (is_map_entry(f))
        return write_map(b, f, (void *const *)arr, n);
    size_t sz = elem_size(f->type);
    bt_bytes_putc(b, '[');
    for (size_t i = 0; i < n; i++) {
        if (i)
            bt_bytes_putc(b, ',');
        if (write_scalar(b, f, arr + i * sz) != 0)
            return -1;
    }
    bt_bytes_putc(b, ']');
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
        size_t sz = elem_size(f->type);
        static const unsigned char zero[8];
        return memcmp(p, zero, sz) != 0;
    }
    }
}

int bt_protojson_append_members(bt_bytes *b, const ProtobufCMessage *m, bool *first)
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
            bt_bytes_putc(b, ',');
        *first = false;
        put_json_name(b, f->name);
        bt_bytes_putc(b, ':');
        int rc = f->label == PROTOBUF_C_LABEL_REPEATED ? write_repeated(b, f, base, n)
                                                        : write_scalar(b, f, base + f->offset);
        if (rc != 0)
            return -1;
    }
    return b->oom ? -1 : 0;
}

static int write_message(bt_bytes *b, const ProtobufCMessage *m)
{
    const char *name = m->descriptor->name;
    if (strcmp(name, "google.protobuf.Any") == 0)
        return write_any(b, (const Google__Protobuf__Any *)m);
    if (strcmp(name, "google.protobuf.Struct") == 0)
        return write_struct(b, (const Google__Protobuf__Struct *)m);
    if (strcmp(name, "google.protobuf.Value") == 0)
        return write_value(b, (const Google__Protobuf__Value *)m);
    if (strcmp(name, "google.protobuf.ListValue") == 0)
        return write_list(b, (const Google__Protobuf__ListValue *)m);
    if (strcmp(name, "google.protobuf.Timestamp") == 0) {
        put_timestamp(b, (const Google__Protobuf__Timestamp *)m);
        return 0;
    }
    bool first = true;
    bt_bytes_putc(b, '{');
    if (bt_protojson_append_members(b, m, &first) != 0)
        return -1;
    bt_bytes_putc(b, '}');
    return 0;
}

int bt_protojson_append(bt_bytes *b, const ProtobufCMessage *m)
{
    if (write_message(b, m) != 0)
        return -1;
    return b->oom ? -1 : 0;
}
