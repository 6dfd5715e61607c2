/* Encoding helpers shared by bt.emit, the sinks and readers: deterministic
 * packing, Any, Struct key order and baton ids. No SQLite, no Lua. (The
 * byte buffer, times and UTF-8 are in src/codec/.) */
#include "bt/model.h"

#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------------
 * Packing and Any */

int bt_pb_pack(const ProtobufCMessage *m, bt_buf *b)
{
    size_t n = protobuf_c_message_get_packed_size(m);
    bt_buf_clear(b);
    bt_buf_reserve(b, n + 1);
    if (b->oom)
        return -1;
    b->len = protobuf_c_message_pack(m, (uint8_t *)b->data);
    b->data[b->len] = 0;
    return b->len == n ? 0 : -1;
}

/* A length-delimited field: tag (field number, wire type 2), length as a varint. */
static void put_len_field(bt_buf *b, unsigned field, size_t len)
{
    bt_buf_putc(b, (char)((field << 3) | 2));
    for (; len >= 0x80; len >>= 7)
        bt_buf_putc(b, (char)((len & 0x7f) | 0x80));
    bt_buf_putc(b, (char)len);
}

static size_t varint_size(size_t v)
{
    size_t n = 1;
    for (; v >= 0x80; v >>= 7)
        n++;
    return n;
}

/* A proto3 string field: left out when empty, as protobuf-c does. */
static size_t string_field_size(size_t len)
{
    return len ? 1 + varint_size(len) + len : 0;
}

static void put_string_field(bt_buf *b, unsigned field, const char *s, size_t len)
{
    if (!len)
        return;
    put_len_field(b, field, len);
    bt_buf_append(b, s, len);
}

void bt_pb_append_grant_principal_and_id(bt_buf *b, const char *ptype, const char *pid,
                                         const char *grant_id)
{
    size_t nt = strlen(ptype), np = strlen(pid), ng = strlen(grant_id);
    size_t rid = string_field_size(nt) + string_field_size(np); /* ResourceId */
    size_t res = 1 + varint_size(rid) + rid;                    /* Resource {id = 1} */
    put_len_field(b, 2, res); /* Grant.principal */
    put_len_field(b, 1, rid); /* Resource.id */
    put_string_field(b, 1, ptype, nt);
    put_string_field(b, 2, pid, np);
    put_string_field(b, 3, grant_id, ng); /* Grant.id */
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
