/* protojson-style JSON for any protobuf-c message, driven by its descriptor:
 * lowerCamelCase keys, proto3 defaults omitted, enums by name, 64-bit
 * integers quoted, bytes in base64, and the well-known types (Any, Struct,
 * Value, ListValue, Timestamp) in their special JSON forms. */
#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "bt/model.h"
#include "bt/show.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

/* Nesting budget across Any values, whose payloads are decoded on the way. */
#define JSON_MAX_DEPTH 300

typedef struct {
    FILE *out;
    bt_show_err *e;
} json;

static int write_message(json *j, const ProtobufCMessage *m, int depth);

static bool too_deep(json *j, int depth)
{
    if (depth <= JSON_MAX_DEPTH)
        return false;
    bt_show_fail(j->e, "messages nested deeper than %d levels", JSON_MAX_DEPTH);
    return true;
}

/* ---- scalars ------------------------------------------------------------ */

static void write_escaped_char(FILE *out, unsigned char c)
{
    static const char *const named[] = {
        ['\b'] = "\\b", ['\f'] = "\\f", ['\n'] = "\\n", ['\r'] = "\\r", ['\t'] = "\\t"};
    if (c == '"' || c == '\\')
        fprintf(out, "\\%c", c);
    else if (c < sizeof named / sizeof named[0] && named[c])
        fputs(named[c], out);
    else
        fprintf(out, "\\u%04x", c);
}

void bt_show_json_string(FILE *out, const char *s, size_t n)
{
    const unsigned char *p = (const unsigned char *)s;
    fputc('"', out);
    for (size_t i = 0; i < n;) {
        uint32_t cp;
        size_t len = bt_show_utf8_next(p + i, n - i, &cp);
        if (len == 0) {
            fputs("\\ufffd", out);
            len = 1;
        } else if (cp < 0x20 || cp == '"' || cp == '\\') {
            write_escaped_char(out, (unsigned char)cp);
        } else {
            fwrite(p + i, 1, len, out);
        }
        i += len;
    }
    fputc('"', out);
}

static void write_cstring(FILE *out, const char *s)
{
    bt_show_json_string(out, s ? s : "", s ? strlen(s) : 0);
}

static void write_base64(FILE *out, const uint8_t *p, size_t n)
{
    static const char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
    fputc('"', out);
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)p[i] << 16 | (i + 1 < n ? (uint32_t)p[i + 1] << 8 : 0) |
                     (i + 2 < n ? p[i + 2] : 0);
        fputc(alphabet[v >> 18 & 63], out);
        fputc(alphabet[v >> 12 & 63], out);
        fputc(i + 1 < n ? alphabet[v >> 6 & 63] : '=', out);
        fputc(i + 2 < n ? alphabet[v & 63] : '=', out);
    }
    fputc('"', out);
}

/* Shortest %g form that reads back as the same double. */
static void write_double(FILE *out, double v)
{
    char buf[BT_PROTOJSON_DOUBLE_LEN];
    bt_protojson_format_double(v, buf);
    fputs(buf, out);
}

/* "fields_sorted" -> "fieldsSorted", like protoc's json_name. */
static void write_json_name(FILE *out, const char *name)
{
    bool upper = false;
    fputc('"', out);
    for (const char *p = name; *p; p++) {
        if (*p == '_') {
            upper = true;
            continue;
        }
        fputc(upper && *p >= 'a' && *p <= 'z' ? *p - 'a' + 'A' : *p, out);
        upper = false;
    }
    fputs("\":", out);
}

static void write_enum(FILE *out, const ProtobufCEnumDescriptor *d, int value)
{
    const ProtobufCEnumValue *v = protobuf_c_enum_descriptor_get_value(d, value);
    if (v)
        write_cstring(out, v->name);
    else
        fprintf(out, "%d", value);
}

/* ---- one value of a field ------------------------------------------------ */

static size_t element_size(ProtobufCType t)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
    case PROTOBUF_C_TYPE_DOUBLE:
        return 8;
    case PROTOBUF_C_TYPE_BOOL:
        return sizeof(protobuf_c_boolean);
    case PROTOBUF_C_TYPE_STRING:
        return sizeof(char *);
    case PROTOBUF_C_TYPE_BYTES:
        return sizeof(ProtobufCBinaryData);
    case PROTOBUF_C_TYPE_MESSAGE:
        return sizeof(ProtobufCMessage *);
    default:
        return 4; /* int32 family, float, enum */
    }
}

/* int32 family as numbers, 64-bit integers as quoted strings (protojson). */
static bool write_integer(FILE *out, ProtobufCType t, const void *v)
{
    switch (t) {
    case PROTOBUF_C_TYPE_INT32:
    case PROTOBUF_C_TYPE_SINT32:
    case PROTOBUF_C_TYPE_SFIXED32:
        fprintf(out, "%" PRId32, *(const int32_t *)v);
        return true;
    case PROTOBUF_C_TYPE_UINT32:
    case PROTOBUF_C_TYPE_FIXED32:
        fprintf(out, "%" PRIu32, *(const uint32_t *)v);
        return true;
    case PROTOBUF_C_TYPE_INT64:
    case PROTOBUF_C_TYPE_SINT64:
    case PROTOBUF_C_TYPE_SFIXED64:
        fprintf(out, "\"%" PRId64 "\"", *(const int64_t *)v);
        return true;
    case PROTOBUF_C_TYPE_UINT64:
    case PROTOBUF_C_TYPE_FIXED64:
        fprintf(out, "\"%" PRIu64 "\"", *(const uint64_t *)v);
        return true;
    default:
        return false;
    }
}

static int write_value(json *j, const ProtobufCFieldDescriptor *f, const void *v, int depth)
{
    FILE *out = j->out;
    const ProtobufCBinaryData *bytes = v;
    if (write_integer(out, f->type, v))
        return 0;
    switch (f->type) {
    case PROTOBUF_C_TYPE_FLOAT:
        write_double(out, *(const float *)v);
        break;
    case PROTOBUF_C_TYPE_DOUBLE:
        write_double(out, *(const double *)v);
        break;
    case PROTOBUF_C_TYPE_BOOL:
        fputs(*(const protobuf_c_boolean *)v ? "true" : "false", out);
        break;
    case PROTOBUF_C_TYPE_ENUM:
        write_enum(out, f->descriptor, *(const int *)v);
        break;
    case PROTOBUF_C_TYPE_STRING:
        write_cstring(out, *(char *const *)v);
        break;
    case PROTOBUF_C_TYPE_BYTES:
        write_base64(out, bytes->data, bytes->len);
        break;
    case PROTOBUF_C_TYPE_MESSAGE:
        return write_message(j, *(ProtobufCMessage *const *)v, depth + 1);
    default:
        break;
    }
    return 0;
}

/* ---- presence (proto3: defaults are not printed) -------------------------- */

static const void *member(const ProtobufCMessage *m, unsigned offset)
{
    return (const char *)m + offset;
}

static bool is_default(const ProtobufCFieldDescriptor *f, const void *v)
{
    switch (f->type) {
    case PROTOBUF_C_TYPE_STRING: {
        const char *s = *(char *const *)v;
        return !s || !*s;
    }
    case PROTOBUF_C_TYPE_BYTES:
        return ((const ProtobufCBinaryData *)v)->len == 0;
    case PROTOBUF_C_TYPE_MESSAGE:
        return *(ProtobufCMessage *const *)v == NULL;
    default: {
        static const uint8_t zero[8];
        return memcmp(v, zero, element_size(f->type)) == 0;
    }
    }
}

static bool is_present(const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f)
{
    const void *v = member(m, f->offset);
    if (f->label == PROTOBUF_C_LABEL_REPEATED)
        return *(const size_t *)member(m, f->quantifier_offset) > 0;
    if (f->flags & PROTOBUF_C_FIELD_FLAG_ONEOF)
        return *(const uint32_t *)member(m, f->quantifier_offset) == f->id;
    bool pointer_typed = f->type == PROTOBUF_C_TYPE_MESSAGE || f->type == PROTOBUF_C_TYPE_STRING;
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL && !pointer_typed)
        return *(const protobuf_c_boolean *)member(m, f->quantifier_offset);
    if (f->label == PROTOBUF_C_LABEL_OPTIONAL)
        return *(const void *const *)v != NULL;
    return !is_default(f, v);
}

/* ---- repeated fields and maps ------------------------------------------- */

static bool is_map_entry(const ProtobufCMessageDescriptor *d)
{
    size_t n = strlen(d->short_name);
    return d->n_fields == 2 && n > 5 && strcmp(d->short_name + n - 5, "Entry") == 0 &&
           d->fields[0].id == 1 && d->fields[1].id == 2;
}

static int write_map(json *j, const ProtobufCFieldDescriptor *f, ProtobufCMessage *const *entries,
                     size_t n, int depth)
{
    const ProtobufCMessageDescriptor *d = f->descriptor;
    fputc('{', j->out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', j->out);
        const ProtobufCFieldDescriptor *k = &d->fields[0], *v = &d->fields[1];
        if (k->type == PROTOBUF_C_TYPE_STRING)
            write_cstring(j->out, *(char *const *)member(entries[i], k->offset));
        else
            fprintf(j->out, "\"%" PRId64 "\"", *(const int64_t *)member(entries[i], k->offset));
        fputc(':', j->out);
        if (write_value(j, v, member(entries[i], v->offset), depth) < 0)
            return -1;
    }
    fputc('}', j->out);
    return 0;
}

static int write_repeated(json *j, const ProtobufCMessage *m, const ProtobufCFieldDescriptor *f,
                          int depth)
{
    size_t n = *(const size_t *)member(m, f->quantifier_offset);
    const char *items = *(char *const *)member(m, f->offset);
    if (f->type == PROTOBUF_C_TYPE_MESSAGE && is_map_entry(f->descriptor))
        return write_map(j, f, (ProtobufCMessage *const *)items, n, depth);
    fputc('[', j->out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            fputc(',', j->out);
        if (write_value(j, f, items + i * element_size(f->type), depth) < 0)
            return -1;
    }
    fputc(']', j->out);
    return 0;
}

/* Writes the present fields of m as "key":value pairs; *first tracks commas. */
static int write_fields(json *j, const ProtobufCMessage *m, bool *first, int depth)
{
    const ProtobufCMessageDescriptor *d = m->descriptor;
    for (unsigned i = 0; i < d->n_fields; i++) {
        const ProtobufCFieldDescriptor *f = &d->fields[i];
        if (!is_present(m, f))
            continue;
        if (!*first)
            fputc(',', j->out);
        *first = false;
        write_json_name(j->out, f->name);
        int rc = f->label == PROTOBUF_C_LABEL_REPEATED
                     ? write_repeated(j, m, f, depth)
                     : write_value(j, f, member(m, f->offset), depth);
        if (rc < 0)
            return -1;
    }
    return 0;
}

/* ---- well-known types ----------------------------------------------------- */

static int write_struct(json *j, const Google__Protobuf__Struct *s, int depth);
static int write_list(json *j, const Google__Protobuf__ListValue *l, int depth);

static int write_wkt_value(json *j, const Google__Protobuf__Value *v, int depth)
{
    switch (v->kind_case) {
    case GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE:
        write_double(j->out, v->number_value);
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE:
        write_cstring(j->out, v->string_value);
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE:
        fputs(v->bool_value ? "true" : "false", j->out);
        return 0;
    case GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE:
        return write_struct(j, v->struct_value, depth + 1);
    case GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE:
        return write_list(j, v->list_value, depth + 1);
    default:
        fputs("null", j->out);
        return 0;
    }
}

static int write_struct(json *j, const Google__Protobuf__Struct *s, int depth)
{
    if (too_deep(j, depth))
        return -1;
    fputc('{', j->out);
    for (size_t i = 0; i < s->n_fields; i++) {
        if (i)
            fputc(',', j->out);
        write_cstring(j->out, s->fields[i]->key);
        fputc(':', j->out);
        const Google__Protobuf__Value *v = s->fields[i]->value;
        int rc = v ? write_wkt_value(j, v, depth) : (fputs("null", j->out), 0);
        if (rc < 0)
            return -1;
    }
    fputc('}', j->out);
    return 0;
}

static int write_list(json *j, const Google__Protobuf__ListValue *l, int depth)
{
    if (too_deep(j, depth))
        return -1;
    fputc('[', j->out);
    for (size_t i = 0; i < l->n_values; i++) {
        if (i)
            fputc(',', j->out);
        if (write_wkt_value(j, l->values[i], depth) < 0)
            return -1;
    }
    fputc(']', j->out);
    return 0;
}

/* RFC 3339 in UTC with 0, 3, 6 or 9 fractional digits, like protojson. */
static void write_timestamp(json *j, const Google__Protobuf__Timestamp *t)
{
    time_t secs = (time_t)t->seconds;
    struct tm tm;
    char date[64];
    if (!gmtime_r(&secs, &tm) || !strftime(date, sizeof date, "%Y-%m-%dT%H:%M:%S", &tm)) {
        fprintf(j->out, "\"%" PRId64 "\"", t->seconds);
        return;
    }
    int32_t nanos = t->nanos;
    if (nanos <= 0 || nanos > 999999999)
        fprintf(j->out, "\"%sZ\"", date);
    else if (nanos % 1000000 == 0)
        fprintf(j->out, "\"%s.%03" PRId32 "Z\"", date, nanos / 1000000);
    else if (nanos % 1000 == 0)
        fprintf(j->out, "\"%s.%06" PRId32 "Z\"", date, nanos / 1000);
    else
        fprintf(j->out, "\"%s.%09" PRId32 "Z\"", date, nanos);
}

static bool is_wkt(const ProtobufCMessageDescriptor *d)
{
    return d == &google__protobuf__struct__descriptor ||
           d == &google__protobuf__value__descriptor ||
           d == &google__protobuf__list_value__descriptor ||
           d == &google__protobuf__timestamp__descriptor || d == &google__protobuf__any__descriptor;
}

/* {"@type": url, <fields of the payload>}; a well-known payload goes under
 * "value"; a payload of unknown type (or that does not parse) is kept as
 * base64 under "value". */
static int write_any(json *j, const Google__Protobuf__Any *a, int depth)
{
    fputs("{\"@type\":", j->out);
    write_cstring(j->out, a->type_url);
    const ProtobufCMessageDescriptor *d = bt_show_type_for_url(a->type_url);
    bt_show_err ignored;
    ProtobufCMessage *inner = d ? bt_show_decode(d, a->value.data, a->value.len, &ignored) : NULL;
    int rc = 0;
    bool first = false;
    if (!inner) {
        fputs(",\"value\":", j->out);
        write_base64(j->out, a->value.data, a->value.len);
    } else if (is_wkt(d)) {
        fputs(",\"value\":", j->out);
        rc = write_message(j, inner, depth + 1);
    } else {
        rc = write_fields(j, inner, &first, depth + 1);
    }
    bt_show_msg_free(inner);
    fputc('}', j->out);
    return rc;
}

/* ---- messages ------------------------------------------------------------- */

static int write_message(json *j, const ProtobufCMessage *m, int depth)
{
    if (too_deep(j, depth))
        return -1;
    const ProtobufCMessageDescriptor *d = m->descriptor;
    if (d == &google__protobuf__any__descriptor)
        return write_any(j, (const Google__Protobuf__Any *)m, depth);
    if (d == &google__protobuf__struct__descriptor)
        return write_struct(j, (const Google__Protobuf__Struct *)m, depth);
    if (d == &google__protobuf__value__descriptor)
        return write_wkt_value(j, (const Google__Protobuf__Value *)m, depth);
    if (d == &google__protobuf__list_value__descriptor)
        return write_list(j, (const Google__Protobuf__ListValue *)m, depth);
    if (d == &google__protobuf__timestamp__descriptor) {
        write_timestamp(j, (const Google__Protobuf__Timestamp *)m);
        return 0;
    }
    bool first = true;
    fputc('{', j->out);
    int rc = write_fields(j, m, &first, depth);
    fputc('}', j->out);
    return rc;
}

int bt_show_json_message(FILE *out, const ProtobufCMessage *m, bt_show_err *e)
{
    json j = {out, e};
    return write_message(&j, m, 0);
}
