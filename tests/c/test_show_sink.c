/* A c1z written by the project's own writer (bt_sink, src/sink) reads back
 * through `show` with every row, reference and name intact. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "bt/show.h"
#include "bt/sink.h"
#include "tmpdir.h"

typedef struct {
    char *dir;
    char path[512];
} fixture;

typedef C1__Connector__V2__ResourceType__Trait Trait;

/* An Any holding m, its value in buf (large enough). */
static Google__Protobuf__Any any_of(const ProtobufCMessage *m, const char *type_url, uint8_t *buf)
{
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    any.type_url = (char *)type_url;
    any.value.len = protobuf_c_message_pack(m, buf);
    any.value.data = buf;
    return any;
}

static void add_type(bt_sink *s, const char *id, const char *name, Trait trait)
{
    char err[512] = "";
    Trait traits[] = {trait};
    C1__Connector__V2__ResourceType rt = C1__CONNECTOR__V2__RESOURCE_TYPE__INIT;
    rt.id = (char *)id;
    rt.display_name = (char *)name;
    rt.n_traits = 1;
    rt.traits = traits;
    assert_int_equal(bt_sink_add_resource_type(s, &rt, err, sizeof err), BT_SINK_ADDED);
}

/* A resource with the trait its type demands; parent_id NULL for none. */
static void add_resource(bt_sink *s, const char *type, const char *id, const char *name,
                         const char *parent_id)
{
    char err[512] = "";
    uint8_t buf[256];
    C1__Connector__V2__UserTrait user = C1__CONNECTOR__V2__USER_TRAIT__INIT;
    C1__Connector__V2__GroupTrait group = C1__CONNECTOR__V2__GROUP_TRAIT__INIT;
    user.login = (char *)id;
    bool is_user = strcmp(type, "user") == 0;
    Google__Protobuf__Any trait =
        is_user ? any_of(&user.base, "type.googleapis.com/c1.connector.v2.UserTrait", buf)
                : any_of(&group.base, "type.googleapis.com/c1.connector.v2.GroupTrait", buf);
    Google__Protobuf__Any *annotations[] = {&trait};
    C1__Connector__V2__ResourceId rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    C1__Connector__V2__ResourceId parent = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    C1__Connector__V2__Resource r = C1__CONNECTOR__V2__RESOURCE__INIT;
    rid.resource_type = (char *)type;
    rid.resource = (char *)id;
    parent.resource_type = "group";
    parent.resource = (char *)parent_id;
    r.id = &rid;
    r.parent_resource_id = parent_id ? &parent : NULL;
    r.display_name = (char *)name;
    r.n_annotations = 1;
    r.annotations = annotations;
    assert_int_equal(bt_sink_add_resource(s, &r, err, sizeof err), BT_SINK_ADDED);
}

static void add_member_entitlement(bt_sink *s)
{
    char err[512] = "";
    C1__Connector__V2__ResourceId rid = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    C1__Connector__V2__Resource owner = C1__CONNECTOR__V2__RESOURCE__INIT;
    C1__Connector__V2__Entitlement e = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    rid.resource_type = "group";
    rid.resource = "g1";
    owner.id = &rid;
    e.resource = &owner;
    e.id = "group:g1:member";
    e.display_name = "Ops Team Group Member";
    e.slug = "member";
    e.purpose = C1__CONNECTOR__V2__ENTITLEMENT__PURPOSE_VALUE__PURPOSE_VALUE_ASSIGNMENT;
    assert_int_equal(bt_sink_add_entitlement(s, &e, err, sizeof err), BT_SINK_ADDED);
}

static void add_member_grant(bt_sink *s, const char *grant_id, const char *user_id)
{
    char err[512] = "";
    C1__Connector__V2__ResourceId owner_id = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    C1__Connector__V2__Resource owner = C1__CONNECTOR__V2__RESOURCE__INIT;
    C1__Connector__V2__Entitlement e = C1__CONNECTOR__V2__ENTITLEMENT__INIT;
    C1__Connector__V2__ResourceId principal_id = C1__CONNECTOR__V2__RESOURCE_ID__INIT;
    C1__Connector__V2__Resource principal = C1__CONNECTOR__V2__RESOURCE__INIT;
    C1__Connector__V2__Grant g = C1__CONNECTOR__V2__GRANT__INIT;
    owner_id.resource_type = "group";
    owner_id.resource = "g1";
    owner.id = &owner_id;
    e.id = "group:g1:member";
    e.resource = &owner;
    principal_id.resource_type = "user";
    principal_id.resource = (char *)user_id;
    principal.id = &principal_id;
    g.id = (char *)grant_id;
    g.entitlement = &e;
    g.principal = &principal;
    assert_int_equal(bt_sink_add_grant(s, &g, err, sizeof err), BT_SINK_ADDED);
}

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    f->dir = tmpdir_make("show-sink");
    snprintf(f->path, sizeof f->path, "%s/sync.c1z", f->dir);
    char err[512] = "";
    bt_sink *s = bt_sink_open(f->path, "c1z", err, sizeof err);
    if (!s) {
        fprintf(stderr, "bt_sink_open: %s\n", err);
        return -1;
    }
    add_type(s, "group", "Group", C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_GROUP);
    add_type(s, "user", "User", C1__CONNECTOR__V2__RESOURCE_TYPE__TRAIT__TRAIT_USER);
    add_resource(s, "group", "g1", "Ops Team", NULL);
    add_resource(s, "group", "g2", "Sub Team", "g1");
    add_resource(s, "user", "u1", "Ünïcode Üser", NULL);
    add_resource(s, "user", "u2", "Plain User", NULL);
    add_member_entitlement(s);
    add_member_grant(s, "group:g1:member:user:u1", "u1");
    add_member_grant(s, "group:g1:member:user:u2", "u2");
    if (bt_sink_commit(s, err, sizeof err) != 0) {
        fprintf(stderr, "bt_sink_commit: %s\n", err);
        return -1;
    }
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    tmpdir_remove(f->dir);
    free(f);
    return 0;
}

typedef struct {
    int rc;
    char *out, *err;
    size_t out_len, err_len;
} result;

static result run_show(fixture *f, const char *view, const char *extra)
{
    char *argv[] = {"show", f->path, (char *)view, (char *)extra};
    result r = {0};
    FILE *out = open_memstream(&r.out, &r.out_len);
    FILE *err = open_memstream(&r.err, &r.err_len);
    r.rc = bt_show_main_io(extra ? 4 : view ? 3 : 2, argv, out, err);
    fclose(out);
    fclose(err);
    return r;
}

static void expect(fixture *f, const char *view, const char *expected)
{
    result r = run_show(f, view, NULL);
    assert_string_equal(r.err, "");
    assert_int_equal(r.rc, 0);
    const char *table = r.out;
    if (strcmp(view, "--stats") == 0) { /* after the sync line */
        assert_true(strncmp(table, "Sync: ", 6) == 0);
        table = strchr(table, '\n') + 1;
    }
    assert_string_equal(table, expected);
    free(r.out);
    free(r.err);
}

static void resources_read_back(void **state)
{
    expect(*state, "--resources",
           "ID | Display Name | Resource Type | Parent Resource \n"
           "g1 | Ops Team     | Group         | -               \n"
           "g2 | Sub Team     | Group         | Ops Team (group)\n"
           "u1 | Ünïcode Üser | User          | -               \n"
           "u2 | Plain User   | User          | -               \n");
}

static void entitlements_read_back(void **state)
{
    expect(*state, "--entitlements",
           "ID              | Display Name          | Resource Type | Resource | Permission\n"
           "group:g1:member | Ops Team Group Member | Group         | Ops Team | member    \n");
}

static void grants_read_back(void **state)
{
    expect(
        *state, "--grants",
        "ID                      | Resource Type | Resource | Entitlement           | Principal   \n"
        "group:g1:member:user:u1 | Group         | Ops Team | Ops Team Group Member | Ünïcode Üser\n"
        "group:g1:member:user:u2 | Group         | Ops Team | Ops Team Group Member | Plain User  \n");
}

static void stats_read_back(void **state)
{
    expect(*state, "--stats",
           "Type           | Count\n"
           "entitlements   | 1    \n"
           "grants         | 2    \n"
           "group          | 2    \n"
           "resource_types | 2    \n"
           "user           | 2    \n");
}

static void one_finished_full_sync(void **state)
{
    result r = run_show(*state, NULL, NULL);
    assert_int_equal(r.rc, 0);
    assert_true(strncmp(r.out, "Sync: ", 6) == 0);
    assert_non_null(strstr(r.out, " (full, started "));
    assert_null(strstr(r.out, "ended unfinished"));
    free(r.out);
    free(r.err);
}

/* The writer embeds the stored resource in a grant's entitlement (5.2). */
static void grant_blob_embeds_the_full_resource(void **state)
{
    result r = run_show(*state, "--grants", "--json");
    assert_int_equal(r.rc, 0);
    assert_non_null(strstr(r.out, "{\"grants\":[{\"grant\":{\"entitlement\":{\"resource\":{\"id\":"
                                  "{\"resourceType\":\"group\",\"resource\":\"g1\"},"
                                  "\"displayName\":\"Ops Team\""));
    assert_non_null(strstr(r.out, "\"@type\":\"type.googleapis.com/c1.connector.v2.GroupTrait\""));
    free(r.out);
    free(r.err);
}

#define T(name) cmocka_unit_test_setup_teardown(name, setup, teardown)

int main(void)
{
    const struct CMUnitTest tests[] = {
        T(resources_read_back), T(entitlements_read_back), T(grants_read_back),
        T(stats_read_back),     T(one_finished_full_sync), T(grant_blob_embeds_the_full_resource),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
