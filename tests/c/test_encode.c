/* Encoding helpers (src/sink/encode.c, protojson.c, ksuid.c, idset.c,
 * arena.c): messages built by hand must encode to the bytes derived by hand
 * in tests/fixtures/golden/derive.py; ids, times, KSUIDs, digests. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../fixtures/golden/goldens.h"
#include "bt/model.h"
#include "sink/internal.h"
#include <stdio.h>

static bt_arena A;

static int setup(void **state)
{
    (void)state;
    bt_arena_init(&A, 0);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    bt_arena_free(&A);
    return 0;
}

/* Pack m and compare with the golden bytes. */
static void assert_encodes_to(const ProtobufCMessage *m, const uint8_t *want, size_t n)
{
    bt_buf b = {0};
    assert_int_equal(bt_pb_pack(m, &b), 0);
    assert_int_equal(b.len, n);
    assert_memory_equal(b.data, want, n);
    bt_buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Builders (plain protobuf-c, no bt.emit) */

static bt_pb_value *v_str(const char *s)
{
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRING_VALUE;
    v->string_value = bt_arena_strdup(&A, s);
    return v;
}

static bt_pb_value *v_num(double d)
{
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    v->number_value = d;
    return v;
}

static bt_pb_value *v_bool(int b)
{
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_BOOL_VALUE;
    v->bool_value = b;
    return v;
}

static bt_pb_value *v_null(void)
{
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NULL_VALUE;
    return v;
}

/* Struct from alternating key, value pointers (NULL-terminated), unsorted. */
static bt_pb_struct *mkstruct(const char *k, ...)
{
    bt_pb_struct *s = bt_arena_alloc(&A, sizeof *s);
    google__protobuf__struct__init(s);
    s->fields = bt_arena_alloc(&A, 16 * sizeof *s->fields);
    va_list ap;
    va_start(ap, k);
    for (; k; k = va_arg(ap, const char *)) {
        Google__Protobuf__Struct__FieldsEntry *e = bt_arena_alloc(&A, sizeof *e);
        google__protobuf__struct__fields_entry__init(e);
        e->key = bt_arena_strdup(&A, k);
        e->value = va_arg(ap, bt_pb_value *);
        s->fields[s->n_fields++] = e;
    }
    va_end(ap);
    return s;
}

static bt_pb_value *v_struct(bt_pb_struct *s)
{
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    v->struct_value = s;
    return v;
}

static bt_pb_value *v_list3(bt_pb_value *a, bt_pb_value *b, bt_pb_value *c)
{
    Google__Protobuf__ListValue *l = bt_arena_alloc(&A, sizeof *l);
    google__protobuf__list_value__init(l);
    l->values = bt_arena_alloc(&A, 3 * sizeof *l->values);
    l->values[0] = a;
    l->values[1] = b;
    l->values[2] = c;
    l->n_values = 3;
    bt_pb_value *v = bt_arena_alloc(&A, sizeof *v);
    google__protobuf__value__init(v);
    v->kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
    v->list_value = l;
    return v;
}

static bt_pb_resource_id *rid(const char *type, const char *id)
{
    bt_pb_resource_id *r = bt_arena_alloc(&A, sizeof *r);
    c1__connector__v2__resource_id__init(r);
    r->resource_type = (char *)type;
    r->resource = (char *)id;
    return r;
}

static Google__Protobuf__Any **one_any(const ProtobufCMessage *m)
{
    Google__Protobuf__Any **v = bt_arena_alloc(&A, 2 * sizeof *v);
    v[0] = bt_pb_any_new(&A, m);
    return v;
}

static bt_pb_resource_type *rt_user(void)
{
    bt_pb_resource_type *rt = bt_arena_alloc(&A, sizeof *rt);
    c1__connector__v2__resource_type__init(rt);
    rt->id = "user";
    rt->display_name = "User";
    rt->traits = bt_arena_alloc(&A, sizeof *rt->traits);
    rt->traits[0] = C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER;
    rt->n_traits = 1;
    C1__Connector__V2__SkipEntitlementsAndGrants skip =
        C1__CONNECTOR__V2__SKIP_ENTITLEMENTS_AND_GRANTS__INIT;
    rt->annotations = one_any(&skip.base);
    rt->n_annotations = 1;
    return rt;
}

static bt_pb_struct *user_profile(void)
{
    bt_pb_struct *s = mkstruct("last_name", v_str("Lee"), "is_admin", v_bool(0), "score", v_num(1.5),
                               "first_name", v_str("Ann"), "id", v_str("U1"), "email",
                               v_str("ann@example.com"), NULL);
    bt_pb_struct_sort(s);
    return s;
}

static bt_pb_resource *res_user(void)
{
    static Google__Protobuf__Timestamp created = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    created.seconds = 1700000000;
    created.nanos = 125000000;
    C1__Connector__V2__UserTrait__Email email = C1__CONNECTOR__V2__USER_TRAIT__EMAIL__INIT;
    email.address = "ann@example.com";
    email.is_primary = 1;
    C1__Connector__V2__UserTrait__Email *emails[] = {&email};
    C1__Connector__V2__UserTrait__Status st = C1__CONNECTOR__V2__USER_TRAIT__STATUS__INIT;
    st.status = C1__CONNECTOR__V2__USER_TRAIT__STATUS__STATUS__STATUS_ENABLED;
    C1__Connector__V2__UserTrait__StructuredName sn =
        C1__CONNECTOR__V2__USER_TRAIT__STRUCTURED_NAME__INIT;
    sn.given_name = "Ann";
    sn.family_name = "Lee";
    C1__Connector__V2__UserTrait ut = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    ut.n_emails = 1;
    ut.emails = emails;
    ut.status = &st;
    ut.profile = user_profile();
    ut.account_type = C1__CONNECTOR__V2__USER_TRAIT__ACCOUNT_TYPE__ACCOUNT_TYPE_HUMAN;
    ut.login = "ann@example.com";
    ut.created_at = &created;
    ut.structured_name = &sn;

    bt_pb_resource *r = bt_arena_alloc(&A, sizeof *r);
    c1__connector__v2__resource__init(r);
    r->id = rid("user", "U1");
    r->display_name = "Ann Lee";
    r->annotations = one_any(&ut.base);
    r->n_annotations = 1;
    r->profile = ut.profile;
    C1__Connector__V2__Status *rs = bt_arena_alloc(&A, sizeof *rs);
    c1__connector__v2__status__init(rs);
    rs->status = C1__CONNECTOR__V2__STATUS__RESOURCE_STATUS__RESOURCE_STATUS_ENABLED;
    r->status = rs;
    r->created_at = &created;
    return r;
}

static bt_pb_resource *res_group(void)
{
    bt_pb_struct *p = mkstruct("group_name", v_str("Eng"), "group_id", v_str("G1"), NULL);
    bt_pb_struct_sort(p);
    C1__Connector__V2__GroupTrait gt = C1__CONNECTOR__V2__GROUP_TRAIT__INIT;
    gt.profile = p;
    gt.group_source_type = "native";
    gt.raw_group_source_type = "MANUAL";
    bt_pb_resource *r = bt_arena_alloc(&A, sizeof *r);
    c1__connector__v2__resource__init(r);
    r->id = rid("group", "G1");
    r->display_name = "Eng";
    r->annotations = one_any(&gt.base);
    r->n_annotations = 1;
    r->profile = p;
    return r;
}

/* ------------------------------------------------------------------------
 * Golden encodings */

static void golden_resource_types(void **state)
{
    (void)state;
    assert_encodes_to(&rt_user()->base, GOLDEN_RT_USER, sizeof GOLDEN_RT_USER);
    bt_pb_resource_type g = C1__CONNECTOR__V2__RESOURCE_TYPE__INIT;
    C1__Connector__V2__ResourceType__Trait traits[] = {
        C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_GROUP};
    g.id = "group";
    g.display_name = "Group";
    g.traits = traits;
    g.n_traits = 1;
    assert_encodes_to(&g.base, GOLDEN_RT_GROUP, sizeof GOLDEN_RT_GROUP);
}

static void golden_resources(void **state)
{
    (void)state;
    assert_encodes_to(&res_user()->base, GOLDEN_RES_USER, sizeof GOLDEN_RES_USER);
    assert_encodes_to(&res_group()->base, GOLDEN_RES_GROUP, sizeof GOLDEN_RES_GROUP);
}

static void golden_entitlement(void **state)
{
    (void)state;
    bt_pb_resource_type *types[] = {rt_user()};
    bt_pb_entitlement e = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    e.resource = res_group();
    e.id = "group:G1:member";
    e.display_name = "Eng Group Member";
    e.description = "Is member of the Eng group in Twingate";
    e.grantable_to = types;
    e.n_grantable_to = 1;
    e.purpose = C1__CONNECTOR__V2__ENTITLEMENT__PURPOSE_VALUE__PURPOSE_VALUE_ASSIGNMENT;
    e.slug = "member";
    assert_encodes_to(&e.base, GOLDEN_ENT_MEMBER, sizeof GOLDEN_ENT_MEMBER);
}

static void golden_grants(void **state)
{
    (void)state;
    bt_pb_entitlement e = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    e.resource = res_group();
    e.id = "group:G1:member";
    bt_pb_resource p = C1__CONNECTOR__V2__RESOURCE__INIT;
    p.id = rid("user", "U1");
    bt_pb_grant g = C1__CONNECTOR__V2__GRANT__INIT;
    g.entitlement = &e;
    g.principal = &p;
    g.id = "group:G1:member:user:U1";
    assert_encodes_to(&g.base, GOLDEN_GRANT_MEMBER, sizeof GOLDEN_GRANT_MEMBER);

    char *ids[] = {"group:G2:member"};
    C1__Connector__V2__GrantExpandable ge = C1__CONNECTOR__V2__GRANT_EXPANDABLE__INIT;
    ge.entitlement_ids = ids;
    ge.n_entitlement_ids = 1;
    ge.shallow = 1;
    C1__Connector__V2__GrantImmutable im = C1__CONNECTOR__V2__GRANT_IMMUTABLE__INIT;
    Google__Protobuf__Any *anns[] = {bt_pb_any_new(&A, &ge.base), bt_pb_any_new(&A, &im.base)};
    p.id = rid("user", "U2");
    g.id = "group:G1:member:user:U2";
    g.annotations = anns;
    g.n_annotations = 2;
    assert_encodes_to(&g.base, GOLDEN_GRANT_ANNOTATED, sizeof GOLDEN_GRANT_ANNOTATED);
}

/* Keys sorted bytewise at every level; "" and false still written (oneof). */
/* The hand-packed principal and id of the packed-grant path are the bytes
 * protobuf-c writes for them, at every varint length and with empty strings
 * (left out, proto3). */
static void grant_principal_and_id_by_hand(void **state)
{
    (void)state;
    static const size_t lens[] = {0, 1, 5, 100, 113, 114, 127, 128, 200, 300, 16383, 16384, 70000};
    size_t n = sizeof lens / sizeof lens[0];
    char *text = malloc(70001);
    assert_non_null(text);
    for (size_t i = 0; i < 70000; i++)
        text[i] = (char)('a' + i % 26);
    bt_buf hand = {0}, lib = {0};
    for (size_t a = 0; a < n; a++)
        for (size_t b = 0; b < n; b += 3)
            for (size_t c = 0; c < n; c += 4) {
                char *t = strndup(text, lens[a]), *p = strndup(text + 7, lens[b]),
                     *g = strndup(text + 3, lens[c]);
                C1__Connector__V2__ResourceId rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
                rid.resource_type = t;
                rid.resource = p;
                C1__Connector__V2__Resource prin = C1__CONNECTOR__V2__RESOURCE__INIT;
                prin.id = &rid;
                C1__Connector__V2__Grant grant = C1__CONNECTOR__V2__GRANT__INIT;
                grant.principal = &prin;
                grant.id = g;
                assert_int_equal(bt_pb_pack(&grant.base, &lib), 0);
                bt_buf_clear(&hand);
                bt_pb_append_grant_principal_and_id(&hand, t, p, g);
                assert_false(hand.oom);
                assert_int_equal(hand.len, lib.len);
                assert_memory_equal(hand.data, lib.data, lib.len);
                free(t);
                free(p);
                free(g);
            }
    bt_buf_free(&hand);
    bt_buf_free(&lib);
    free(text);
    /* The c1z writer's id_only() names every Resource field: a field added to
     * the proto must be added there too, or the hand-packed rows would lose it. */
    assert_int_equal(c1__connector__v2__resource__descriptor.n_fields, 12);
    assert_int_equal(c1__connector__v2__resource_id__descriptor.n_fields, 3);
}

static void golden_struct_sorted(void **state)
{
    (void)state;
    bt_pb_struct *s = mkstruct("z", v_str(""), "n", v_num(-2), "m",
                               v_list3(v_num(1.5), v_str("s"), v_null()), "a",
                               v_struct(mkstruct("k", v_bool(0), NULL)), NULL);
    bt_pb_struct_sort(s);
    assert_string_equal(s->fields[0]->key, "a");
    assert_string_equal(s->fields[3]->key, "z");
    assert_encodes_to(&s->base, GOLDEN_STRUCT_MIXED, sizeof GOLDEN_STRUCT_MIXED);
}

/* The sink embeds decoded rows: unpack + pack must give the same bytes. */
static void decode_reencode_is_identical(void **state)
{
    (void)state;
    bt_pb_resource *r =
        c1__connector__v2__resource__unpack(NULL, sizeof GOLDEN_RES_USER, GOLDEN_RES_USER);
    assert_non_null(r);
    assert_string_equal(r->display_name, "Ann Lee");
    assert_int_equal(r->created_at->nanos, 125000000);
    assert_encodes_to(&r->base, GOLDEN_RES_USER, sizeof GOLDEN_RES_USER);
    c1__connector__v2__resource__free_unpacked(r, NULL);

    Google__Protobuf__Struct *s =
        google__protobuf__struct__unpack(NULL, sizeof GOLDEN_STRUCT_MIXED, GOLDEN_STRUCT_MIXED);
    assert_non_null(s);
    assert_encodes_to(&s->base, GOLDEN_STRUCT_MIXED, sizeof GOLDEN_STRUCT_MIXED);
    google__protobuf__struct__free_unpacked(s, NULL);
}

static void any_helpers(void **state)
{
    (void)state;
    C1__Connector__V2__ExternalLink el = C1__CONNECTOR__V2__EXTERNAL_LINK__INIT;
    el.url = "https://example.com";
    bt_pb_any *any = bt_pb_any_new(&A, &el.base);
    assert_string_equal(any->type_url, "type.googleapis.com/c1.connector.v2.ExternalLink");
    /* value = field 1, "https://example.com" */
    assert_int_equal(any->value.len, 21);
    assert_int_equal(any->value.data[0], 0x0a);
    assert_int_equal(any->value.data[1], 19);
    assert_true(bt_pb_any_is(any, &c1__connector__v2__external_link__descriptor));
    assert_false(bt_pb_any_is(any, &c1__connector__v2__user_trait__descriptor));
    assert_ptr_equal(bt_pb_find_type("type.googleapis.com/c1.connector.v2.UserTrait"),
                     &c1__connector__v2__user_trait__descriptor);
    assert_ptr_equal(bt_pb_find_type("x/c1.connector.v2.GrantExpandable"),
                     &c1__connector__v2__grant_expandable__descriptor);
    assert_null(bt_pb_find_type("type.googleapis.com/c1.connector.v2.Nope"));
}

/* ------------------------------------------------------------------------
 * Ids, times, UTF-8 */

static void baton_ids(void **state)
{
    (void)state;
    assert_string_equal(bt_id_resource(&A, "user", "U1"), "user:U1");
    char *e = bt_id_entitlement(&A, "group", "G1", "member");
    assert_string_equal(e, "group:G1:member");
    assert_string_equal(bt_id_grant(&A, e, "user", "U9"), "group:G1:member:user:U9");
}

/* ------------------------------------------------------------------------
 * KSUID and the sync time layout */

static void ksuid_vectors(void **state)
{
    (void)state;
    static const uint8_t raw[20] = {0x06, 0x69, 0xF7, 0xEF, 0xB5, 0xA1, 0xCD, 0x34, 0xB5, 0xF9,
                                    0x9D, 0x11, 0x54, 0xFB, 0x68, 0x53, 0x34, 0x5C, 0x97, 0x35};
    char out[BT_KSUID_LEN + 1];
    bt_ksuid_encode(raw, out);
    assert_string_equal(out, "0ujtsYcgvSTl8PAuAdqWYSMnLOv");
    uint8_t zero[20] = {0}, ff[20];
    memset(ff, 0xff, sizeof ff);
    bt_ksuid_encode(zero, out);
    assert_string_equal(out, "000000000000000000000000000");
    bt_ksuid_encode(ff, out);
    assert_string_equal(out, "aWgEPTl1tmebfsQzFP4bxwgy80V");
    assert_true(bt_ksuid_is_valid("0ujtsYcgvSTl8PAuAdqWYSMnLOv"));
    assert_true(bt_ksuid_is_valid("aWgEPTl1tmebfsQzFP4bxwgy80V"));
    assert_false(bt_ksuid_is_valid("aWgEPTl1tmebfsQzFP4bxwgy80W")); /* > 2^160-1 */
    assert_false(bt_ksuid_is_valid("0ujtsYcgvSTl8PAuAdqWYSMnLO"));
    assert_false(bt_ksuid_is_valid("0ujtsYcgvSTl8PAuAdqWYSMnLO-"));
}

/* Decode base62 back to the 4 timestamp bytes. */
static uint32_t ksuid_timestamp(const char *s)
{
    static const char b62[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    uint8_t num[20] = {0};
    for (const char *p = s; *p; p++) {
        unsigned carry = (unsigned)(strchr(b62, *p) - b62);
        for (int i = 19; i >= 0; i--) {
            unsigned v = num[i] * 62u + carry;
            num[i] = (uint8_t)v;
            carry = v >> 8;
        }
    }
    return (uint32_t)num[0] << 24 | (uint32_t)num[1] << 16 | (uint32_t)num[2] << 8 | num[3];
}

static void ksuid_new(void **state)
{
    (void)state;
    char a[BT_KSUID_LEN + 1], b[BT_KSUID_LEN + 1];
    assert_int_equal(bt_ksuid_new(1700000000, a), 0);
    assert_int_equal(bt_ksuid_new(1700000000, b), 0);
    assert_true(bt_ksuid_is_valid(a));
    assert_string_not_equal(a, b); /* 16 random bytes */
    assert_int_equal(ksuid_timestamp(a), 1700000000 - 1400000000);
    assert_int_equal(ksuid_timestamp(b), 300000000);
}

static void sync_time_layout(void **state)
{
    (void)state;
    char out[BT_SYNC_TIME_LEN + 1];
    setenv("TZ", "UTC", 1);
    bt_sync_time_format(1700000000, 5, out);
    assert_string_equal(out, "2023-11-14 22:13:20.000000005");
    bt_sync_time_format(1700000000, 0, out);
    assert_string_equal(out, "2023-11-14 22:13:20.000000000"); /* fixed width */
    bt_sync_time_now(out);
    assert_int_equal(strlen(out), 29);
    assert_int_equal(out[10], ' ');
    assert_int_equal(out[19], '.');
}

/* ------------------------------------------------------------------------
 * protojson */

static void protojson_forms(void **state)
{
    (void)state;
    bt_buf b = {0};
    assert_int_equal(bt_protojson_append(&b, &rt_user()->base), 0);
    assert_string_equal((char *)b.data,
                        "{\"id\":\"user\",\"displayName\":\"User\",\"traits\":[\"TRAIT_USER\"],"
                        "\"annotations\":[{\"@type\":\"type.googleapis.com/"
                        "c1.connector.v2.SkipEntitlementsAndGrants\"}]}");
    bt_buf_clear(&b);
    assert_int_equal(bt_protojson_append(&b, &res_user()->base), 0);
    const char *profile = "{\"email\":\"ann@example.com\",\"first_name\":\"Ann\",\"id\":\"U1\","
                          "\"is_admin\":false,\"last_name\":\"Lee\",\"score\":1.5}";
    char want[2048];
    snprintf(want, sizeof want,
             "{\"id\":{\"resourceType\":\"user\",\"resource\":\"U1\"},\"displayName\":\"Ann Lee\","
             "\"annotations\":[{\"@type\":\"type.googleapis.com/c1.connector.v2.UserTrait\","
             "\"emails\":[{\"address\":\"ann@example.com\",\"isPrimary\":true}],"
             "\"status\":{\"status\":\"STATUS_ENABLED\"},\"profile\":%s,"
             "\"accountType\":\"ACCOUNT_TYPE_HUMAN\",\"login\":\"ann@example.com\","
             "\"createdAt\":\"2023-11-14T22:13:20.125Z\","
             "\"structuredName\":{\"givenName\":\"Ann\",\"familyName\":\"Lee\"}}],"
             "\"profile\":%s,\"status\":{\"status\":\"RESOURCE_STATUS_ENABLED\"},"
             "\"createdAt\":\"2023-11-14T22:13:20.125Z\"}",
             profile, profile);
    assert_string_equal((char *)b.data, want);
    bt_buf_free(&b);
}

static void protojson_values_and_escapes(void **state)
{
    (void)state;
    bt_buf b = {0};
    bt_pb_struct *s = mkstruct("q", v_str("a\"b\\c\n\x01\xff"), "n", v_num(0.1), "i", v_num(1e21),
                               "l", v_list3(v_num(-3), v_bool(1), v_null()), "e",
                               v_struct(mkstruct(NULL)), NULL);
    bt_pb_struct_sort(s);
    assert_int_equal(bt_protojson_append(&b, &s->base), 0);
    assert_string_equal((char *)b.data,
                        "{\"e\":{},\"i\":1e+21,\"l\":[-3,true,null],\"n\":0.1,"
                        "\"q\":\"a\\\"b\\\\c\\n\\u0001\xef\xbf\xbd\"}");
    bt_buf_clear(&b);
    bool first = false;
    bt_buf_puts(&b, "{\"kind\":\"x\"");
    C1__Connector__V2__GrantSources__GrantSource src = C1__CONNECTOR__V2__GRANT_SOURCES__GRANT_SOURCE__INIT;
    src.is_direct = 1;
    C1__Connector__V2__GrantSources__SourcesEntry ent = C1__CONNECTOR__V2__GRANT_SOURCES__SOURCES_ENTRY__INIT;
    ent.key = "group:G1:member";
    ent.value = &src;
    C1__Connector__V2__GrantSources__SourcesEntry *ents[] = {&ent};
    C1__Connector__V2__GrantSources gs = C1__CONNECTOR__V2__GRANT_SOURCES__INIT;
    gs.sources = ents;
    gs.n_sources = 1;
    assert_int_equal(bt_protojson_append_members(&b, &gs.base, &first), 0);
    bt_buf_putc(&b, '}');
    assert_string_equal((char *)b.data,
                        "{\"kind\":\"x\",\"sources\":{\"group:G1:member\":{\"isDirect\":true}}}");
    bt_buf_free(&b);
}

/* ------------------------------------------------------------------------
 * Digests, sets, arena */

static void xxh64_vectors(void **state)
{
    (void)state;
    /* Reference values from xxhsum -H1. */
    assert_true(bt_xxh64("", 0, 0) == 0xef46db3751d8e999ULL);
    assert_true(bt_xxh64("abc", 3, 0) == 0x44bc2cf5ad770999ULL);
    char hundred[100];
    memset(hundred, 'a', sizeof hundred);
    assert_true(bt_xxh64(hundred, sizeof hundred, 0) == 0x375041e8b1decfb3ULL);
    /* Parts are separated: "ab"+"c" differs from "a"+"bc". */
    assert_true(bt_id_digest('r', "ab", "c") != bt_id_digest('r', "a", "bc"));
    assert_true(bt_id_digest('r', "a", "b") != bt_id_digest('e', "a", "b"));
}

static void idset_basics(void **state)
{
    (void)state;
    bt_idset s = {0};
    assert_false(bt_idset_has(&s, 7));
    for (uint64_t i = 0; i < 5000; i++)
        assert_int_equal(bt_idset_add(&s, i * 0x9E3779B97F4A7C15ULL), 1);
    assert_int_equal(s.n, 5000);
    assert_true(s.cap >= 10000);
    for (uint64_t i = 0; i < 5000; i++) {
        assert_true(bt_idset_has(&s, i * 0x9E3779B97F4A7C15ULL));
        assert_int_equal(bt_idset_add(&s, i * 0x9E3779B97F4A7C15ULL), 0);
    }
    assert_false(bt_idset_has(&s, 12345));
    bt_idset_free(&s);
}

static void arena_basics(void **state)
{
    (void)state;
    bt_arena a;
    bt_arena_init(&a, 64);
    char *big = bt_arena_alloc(&a, 1000); /* larger than a block */
    assert_non_null(big);
    memset(big, 'x', 1000);
    int *z = bt_arena_alloc(&a, 8 * sizeof(int));
    for (int i = 0; i < 8; i++)
        assert_int_equal(z[i], 0); /* zeroed */
    assert_int_equal((uintptr_t)z % _Alignof(max_align_t), 0);
    assert_string_equal(bt_arena_join(&a, "/", "a", "b", "c", (char *)NULL), "a/b/c");
    assert_string_equal(bt_arena_join(&a, "-", (char *)NULL), "");
    bt_arena_reset(&a);
    assert_non_null(bt_arena_strndup(&a, "hello", 3));
    bt_arena_free(&a);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(golden_resource_types, setup, teardown),
        cmocka_unit_test_setup_teardown(golden_resources, setup, teardown),
        cmocka_unit_test_setup_teardown(golden_entitlement, setup, teardown),
        cmocka_unit_test_setup_teardown(grant_principal_and_id_by_hand, setup, teardown),
        cmocka_unit_test_setup_teardown(golden_grants, setup, teardown),
        cmocka_unit_test_setup_teardown(golden_struct_sorted, setup, teardown),
        cmocka_unit_test_setup_teardown(decode_reencode_is_identical, setup, teardown),
        cmocka_unit_test_setup_teardown(any_helpers, setup, teardown),
        cmocka_unit_test_setup_teardown(baton_ids, setup, teardown),
        cmocka_unit_test(ksuid_vectors),
        cmocka_unit_test(ksuid_new),
        cmocka_unit_test(sync_time_layout),
        cmocka_unit_test_setup_teardown(protojson_forms, setup, teardown),
        cmocka_unit_test_setup_teardown(protojson_values_and_escapes, setup, teardown),
        cmocka_unit_test(xxh64_vectors),
        cmocka_unit_test(idset_basics),
        cmocka_unit_test(arena_basics),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
