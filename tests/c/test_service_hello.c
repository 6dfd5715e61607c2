/* The Hello the daemon sends, built from the bundled scripts' contract:
 * capabilities by the rules of the service-mode document (5.3), credential
 * details, the account-creation schema, build info and OS info with no empty
 * field. Packed and unpacked, as it travels. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "service/svc.h"
#include "bt/config.h"
#include "c1/connector/v2/annotation_external_link.pb-c.h"

typedef C1__Connector__V2__ResourceTypeCapability TypeCap;

static SvcHelloReq *built;
static bt_host *host;
static bt_contract contract;
static bt_arena arena;

static int setup(void **state)
{
    (void)state;
    bt_host_error err;
    host = bt_host_new(NULL, BT_TEST_SOURCE_DIR "/scripts", &err);
    assert_non_null(host);
    assert_int_equal(bt_contract_load(host, "twingate", &contract, &err), 0);
    bt_arena_init(&arena, 0);
    bt_config_set("domain", "https://acme.twingate.com/", false);
    SvcHelloReq req;
    assert_int_equal(bt_svc_hello_build(&req, host, &contract, "bt-test-host", &arena), 0);
    size_t n = protobuf_c_message_get_packed_size(&req.base);
    uint8_t *bytes = bt_arena_alloc(&arena, n);
    protobuf_c_message_pack(&req.base, bytes);
    built = (SvcHelloReq *)protobuf_c_message_unpack(SVC_DESC(baton_service_hello_request), NULL,
                                                     n, bytes);
    assert_non_null(built);
    return 0;
}

static int teardown(void **state)
{
    (void)state;
    protobuf_c_message_free_unpacked(&built->base, NULL);
    bt_arena_free(&arena);
    bt_contract_free(&contract);
    bt_host_free(host);
    return 0;
}

static const TypeCap *type_cap(const char *id)
{
    const C1__Connector__V2__ConnectorCapabilities *c = built->connector_metadata->capabilities;
    for (size_t i = 0; i < c->n_resource_type_capabilities; i++)
        if (strcmp(c->resource_type_capabilities[i]->resource_type->id, id) == 0)
            return c->resource_type_capabilities[i];
    fail_msg("no capabilities for %s", id);
    return NULL;
}

static void caps_are(const TypeCap *t, const int *want, size_t n)
{
    assert_int_equal(t->n_capabilities, n);
    for (size_t i = 0; i < n; i++)
        assert_int_equal(t->capabilities[i], want[i]);
}

static void capabilities_by_the_rules(void **state)
{
    (void)state;
    const C1__Connector__V2__ConnectorCapabilities *c = built->connector_metadata->capabilities;
    for (size_t i = 1; i < c->n_resource_type_capabilities; i++) /* sorted by id */
        assert_true(strcmp(c->resource_type_capabilities[i - 1]->resource_type->id,
                           c->resource_type_capabilities[i]->resource_type->id) < 0);
    /* TARGETED_SYNC (11) first where the type can be targeted, as the SDK lists it */
    caps_are(type_cap("group"), (int[]){11, 2, 1}, 3);
    caps_are(type_cap("role"), (int[]){11, 2, 1}, 3);
    caps_are(type_cap("user"), (int[]){11, 2, 5, 8}, 4);
    /* opt-in types say so; the default ones do not */
    assert_true(type_cap("service_account")->opt_in_required);
    assert_true(type_cap("resource")->opt_in_required);
    assert_false(type_cap("group")->opt_in_required);
    const bt_pb_resource_type *user = type_cap("user")->resource_type;
    assert_int_equal(user->n_traits, 1);
    assert_int_equal(user->traits[0], 1);
    assert_int_equal(user->n_annotations, 1);
    assert_string_equal(user->annotations[0]->type_url,
                        "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
    caps_are(&(TypeCap){.capabilities = c->connector_capabilities,
                        .n_capabilities = c->n_connector_capabilities}, (int[]){1, 2, 5, 8, 11, 13}, 6);
    const C1__Connector__V2__CredentialDetailsAccountProvisioning *p =
        c->credential_details->capability_account_provisioning;
    assert_int_equal(p->n_supported_credential_options, 1);
    assert_int_equal(p->supported_credential_options[0], 1);
    assert_int_equal(p->preferred_credential_option, 1);
}

static void metadata_and_schema(void **state)
{
    (void)state;
    const SvcMetadata *m = built->connector_metadata;
    assert_string_equal(m->display_name, "Twingate");
    assert_true(strlen(m->description) > 0);
    assert_non_null(m->account_creation_schema);
    assert_int_equal(m->account_creation_schema->n_field_map, 3);
    const C1__Connector__V2__ConnectorAccountCreationSchema__FieldMapEntry *e =
        m->account_creation_schema->field_map[0];
    assert_string_equal(e->key, "email");
    assert_true(e->value->required);
    assert_int_equal(e->value->order, 1);
    assert_int_equal(e->value->field_case,
                     C1__CONNECTOR__V2__CONNECTOR_ACCOUNT_CREATION_SCHEMA__FIELD__FIELD_STRING_FIELD);
}

/* The ExternalLink annotation names the configured domain, as the Go
 * connector's Hello does. */
static void external_link_names_the_domain(void **state)
{
    (void)state;
    const SvcMetadata *m = built->connector_metadata;
    assert_int_equal(m->n_annotations, 1);
    assert_string_equal(m->annotations[0]->type_url, "type.googleapis.com/c1.connector.v2.ExternalLink");
    C1__Connector__V2__ExternalLink *link = c1__connector__v2__external_link__unpack(
        NULL, m->annotations[0]->value.len, m->annotations[0]->value.data);
    assert_non_null(link);
    assert_string_equal(link->url, "https://acme.twingate.com");
    c1__connector__v2__external_link__free_unpacked(link, NULL);
}

static void build_and_os_info_never_empty(void **state)
{
    (void)state;
    assert_string_equal(built->host_id, "bt-test-host");
    assert_string_equal(built->task_id, "");
    const char *fields[] = {built->build_info->lang_version, built->build_info->package,
                            built->build_info->package_version, built->os_info->hostname,
                            built->os_info->os, built->os_info->platform,
                            built->os_info->platform_version, built->os_info->platform_family,
                            built->os_info->kernel_version, built->os_info->kernel_arch,
                            built->os_info->virtualization_system};
    for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
        assert_true(strlen(fields[i]) > 0);
        assert_true(strlen(fields[i]) <= 256);
    }
    assert_string_equal(built->os_info->os, "linux");
    assert_non_null(strstr(built->build_info->lang_version, "C11"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(capabilities_by_the_rules),
        cmocka_unit_test(metadata_and_schema),
        cmocka_unit_test(build_and_os_info_never_empty),
        cmocka_unit_test(external_link_names_the_domain),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
