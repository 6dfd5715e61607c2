/* Encoding helpers shared by bt.emit, the sinks and readers: a byte buffer,
 * deterministic packing, Any, Struct key order, baton ids, ISO-8601 times
 * and UTF-8 checks. No SQLite, no Lua. */
#include "bt/model.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * bt_bytes */

void bt_bytes_reserve(bt_bytes *b, size_t extra)
{
    if (b->oom || b->cap - b->len >= extra)
        return;
    size_t cap = b->cap ? b->cap : 256;
    while (cap - b->len < extra) {
        if (cap > SIZE_MAX / 2) {
            b->oom = true;
            return;
        }
        cap *= 2;
    }
    uint8_t *p = realloc(b->data, cap);
    if (!p) {
        b->oom = true;
        return;
    }
    b->data = p;
    b->cap = cap;
}

void bt_bytes_append(bt_bytes *b, const void *p, size_t n)
{
    bt_bytes_reserve(b, n + 1);
    if (b->oom)
        return;
    if (n)
        memcpy(b->data + b->len, p, n);
    b->len += n;
    b->data[b->len] = 0; /* always NUL-terminated for convenience */
}

void bt_bytes_puts(bt_bytes *b, const char *s)
{
    bt_bytes_append(b, s, strlen(s));
}

void bt_bytes_putc(bt_bytes *b, char c)
{
    bt_bytes_append(b, &c, 1);
}

void bt_bytes_printf(bt_bytes *b, const char *fmt, ...)
{
    char small[128];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = true;
        return;
    }
    if ((size_t)n < sizeof small) {
        bt_bytes_append(b, small, (size_t)n);
        return;
    }
    bt_bytes_reserve(b, (size_t)n + 1);
    if (b->oom)
        return;
    va_start(ap, fmt);
    vsnprintf((char *)b->data + b->len, (size_t)n + 1, fmt, ap);
    va_end(ap);
    b->len += (size_t)n;
}

void bt_bytes_clear(bt_bytes *b)
{
    b->len = 0;
    b->oom = false;
}

void bt_bytes_free(bt_bytes *b)
{
    free(b->data);
    b->data = NULL;
    b->len = b->cap = 0;
    b->oom = false;
}

/* ------------------------------------------------------------------------
 * Packing and Any */

int bt_pb_pack(const ProtobufCMessage *m, bt_bytes *b)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    bt_bytes_clear(b);
    bt_bytes_reserve(b, n + 1);
    if (b->oom)
        return -1;
    b->len = protobuf_c_message_pack(m, b->data);
    b->data[b->len] = 0;
    return b->len == n ? 0 : -1;
}

bt_pb_any *bt_pb_any_new(bt_arena *a, const ProtobufCMessage *m)
{
    bt_pb_any *any = bt_arena_alloc(a, sizeof *any);
    if (!any)
        return NULL;
    google__protobuf__any__init(any);
    any->type_url = bt_arena_join(a, "", BT_TYPE_URL_PREFIX, m->descriptor->name, (char *)NULL);
    size_t n = protobuf_c_message_get_packed_size(m);
    uint8_t *buf = bt_arena_alloc(a, n);
    if (!any->type_url || !buf)
        return NULL;
    any->value.len = protobuf_c_message_pack(m, buf);
    any->value.data = buf;
    return any;
}

/* Every message an Any may carry in a c1z this build knows (ours or the SDK's);
 * the writer packs them and `show` unpacks them. */
static const ProtobufCMessageDescriptor *const known_types[] = {
    &c1__connector__v2__user_trait__descriptor,
    &c1__connector__v2__group_trait__descriptor,
    &c1__connector__v2__role_trait__descriptor,
    &c1__connector__v2__app_trait__descriptor,
    &c1__connector__v2__skip_entitlements_and_grants__descriptor,
    &c1__connector__v2__child_resource_type__descriptor,
    &c1__connector__v2__external_link__descriptor,
    &c1__connector__v2__v1_identifier__descriptor,
    &c1__connector__v2__grant_expandable__descriptor,
    &c1__connector__v2__grant_immutable__descriptor,
    &c1__connector__v2__grant_metadata__descriptor,
    &c1__connector__v2__entitlement_immutable__descriptor,
    &c1__connector__v2__capability_permissions__descriptor,
    &c1__connector__v2__resource_type__descriptor,
    &c1__connector__v2__resource__descriptor,
    &c1__connector__v2__resource_id__descriptor,
    &c1__connector__v2__asset_ref__descriptor,
    &c1__connector__v2__entitlement__descriptor,
    &c1__connector__v2__grant__descriptor,
    &c1__connector__v2__connector_metadata__descriptor,
    &c1__connector__v2__connector_capabilities__descriptor,
    &google__protobuf__struct__descriptor,
    &google__protobuf__value__descriptor,
    &google__protobuf__list_value__descriptor,
    &google__protobuf__timestamp__descriptor,
    &google__protobuf__any__descriptor,
};

static const char *type_url_name(const char *type_url)
{
    const char *slash = strrchr(type_url, '/');
    return slash ? slash + 1 : type_url;
}

const ProtobufCMessageDescriptor *bt_pb_find_type(const char *type_url)
{
    if (!type_url)
        return NULL;
    const char *name = type_url_name(type_url);
    for (size_t i = 0; i < sizeof known_types / sizeof known_types[0]; i++)
        if (strcmp(known_types[i]->name, name) == 0)
            return known_types[i];
    return NULL;
}

bool bt_pb_any_is(const bt_pb_any *any, const ProtobufCMessageDescriptor *desc)
{
    return any && any->type_url && strcmp(type_url_name(any->type_url), desc->name) == 0;
}

/* ------------------------------------------------------------------------
 * Struct: sorted keys */

static void value_sort(bt_pb_value *v);

static int entry_cmp(const void *a, const void *b)
{
    const Google__Protobuf__Struct__FieldsEntry *x = *(Google__Protobuf__Struct__FieldsEntry *const *)a;
    const Google__Protobuf__Struct__FieldsEntry *y = *(Google__Protobuf__Struct__FieldsEntry *const *)b;
    return strcmp(x->key ? x->key : "", y->key ? y->key : "");
}

void bt_pb_struct_sort(bt_pb_struct *s)
{
    if (!s)
        return;
    if (s->n_fields > 1)
        qsort(s->fields, s->n_fields, sizeof s->fields[0], entry_cmp);
    for (size_t i = 0; i < s->n_fields; i++)
        value_sort(s->fields[i]->value);
}

static void value_sort(bt_pb_value *v)
{
    if (!v)
        return;
    if (v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE) {
        bt_pb_struct_sort(v->struct_value);
    } else if (v->kind_case == GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE && v->list_value) {
        for (size_t i = 0; i < v->list_value->n_values; i++)
            value_sort(v->list_value->values[i]);
    }
}

/* ------------------------------------------------------------------------
 * Ids */

char *bt_id_resource(bt_arena *a, const char *type, const char *id)
{
    return bt_arena_join(a, ":", type, id, (char *)NULL);
}

char *bt_id_entitlement(bt_arena *a, const char *type, const char *id, const char *slug)
{
    return bt_arena_join(a, ":", type, id, slug, (char *)NULL);
}

char *bt_id_grant(bt_arena *a, const char *entitlement_id, const char *ptype, const char *pid)
{
    return bt_arena_join(a, ":", entitlement_id, ptype, pid, (char *)NULL);
}

/* ------------------------------------------------------------------------
 * ISO-8601 */

int64_t bt_days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* Read exactly n digits at *p into *out; advance. */
static bool digits(const char **p, int n, int *out)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        char c = (*p)[i];
        if (c < '0' || c > '9')
            return false;
        v = v * 10 + (c - '0');
    }
    *p += n;
    *out = v;
    return true;
}

static int days_in_month(int y, int m)
{
    static const int dim[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : dim[m - 1];
}

static bool parse_date(const char **p, int64_t *days)
{
    int y, mo, d;
    if (!digits(p, 4, &y) || *(*p)++ != '-' || !digits(p, 2, &mo) || *(*p)++ != '-' ||
        !digits(p, 2, &d))
        return false;
    if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo))
        return false;
    *days = bt_days_from_civil(y, (unsigned)mo, (unsigned)d);
    return true;
}

/* ".digits": up to 9 kept, more are truncated. */
static bool parse_fraction(const char **p, int32_t *nanos)
{
    if (**p != '.' && **p != ',')
        return true;
    (*p)++;
    int n = 0;
    int32_t v = 0;
    while (**p >= '0' && **p <= '9') {
        if (n < 9)
            v = v * 10 + (**p - '0');
        n++;
        (*p)++;
    }
    if (n == 0)
        return false;
    for (int i = n; i < 9; i++)
        v *= 10;
    *nanos = v;
    return true;
}

static bool parse_clock(const char **p, int *secs, int32_t *nanos)
{
    int h, mi, s = 0;
    if (!digits(p, 2, &h) || *(*p)++ != ':' || !digits(p, 2, &mi))
        return false;
    if (**p == ':') {
        (*p)++;
        if (!digits(p, 2, &s) || !parse_fraction(p, nanos))
            return false;
    }
    if (h > 23 || mi > 59 || s > 59)
        return false;
    *secs = h * 3600 + mi * 60 + s;
    return true;
}

/* Z, ±HH, ±HHMM, ±HH:MM or nothing; *offset in seconds east of UTC. */
static bool parse_zone(const char **p, int *offset)
{
    *offset = 0;
    char c = **p;
    if (c == 'Z' || c == 'z') {
        (*p)++;
        return true;
    }
    if (c != '+' && c != '-')
        return c == '\0';
    (*p)++;
    int h, m = 0;
    if (!digits(p, 2, &h))
        return false;
    if (**p == ':')
        (*p)++;
    if (**p >= '0' && **p <= '9' && !digits(p, 2, &m))
        return false;
    if (h > 23 || m > 59)
        return false;
    *offset = (c == '-' ? -1 : 1) * (h * 3600 + m * 60);
    return true;
}

int bt_time_parse_iso8601(const char *s, int64_t *seconds, int32_t *nanos)
{
    const char *p = s;
    int64_t days;
    int secs = 0, offset = 0;
    int32_t ns = 0;
    if (!s || !parse_date(&p, &days))
        return -1;
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if (!parse_clock(&p, &secs, &ns) || !parse_zone(&p, &offset))
            return -1;
    }
    if (*p != '\0')
        return -1;
    *seconds = days * 86400 + secs - offset;
    *nanos = ns;
    return 0;
}

/* ------------------------------------------------------------------------
 * UTF-8 */

size_t bt_utf8_next_len(const char *p, size_t n)
{
    const unsigned char *s = (const unsigned char *)p;
    if (n == 0)
        return 0;
    unsigned char c = s[0];
    if (c < 0x80)
        return 1;
    size_t len;
    uint32_t cp, min;
    if ((c & 0xE0) == 0xC0) {
        len = 2, cp = c & 0x1F, min = 0x80;
    } else if ((c & 0xF0) == 0xE0) {
        len = 3, cp = c & 0x0F, min = 0x800;
    } else if ((c & 0xF8) == 0xF0) {
        len = 4, cp = c & 0x07, min = 0x10000;
    } else {
        return 0;
    }
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xC0) != 0x80)
            return 0;
        cp = (cp << 6) | (s[i] & 0x3F);
    }
    if (cp < min || cp > 0x10FFFF || (cp >= 0xD800 && cp <= 0xDFFF))
        return 0;
    return len;
}

bool bt_utf8_is_valid(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        size_t len = bt_utf8_next_len(s + i, n - i);
        if (len == 0)
            return false;
        i += len;
    }
    return true;
}
