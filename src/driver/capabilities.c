/* `capabilities` and `config`: JSON derived from the script's contract table,
 * in the protojson shapes of §6.3 (HEAD: Any-wrapped, 2-space indent). */
#include "action/action.h"
#include "bt/cli.h"
#include "bt/driver.h"
#include "bt/json_write.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>

enum {
    CAP_PROVISION = 1,
    CAP_SYNC = 2,
    CAP_ACCOUNT_PROVISIONING = 5,
    CAP_RESOURCE_DELETE = 8,
    CAP_TARGETED_SYNC = 11,
    CAP_SERVICE_MODE_TARGETED_SYNC = 13
};

static const char *cap_name(int cap)
{
    switch (cap) {
    case CAP_PROVISION: return "CAPABILITY_PROVISION";
    case CAP_SYNC: return "CAPABILITY_SYNC";
    case CAP_ACCOUNT_PROVISIONING: return "CAPABILITY_ACCOUNT_PROVISIONING";
    case CAP_RESOURCE_DELETE: return "CAPABILITY_RESOURCE_DELETE";
    case CAP_TARGETED_SYNC: return "CAPABILITY_TARGETED_SYNC";
    case CAP_SERVICE_MODE_TARGETED_SYNC: return "CAPABILITY_SERVICE_MODE_TARGETED_SYNC";
    default: return "CAPABILITY_UNSPECIFIED";
    }
}

static int add_cap(int caps[BT_MAX_TYPE_CAPS], int n, int cap)
{
    for (int i = 0; i < n; i++)
        if (caps[i] == cap)
            return n;
    if (n < BT_MAX_TYPE_CAPS)
        caps[n++] = cap;
    return n;
}

/* Per-type capabilities in HEAD's order (TARGETED_SYNC first when the type
 * supports it); returns how many. Service mode's Hello uses it too. */
int bt_driver_type_capabilities(const bt_resource_type_decl *t, int caps[BT_MAX_TYPE_CAPS])
{
    int n = 0;
    if (t->targeted_sync)
        caps[n++] = CAP_TARGETED_SYNC;
    caps[n++] = CAP_SYNC;
    for (int i = 0; bt_action_at(i); i++) /* grant and revoke share one capability */
        if (bt_action_promised(bt_action_at(i), t))
            n = add_cap(caps, n, bt_action_at(i)->capability);
    return n;
}

static void write_trait_name(bt_jw *w, const char *trait)
{
    char name[32];
    size_t i = 0;
    i += (size_t)snprintf(name, sizeof name, "TRAIT_");
    for (; *trait && i + 1 < sizeof name; trait++)
        name[i++] = (char)toupper((unsigned char)*trait);
    name[i] = '\0';
    bt_jw_string(w, name);
}

static void write_resource_type(bt_jw *w, const bt_resource_type_decl *t)
{
    bt_jw_begin_object(w);
    bt_jw_kv_string(w, "id", t->id);
    bt_jw_kv_string(w, "displayName", t->display_name);
    bt_jw_key(w, "traits");
    bt_jw_begin_array(w);
    for (int i = 0; i < t->trait_count; i++)
        write_trait_name(w, t->traits[i]);
    bt_jw_end_array(w);
    if (t->skip_entitlements_and_grants) {
        bt_jw_key(w, "annotations");
        bt_jw_begin_array(w);
        bt_jw_begin_object(w);
        bt_jw_kv_string(w, "@type", "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants");
        bt_jw_end_object(w);
        bt_jw_end_array(w);
    }
    if (t->description)
        bt_jw_kv_string(w, "description", t->description);
    bt_jw_end_object(w);
}

/* Resource types sorted by id, as the SDK lists them. */
static void sorted_types(const bt_contract *c, const bt_resource_type_decl **out)
{
    for (int i = 0; i < c->type_count; i++)
        out[i] = &c->types[i];
    for (int i = 1; i < c->type_count; i++)
        for (int j = i; j > 0 && strcmp(out[j - 1]->id, out[j]->id) > 0; j--) {
            const bt_resource_type_decl *tmp = out[j];
            out[j] = out[j - 1];
            out[j - 1] = tmp;
        }
}

static void write_type_capabilities(bt_jw *w, const bt_contract *c, bool used[16])
{
    const bt_resource_type_decl *types[64];
    sorted_types(c, types);
    bt_jw_key(w, "resourceTypeCapabilities");
    bt_jw_begin_array(w);
    for (int i = 0; i < c->type_count && i < 64; i++) {
        int caps[BT_MAX_TYPE_CAPS], n = bt_driver_type_capabilities(types[i], caps);
        bt_jw_begin_object(w);
        bt_jw_key(w, "resourceType");
        write_resource_type(w, types[i]);
        bt_jw_key(w, "capabilities");
        bt_jw_begin_array(w);
        for (int k = 0; k < n; k++) {
            bt_jw_string(w, cap_name(caps[k]));
            used[caps[k]] = true;
        }
        bt_jw_end_array(w);
        bt_jw_key(w, "permissions");
        bt_jw_begin_object(w);
        bt_jw_end_object(w);
        if (types[i]->opt_in) { /* synced only when its setting is on */
            bt_jw_key(w, "optInRequired");
            bt_jw_bool(w, true);
        }
        bt_jw_end_object(w);
    }
    bt_jw_end_array(w);
}

/* The connector-level list: the union of the types' (used[]), plus what
 * comes with it. Targeted sync through the sync options is what service mode
 * passes a SyncFullTask's targeted resources to, so it comes with it. */
void bt_driver_connector_capabilities(bool used[16])
{
    used[CAP_SERVICE_MODE_TARGETED_SYNC] = used[CAP_TARGETED_SYNC];
}

void bt_driver_print_capabilities(const bt_contract *c, FILE *out)
{
    bt_jw w;
    bool used[16] = {false};
    bt_jw_init(&w, out, 2);
    bt_jw_begin_object(&w);
    bt_jw_kv_string(&w, "@type", "type.googleapis.com/c1.connector.v2.ConnectorCapabilities");
    write_type_capabilities(&w, c, used);
    bt_jw_key(&w, "connectorCapabilities");
    bt_jw_begin_array(&w);
    bt_driver_connector_capabilities(used);
    for (int cap = 0; cap < 16; cap++)
        if (used[cap])
            bt_jw_string(&w, cap_name(cap));
    bt_jw_end_array(&w);
    if (used[CAP_ACCOUNT_PROVISIONING]) {
        /* Accounts are invited: there is never a password to hand out. */
        bt_jw_key(&w, "credentialDetails");
        bt_jw_begin_object(&w);
        bt_jw_key(&w, "capabilityAccountProvisioning");
        bt_jw_begin_object(&w);
        bt_jw_key(&w, "supportedCredentialOptions");
        bt_jw_begin_array(&w);
        bt_jw_string(&w, "CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD");
        bt_jw_end_array(&w);
        bt_jw_kv_string(&w, "preferredCredentialOption", "CAPABILITY_DETAIL_CREDENTIAL_OPTION_NO_PASSWORD");
        bt_jw_end_object(&w);
        bt_jw_end_object(&w);
    }
    bt_jw_end_object(&w);
    fputc('\n', out);
}

/* "api-key" -> "Api key" */
static void display_name(const char *name, char *out, size_t n)
{
    size_t i = 0;
    for (; name[i] && i + 1 < n; i++)
        out[i] = name[i] == '-' ? ' ' : name[i];
    out[i] = '\0';
    out[0] = (char)toupper((unsigned char)out[0]);
}

/* protojson: a bool field's default is a JSON bool, an int field's an integer
 * (int64, so a string in protojson), a string field's a string. */
static void write_default(bt_jw *w, const bt_config_field *f)
{
    if (!f->default_value)
        return;
    if (f->type == BT_FIELD_BOOL) {
        bool on = strcmp(f->default_value, "true") == 0 || strcmp(f->default_value, "1") == 0;
        if (on) { /* protojson leaves out false */
            bt_jw_key(w, "defaultValue");
            bt_jw_bool(w, true);
        }
        return;
    }
    bt_jw_kv_string(w, "defaultValue", f->default_value);
}

static void write_field(bt_jw *w, const bt_config_field *f)
{
    char dn[128];
    if (f->display_name)
        snprintf(dn, sizeof dn, "%s", f->display_name);
    else
        display_name(f->name, dn, sizeof dn);
    bt_jw_begin_object(w);
    bt_jw_kv_string(w, "name", f->name);
    bt_jw_kv_string(w, "displayName", dn);
    bt_jw_kv_string(w, "description", f->help);
    /* A field required unless another is given is still required in C1's form:
     * the alternative is an ops override (so no AT_LEAST_ONE constraint). */
    if (f->required) {
        bt_jw_key(w, "isRequired");
        bt_jw_bool(w, true);
    }
    if (f->ops) {
        bt_jw_key(w, "isOps");
        bt_jw_bool(w, true);
    }
    if (f->secret) {
        bt_jw_key(w, "isSecret");
        bt_jw_bool(w, true);
    }
    bt_jw_key(w, f->type == BT_FIELD_BOOL ? "boolField" : f->type == BT_FIELD_INT ? "intField" : "stringField");
    bt_jw_begin_object(w);
    write_default(w, f);
    bt_jw_end_object(w);
    bt_jw_end_object(w);
}

/* The runtime's operator settings, from the flag table that parses them:
 * isOps fields (C1's form does not ask for them), with their labels. */
static const struct {
    bt_flag_id flag;
    const char *label;
} ops_flags[] = {
    {BT_FLAG_LOG_LEVEL, "Log level"},
    {BT_FLAG_LOG_FORMAT, "Log format"},
    {BT_FLAG_LOG_LEVEL_DEBUG_EXPIRES_AT, "Debug log level expires at"},
    {BT_FLAG_HTTP_TIMEOUT_SECONDS, "HTTP timeout (seconds)"},
    {BT_FLAG_HTTP_CONNECT_TIMEOUT, "HTTP connect timeout (seconds)"},
    {BT_FLAG_HTTP_MAX_ATTEMPTS, "HTTP attempts per request"},
    {BT_FLAG_HTTP_MAX_RETRY_WAIT, "HTTP retry wait per request (seconds)"},
    {BT_FLAG_HTTP_MAX_TOTAL_TIME, "HTTP time per request (seconds)"},
    {BT_FLAG_READS_PER_MINUTE, "Reads per minute"},
    {BT_FLAG_WRITES_PER_MINUTE, "Writes per minute"},
    {BT_FLAG_SCRIPT_MEMORY_LIMIT, "Script memory limit (MB)"},
    {BT_FLAG_SCRIPT_CPU_LIMIT, "Script CPU limit (seconds)"},
    {BT_FLAG_C1Z_TEMP_DIR, "Temporary directory"},
    {BT_FLAG_SKIP_FULL_SYNC, "Skip full syncs"},
    {BT_FLAG_TASK_CONCURRENCY, "Task concurrency"},
    {BT_FLAG_HEALTH_CHECK, "Health check server"},
    {BT_FLAG_HEALTH_CHECK_PORT, "Health check port"},
    {BT_FLAG_HEALTH_CHECK_BIND_ADDRESS, "Health check bind address"},
};

static void write_runtime_fields(bt_jw *w)
{
    bt_cli cli;
    bt_cli_init(&cli);
    for (size_t i = 0; i < sizeof ops_flags / sizeof ops_flags[0]; i++) {
        const bt_flag *f = &cli.flags[ops_flags[i].flag];
        bt_config_field field = {.name = (char *)f->name, .help = (char *)f->help,
                                 .default_value = (char *)f->default_value,
                                 .display_name = (char *)ops_flags[i].label,
                                 .type = f->type, .ops = true};
        write_field(w, &field);
    }
    bt_cli_free(&cli);
}

void bt_driver_print_config_schema(const bt_contract *c, FILE *out)
{
    bt_jw w;
    bt_jw_init(&w, out, 2);
    bt_jw_begin_object(&w);
    bt_jw_key(&w, "fields");
    bt_jw_begin_array(&w);
    for (int i = 0; i < c->field_count; i++)
        write_field(&w, &c->fields[i]);
    write_runtime_fields(&w);
    bt_jw_end_array(&w);
    bt_jw_kv_string(&w, "displayName", c->display_name);
    bt_jw_end_object(&w);
    fputc('\n', out);
}
