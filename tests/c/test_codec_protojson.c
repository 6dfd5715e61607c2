/* The codec's protobuf -> JSON writer (src/codec/protojson.c), the one the
 * JSONL sink and `show` share: names, defaults, escaping, Any with and
 * without a payload decoder, Timestamp forms, and the nesting budget. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "bt/protojson.h"
#include "c1/connector/v2/resource.pb-c.h"
#include "google/protobuf/any.pb-c.h"
#include "google/protobuf/struct.pb-c.h"
#include "google/protobuf/timestamp.pb-c.h"

static char *json(const ProtobufCMessage *m, const bt_protojson_opts *o, int want_rc)
{
    bt_buf b = {0};
    assert_int_equal(bt_protojson_write(&b, m, o), want_rc);
    char *out = strdup(b.data ? b.data : "");
    bt_buf_free(&b);
    return out;
}

static void expect(const ProtobufCMessage *m, const bt_protojson_opts *o, const char *want)
{
    char *got = json(m, o, 0);
    assert_string_equal(got, want);
    free(got);
}

/* lowerCamelCase names, defaults left out, invalid UTF-8 as U+FFFD. */
static void names_defaults_and_strings(void **state)
{
    (void)state;
    C1__Connector__V2__ResourceId id = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    expect(&id.base, NULL, "{}");
    id.resource_type = "user";
    id.resource = "a\"\xff\n";
    id.baton_resource = 1;
    expect(&id.base, NULL,
           "{\"resourceType\":\"user\",\"resource\":\"a\\\"\xef\xbf\xbd\\n\",\"batonResource\":true}");
    bt_buf b = {0};
    bool first = false;
    assert_int_equal(bt_protojson_write_members(&b, &id.base, &first, NULL), 0);
    assert_true(strncmp(b.data, ",\"resourceType\"", 15) == 0);
    bt_buf_free(&b);
}

static void timestamps(void **state)
{
    (void)state;
    Google__Protobuf__Timestamp t = GOOGLE__PROTOBUF__TIMESTAMP__INIT;
    t.seconds = 1700000000;
    expect(&t.base, NULL, "\"2023-11-14T22:13:20Z\"");
    t.nanos = 125000000;
    expect(&t.base, NULL, "\"2023-11-14T22:13:20.125Z\"");
    t.nanos = 125431000;
    expect(&t.base, NULL, "\"2023-11-14T22:13:20.125431Z\"");
    t.nanos = 1;
    expect(&t.base, NULL, "\"2023-11-14T22:13:20.000000001Z\"");
    t.seconds = -1, t.nanos = 0;
    expect(&t.base, NULL, "\"1969-12-31T23:59:59Z\"");
    t.seconds = INT64_MAX; /* beyond any year a calendar holds: the seconds */
    expect(&t.base, NULL, "\"9223372036854775807\"");
}

/* An Any is base64 under "value" unless a decoder gives its payload. */
static ProtobufCMessage *unpack_resource_id(void *ctx, const char *url, const uint8_t *p, size_t n)
{
    (void)ctx;
    if (strcmp(url, "type.googleapis.com/c1.connector.v2.ResourceId") != 0)
        return NULL;
    return &c1__connector__v2__resource_id__unpack(NULL, n, p)->base;
}

static void any_payloads(void **state)
{
    (void)state;
    C1__Connector__V2__ResourceId id = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    id.resource_type = "g";
    uint8_t packed[32];
    size_t n = c1__connector__v2__resource_id__pack(&id, packed);
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = "type.googleapis.com/c1.connector.v2.ResourceId";
    any.value.data = packed;
    any.value.len = n;
    expect(&any.base, NULL, "{\"@type\":\"type.googleapis.com/c1.connector.v2.ResourceId\",\"value\":\"CgFn\"}");
    bt_protojson_opts o = {.unpack_any = unpack_resource_id};
    expect(&any.base, &o, "{\"@type\":\"type.googleapis.com/c1.connector.v2.ResourceId\",\"resourceType\":\"g\"}");
}

/* Struct/Value/ListValue as plain JSON; doubles shortest; the depth budget
 * stops a deep value (show sets it; the sink has none). */
static void struct_values_and_depth(void **state)
{
    (void)state;
    Google__Protobuf__Value leaf = GOOGLE__PROTOBUF__VALUE__INIT;
    leaf.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_NUMBER_VALUE;
    leaf.number_value = 0.1;
    Google__Protobuf__Value *items[1] = {&leaf};
    Google__Protobuf__ListValue list = GOOGLE__PROTOBUF__LIST_VALUE__INIT;
    list.n_values = 1;
    list.values = items;
    Google__Protobuf__Value lv = GOOGLE__PROTOBUF__VALUE__INIT;
    lv.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_LIST_VALUE;
    lv.list_value = &list;
    Google__Protobuf__Struct__FieldsEntry e = GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
    e.key = "k";
    e.value = &lv;
    Google__Protobuf__Struct__FieldsEntry *entries[1] = {&e};
    Google__Protobuf__Struct s = GOOGLE__PROTOBUF__STRUCT__INIT;
    s.n_fields = 1;
    s.fields = entries;
    expect(&s.base, NULL, "{\"k\":[0.1]}");
    Google__Protobuf__Value sv = GOOGLE__PROTOBUF__VALUE__INIT;
    sv.kind_case = GOOGLE__PROTOBUF__VALUE__KIND_STRUCT_VALUE;
    sv.struct_value = &s;
    Google__Protobuf__Struct__FieldsEntry e2 = GOOGLE__PROTOBUF__STRUCT__FIELDS_ENTRY__INIT;
    e2.key = "o";
    e2.value = &sv;
    Google__Protobuf__Struct__FieldsEntry *entries2[1] = {&e2};
    Google__Protobuf__Struct outer = GOOGLE__PROTOBUF__STRUCT__INIT;
    outer.n_fields = 1;
    outer.fields = entries2;
    /* outer (0) -> s (1) -> the list (2) */
    bt_protojson_opts shallow = {.max_depth = 1};
    char *got = json(&outer.base, &shallow, BT_PROTOJSON_TOO_DEEP);
    free(got);
    bt_protojson_opts enough = {.max_depth = 2};
    expect(&outer.base, &enough, "{\"o\":{\"k\":[0.1]}}");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(names_defaults_and_strings),
        cmocka_unit_test(timestamps),
        cmocka_unit_test(any_payloads),
        cmocka_unit_test(struct_values_and_depth),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
