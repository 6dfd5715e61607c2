/* ConnectorMetadata for the Hello, derived from the contract by the same
 * functions as the `capabilities` command (src/driver/capabilities.c). */
#include "service/svc.h"
#include "service/pb.h"
#include "bt/driver.h"

#include <stdlib.h>
#include <string.h>

typedef C1__Connector__V2__ResourceTypeCapability TypeCap;
typedef C1__Connector__V2__ConnectorCapabilities Caps;

static int trait_number(const char *name)
{
    static const char *const names[] = {"", "user", "group", "role", "app"};
    for (int i = 1; i < 5; i++)
        if (strcmp(name, names[i]) == 0)
            return i;
    return 0;
}

static bt_pb_resource_type *resource_type(const bt_resource_type_decl *t, bt_arena *a)
{
    bt_pb_resource_type *rt = bt_arena_alloc(a, sizeof *rt);
    c1__connector__v2__resource_type__init(rt);
    rt->id = t->id;
    rt->display_name = t->display_name;
    rt->description = t->description ? t->description : (char *)"";
    rt->traits = bt_arena_alloc(a, sizeof *rt->traits * (size_t)(t->trait_count + 1));
    for (int i = 0; i < t->trait_count; i++)
        rt->traits[rt->n_traits++] = trait_number(t->traits[i]);
    if (t->skip_entitlements_and_grants) {
        C1__Connector__V2__SkipEntitlementsAndGrants skip = C1__CONNECTOR__V2__SKIP_ENTITLEMENTS_AND_GRANTS__INIT;
        rt->annotations = bt_arena_alloc(a, sizeof *rt->annotations);
        rt->annotations[0] = bt_pb_any_new(a, &skip.base);
        rt->n_annotations = 1;
    }
    return rt;
}

static TypeCap *type_capability(const bt_resource_type_decl *t, bool used[16], bt_arena *a)
{
    TypeCap *tc = bt_arena_alloc(a, sizeof *tc);
    c1__connector__v2__resource_type_capability__init(tc);
    tc->resource_type = resource_type(t, a);
    tc->capabilities = bt_arena_alloc(a, sizeof *tc->capabilities * BT_MAX_TYPE_CAPS);
    int caps[BT_MAX_TYPE_CAPS], n = bt_driver_type_capabilities(t, caps);
    tc->opt_in_required = t->opt_in != NULL; /* synced only when its setting is on */
    for (int i = 0; i < n; i++) {
        tc->capabilities[tc->n_capabilities++] = (C1__Connector__V2__Capability)caps[i];
        used[caps[i]] = true;
    }
    return tc;
}

static int by_id(const void *x, const void *y)
{
    const bt_resource_type_decl *const *a = x, *const *b = y;
    return strcmp((*a)->id, (*b)->id);
}

/* Accounts are invited: there is never a password to hand out. */
static C1__Connector__V2__CredentialDetails *no_password_details(bt_arena *a)
{
    C1__Connector__V2__CredentialDetails *d = bt_arena_alloc(a, sizeof *d);
    C1__Connector__V2__CredentialDetailsAccountProvisioning *p = bt_arena_alloc(a, sizeof *p);
    c1__connector__v2__credential_details__init(d);
    c1__connector__v2__credential_details_account_provisioning__init(p);
    p->supported_credential_options = bt_arena_alloc(a, sizeof *p->supported_credential_options);
    p->supported_credential_options[0] =
        C1__CONNECTOR__V2__CAPABILITY_DETAIL_CREDENTIAL_OPTION__CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD;
    p->n_supported_credential_options = 1;
    p->preferred_credential_option = p->supported_credential_options[0];
    d->capability_account_provisioning = p;
    return d;
}

static Caps *capabilities(const bt_contract *c, bt_arena *a)
{
    Caps *caps = bt_arena_alloc(a, sizeof *caps);
    const bt_resource_type_decl **types = bt_arena_alloc(a, sizeof *types * (size_t)(c->type_count + 1));
    bool used[16] = {false};
    c1__connector__v2__connector_capabilities__init(caps);
    for (int i = 0; i < c->type_count; i++)
        types[i] = &c->types[i];
    qsort(types, (size_t)c->type_count, sizeof *types, by_id);
    caps->resource_type_capabilities = bt_arena_alloc(a, sizeof(TypeCap *) * (size_t)(c->type_count + 1));
    for (int i = 0; i < c->type_count; i++)
        caps->resource_type_capabilities[caps->n_resource_type_capabilities++] =
            type_capability(types[i], used, a);
    bt_driver_connector_capabilities(used);
    caps->connector_capabilities = bt_arena_alloc(a, sizeof *caps->connector_capabilities * 16);
    for (int cap = 0; cap < 16; cap++)
        if (used[cap])
            caps->connector_capabilities[caps->n_connector_capabilities++] = (C1__Connector__V2__Capability)cap;
    if (used[C1__CONNECTOR__V2__CAPABILITY__CAPABILITY_ACCOUNT_PROVISIONING])
        caps->credential_details = no_password_details(a);
    return caps;
}

SvcMetadata *bt_svc_metadata_build(bt_host *h, const bt_contract *c, bt_arena *a)
{
    SvcMetadata *m = bt_arena_alloc(a, sizeof *m);
    if (!m)
        return NULL;
    c1__connector__v2__connector_metadata__init(m);
    m->display_name = c->display_name ? c->display_name : c->name;
    m->description = c->description ? c->description : (char *)"";
    m->capabilities = capabilities(c, a);
    m->account_creation_schema = bt_svc_account_schema(h, c, a);
    if (bt_svc_external_link(h, c, a, m) != 0)
        return NULL;
    return m;
}
