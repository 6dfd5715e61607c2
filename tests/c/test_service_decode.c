/* Every message the daemon decodes from ConductorOne goes through the shared
 * wire check (bt/pb_check.h) first: a GetTask answer whose create_account
 * task carries a google.protobuf.Struct profile nested without end is
 * refused with an error instead of overflowing protobuf-c's stack. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "bt/pb_check.h"
#include "service/svc.h"

/* A buffer written from its end backwards, so each nesting level is one
 * prefix (tag, length) in front of what it wraps: O(n) for any depth. */
typedef struct {
    uint8_t *buf;
    size_t cap, start;
} rbuf;

static void put_bytes(rbuf *b, const void *p, size_t n)
{
    assert_true(n <= b->start);
    b->start -= n;
    memcpy(b->buf + b->start, p, n);
}

static void put_varint(rbuf *b, uint64_t v)
{
    uint8_t tmp[10];
    size_t n = 0;
    do {
        tmp[n++] = (uint8_t)((v & 0x7F) | (v > 0x7F ? 0x80 : 0));
        v >>= 7;
    } while (v);
    put_bytes(b, tmp, n);
}

static size_t used(const rbuf *b) { return b->cap - b->start; }

/* Wrap everything written after `mark` bytes were used as field `number`. */
static void wrap(rbuf *b, size_t mark, unsigned number)
{
    put_varint(b, used(b) - mark);
    put_varint(b, (uint64_t)number << 3 | 2);
}

static const ProtobufCFieldDescriptor *field(const ProtobufCMessageDescriptor *d, const char *name)
{
    const ProtobufCFieldDescriptor *f = protobuf_c_message_descriptor_get_field_by_name(d, name);
    assert_non_null(f);
    return f;
}

/* GetTaskResponse{task{create_account{account_info{profile: Struct}}}}, the
 * Struct nested `depth` times as fields{"a": Value{struct_value: Struct...}}. */
static rbuf nested_get_task(size_t depth)
{
    const ProtobufCMessageDescriptor *resp = SVC_DESC(baton_service_get_task_response);
    const ProtobufCFieldDescriptor *task = field(resp, "task");
    const ProtobufCFieldDescriptor *create = field(task->descriptor, "create_account");
    const ProtobufCFieldDescriptor *info = field(create->descriptor, "account_info");
    const ProtobufCFieldDescriptor *profile = field(info->descriptor, "profile");
    const ProtobufCFieldDescriptor *fields = field(profile->descriptor, "fields");
    const ProtobufCFieldDescriptor *key = field(fields->descriptor, "key");
    const ProtobufCFieldDescriptor *value = field(fields->descriptor, "value");
    const ProtobufCFieldDescriptor *sv = field(value->descriptor, "struct_value");
    rbuf b = {0};
    b.cap = b.start = depth * 16 + 64;
    b.buf = malloc(b.cap);
    assert_non_null(b.buf);
    for (size_t i = 0; i < depth; i++) {
        /* Struct (what is written so far) -> Value.struct_value -> entry
         * {key "a", value} -> Struct.fields */
        wrap(&b, 0, sv->id);
        wrap(&b, 0, value->id);
        put_bytes(&b, "a", 1);
        put_varint(&b, 1);
        put_varint(&b, (uint64_t)key->id << 3 | 2);
        wrap(&b, 0, fields->id);
    }
    wrap(&b, 0, profile->id);
    wrap(&b, 0, info->id);
    wrap(&b, 0, create->id);
    wrap(&b, 0, task->id);
    return b;
}

static void deep_struct_refused(void **state)
{
    (void)state;
    /* About 800 KB, like the reviewer's crash (protobuf-c 1.4.1, exit 139). */
    rbuf b = nested_get_task(100000);
    char why[512] = "";
    ProtobufCMessage *m = bt_svc_decode(SVC_DESC(baton_service_get_task_response),
                                        b.buf + b.start, used(&b), why, sizeof why);
    assert_null(m);
    assert_non_null(strstr(why, "nested deeper than"));
    assert_non_null(strstr(why, "GetTaskResponse"));
    free(b.buf);
}

static void shallow_struct_decodes(void **state)
{
    (void)state;
    rbuf b = nested_get_task(20);
    char why[512] = "";
    ProtobufCMessage *m = bt_svc_decode(SVC_DESC(baton_service_get_task_response),
                                        b.buf + b.start, used(&b), why, sizeof why);
    assert_non_null(m);
    SvcGetTaskResp *r = (SvcGetTaskResp *)m;
    assert_non_null(r->task);
    assert_int_equal(r->task->task_type_case,
                     C1__CONNECTORAPI__BATON__V1__TASK__TASK_TYPE_CREATE_ACCOUNT);
    assert_non_null(r->task->create_account->account_info->profile);
    protobuf_c_message_free_unpacked(m, NULL);
    free(b.buf);
}

static void limit_is_exact(void **state)
{
    (void)state;
    /* Levels: GetTaskResponse, Task, CreateAccountTask, AccountInfo, then 3
     * per Struct level (Struct, entry, Value) and the innermost Struct. */
    size_t ok = (BT_PB_MAX_DEPTH - 5) / 3;
    char why[512];
    for (size_t depth = ok; depth <= ok + 1; depth++) {
        rbuf b = nested_get_task(depth);
        ProtobufCMessage *m = bt_svc_decode(SVC_DESC(baton_service_get_task_response),
                                            b.buf + b.start, used(&b), why, sizeof why);
        if (depth == ok)
            assert_non_null(m);
        else
            assert_null(m);
        if (m)
            protobuf_c_message_free_unpacked(m, NULL);
        free(b.buf);
    }
}

static void bad_wire_and_utf8_refused(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = SVC_DESC(baton_service_get_task_response);
    char why[512];
    /* task (field 1) claims 5 bytes, 1 follows */
    assert_null(bt_svc_decode(d, (const unsigned char *)"\x0a\x05\x00", 3, why, sizeof why));
    assert_non_null(strstr(why, "malformed protobuf"));
    /* task{id: "\xff"} */
    const ProtobufCFieldDescriptor *task = field(d, "task");
    const ProtobufCFieldDescriptor *id = field(task->descriptor, "id");
    unsigned char bytes[] = {(unsigned char)(task->id << 3 | 2), 3,
                             (unsigned char)(id->id << 3 | 2), 1, 0xff};
    assert_null(bt_svc_decode(d, bytes, sizeof bytes, why, sizeof why));
    assert_non_null(strstr(why, "UTF-8"));
    /* The empty message is a valid answer. */
    ProtobufCMessage *m = bt_svc_decode(d, NULL, 0, why, sizeof why);
    assert_non_null(m);
    protobuf_c_message_free_unpacked(m, NULL);
}

/* A NUL byte in any string field of a task is refused by the NUL walk, which
 * names the field by its path; bt_pb_decode alone lets it through (cut). */
static void nul_in_a_nested_string_is_named(void **state)
{
    (void)state;
    const ProtobufCMessageDescriptor *d = SVC_DESC(baton_service_get_task_response);
    const ProtobufCFieldDescriptor *task = field(d, "task");
    const ProtobufCFieldDescriptor *del = field(task->descriptor, "delete_resource");
    const ProtobufCFieldDescriptor *rid = field(del->descriptor, "resource_id");
    const ProtobufCFieldDescriptor *res = field(rid->descriptor, "resource");
    rbuf b = {0};
    b.cap = b.start = 64;
    b.buf = malloc(b.cap);
    assert_non_null(b.buf);
    put_bytes(&b, "ab\0cd", 5);
    wrap(&b, 0, res->id);
    wrap(&b, 0, rid->id);
    wrap(&b, 0, del->id);
    wrap(&b, 0, task->id);
    char why[512] = "";
    assert_int_equal(bt_pb_check_no_nul(d, b.buf + b.start, used(&b), why, sizeof why), -1);
    assert_string_equal(why, "string field task.delete_resource.resource_id.resource holds a NUL byte");
    ProtobufCMessage *m = bt_pb_decode(d, b.buf + b.start, used(&b), why, sizeof why);
    assert_non_null(m);
    assert_string_equal(((SvcGetTaskResp *)m)->task->delete_resource->resource_id->resource, "ab");
    protobuf_c_message_free_unpacked(m, NULL);
    b.buf[b.cap - 3] = 'x'; /* "abxcd": nothing to refuse */
    assert_int_equal(bt_pb_check_no_nul(d, b.buf + b.start, used(&b), why, sizeof why), 0);
    assert_int_equal(bt_pb_check_no_nul(d, NULL, 0, why, sizeof why), 0);
    free(b.buf);
}

/* What ConductorOne is sent carries no local file paths (issue 17): a
 * script position keeps the script's name, other paths their last part;
 * URLs and relative names stay. */
static void public_text_has_no_local_paths(void **state)
{
    (void)state;
    static const char *const cases[][2] = {
        {"/usr/share/baton-twingate/scripts/twingate/groups.lua:87: auth: Unauthorized (HTTP 401)",
         "twingate/groups.lua:87: auth: Unauthorized (HTTP 401)"},
        {"...e/baton-twingate/scripts/twingate/sync.lua:4: attempt to index a nil value",
         "twingate/sync.lua:4: attempt to index a nil value"},
        {"cannot read \"/etc/baton/secret.key\": denied", "cannot read \"secret.key\": denied"},
        {"transport: cannot reach https://acme.twingate.com/api/graphql/ (timeout)",
         "transport: cannot reach https://acme.twingate.com/api/graphql/ (timeout)"},
        {"twingate/init.lua:3: boom", "twingate/init.lua:3: boom"},
        {"graphql: not found for /api/graphql/", "graphql: not found for /api/graphql/"},
        {"group not found: /groups/abc", "group not found: /groups/abc"},
        {"cannot read '/etc/baton-twingate/env'", "cannot read 'env'"},
        {"", ""},
    };
    char out[256];
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        bt_svc_public_text(cases[i][0], out, sizeof out);
        assert_string_equal(out, cases[i][1]);
    }
    bt_svc_public_text("/a/b/c.lua:1: xxxxxxxxxx", out, 8);
    assert_int_equal(strlen(out), 7);
    /* a file in a directory that exists here, whatever its name */
    char cwd[200], text[300];
    assert_non_null(getcwd(cwd, sizeof cwd));
    snprintf(text, sizeof text, "cannot write %s/out.c1z: full", cwd);
    bt_svc_public_text(text, out, sizeof out);
    assert_string_equal(out, "cannot write out.c1z: full");
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(deep_struct_refused),
        cmocka_unit_test(public_text_has_no_local_paths),
        cmocka_unit_test(shallow_struct_decodes),
        cmocka_unit_test(limit_is_exact),
        cmocka_unit_test(bad_wire_and_utf8_refused),
        cmocka_unit_test(nul_in_a_nested_string_is_named),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
