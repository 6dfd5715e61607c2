/* The runtime's flags (baton conventions, §6 of the format doc) and argv parsing. */
#include "bt/cli.h"
#include "bt/config.h"
#include "bt/secret.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* One row per runtime flag, at its bt_flag_id (include/bt/cli.h); the fields
 * left out are NULL, 0 or false (a string flag). */
static const bt_flag runtime_flags[BT_RUNTIME_FLAG_COUNT] = {
    [BT_FLAG_FILE] = {.name = "file", .short_name = 'f', .help = "The path to the c1z file to sync with (.jsonl writes JSON lines)", .default_value = "sync.c1z"},
    [BT_FLAG_OUTPUT_FORMAT] = {.name = "output-format", .help = "Output format: c1z or jsonl (default: from the file extension)"},
    [BT_FLAG_LOG_LEVEL] = {.name = "log-level", .help = "The log level: debug, info, warn, error", .default_value = "info"},
    [BT_FLAG_LOG_FORMAT] = {.name = "log-format", .help = "The output format for logs: json, console"},
    [BT_FLAG_LOG_PATH] = {.name = "log-path", .help = "Append log lines to this file instead of stderr"},
    [BT_FLAG_LOG_LEVEL_DEBUG_EXPIRES_AT] = {.name = "log-level-debug-expires-at", .help = "RFC 3339 time after which a debug --log-level falls back to info"},
    [BT_FLAG_PROVISIONING] = {.name = "provisioning", .short_name = 'p', .help = "This must be set in order for provisioning actions to be enabled", .default_value = "false", .type = BT_FIELD_BOOL},
    [BT_FLAG_SCRIPTS_DIR] = {.name = "scripts-dir", .help = "Directory of override scripts, searched before the bundled scripts"},
    [BT_FLAG_GRANT_ENTITLEMENT] = {.name = "grant-entitlement", .help = "The id of the entitlement to grant to the supplied principal"},
    [BT_FLAG_GRANT_PRINCIPAL] = {.name = "grant-principal", .help = "The id of the resource to grant the entitlement to"},
    [BT_FLAG_GRANT_PRINCIPAL_TYPE] = {.name = "grant-principal-type", .help = "The resource type of the principal to grant the entitlement to"},
    [BT_FLAG_REVOKE_GRANT] = {.name = "revoke-grant", .help = "The grant to revoke"},
    [BT_FLAG_CREATE_ACCOUNT_LOGIN] = {.name = "create-account-login", .help = "The login of the account to create"},
    [BT_FLAG_CREATE_ACCOUNT_EMAIL] = {.name = "create-account-email", .help = "The email of the account to create"},
    [BT_FLAG_CREATE_ACCOUNT_PROFILE] = {.name = "create-account-profile", .help = "JSON object of profile data for the account to create"},
    [BT_FLAG_CREATE_ACCOUNT_RESOURCE_TYPE] = {.name = "create-account-resource-type", .help = "The resource type of the account to create"},
    [BT_FLAG_DELETE_RESOURCE] = {.name = "delete-resource", .help = "The id of the resource to delete"},
    [BT_FLAG_DELETE_RESOURCE_TYPE] = {.name = "delete-resource-type", .help = "The resource type of the resource to delete"},
    [BT_FLAG_SYNC_RESOURCES] = {.name = "sync-resources", .list = true, .help = "Targeted sync: only these resources (bid:r:<type>/<id> or <type>:<id>, comma-separated), their entitlements and grants"},
    [BT_FLAG_SYNC_RESOURCE_TYPES] = {.name = "sync-resource-types", .list = true, .help = "Only these resource type ids (comma-separated); grants whose principal is left out are not written"},
    [BT_FLAG_SKIP_ENTITLEMENTS_AND_GRANTS] = {.name = "skip-entitlements-and-grants", .help = "Write resources only (sync type resources_only)", .default_value = "false", .type = BT_FIELD_BOOL},
    [BT_FLAG_SKIP_GRANTS] = {.name = "skip-grants", .help = "Write resources and entitlements but no grants", .default_value = "false", .type = BT_FIELD_BOOL, .hidden = true},
    [BT_FLAG_HTTP_TIMEOUT_SECONDS] = {.name = "http-timeout-seconds", .help = "Seconds a single HTTP request may take", .default_value = "60", .type = BT_FIELD_INT},
    [BT_FLAG_HTTP_TIMEOUT] = {.name = "http-timeout", .help = "Old name of --http-timeout-seconds", .type = BT_FIELD_INT, .hidden = true},
    [BT_FLAG_HTTP_CONNECT_TIMEOUT] = {.name = "http-connect-timeout", .help = "Seconds to wait for a connection", .default_value = "10", .type = BT_FIELD_INT},
    [BT_FLAG_HTTP_MAX_ATTEMPTS] = {.name = "http-max-attempts", .help = "Attempts per request before giving up (429, 5xx, transport errors)", .default_value = "8", .type = BT_FIELD_INT},
    [BT_FLAG_HTTP_MAX_RETRY_WAIT] = {.name = "http-max-retry-wait", .help = "Seconds one request may spend waiting between its retries", .default_value = "900", .type = BT_FIELD_INT},
    [BT_FLAG_HTTP_MAX_TOTAL_TIME] = {.name = "http-max-total-time", .help = "Seconds one request may take with all its retries and waits", .default_value = "1800", .type = BT_FIELD_INT},
    [BT_FLAG_SCRIPT_MEMORY_LIMIT] = {.name = "script-memory-limit", .help = "Megabytes of memory the connector scripts may use", .default_value = "512", .type = BT_FIELD_INT},
    [BT_FLAG_SCRIPT_CPU_LIMIT] = {.name = "script-cpu-limit", .help = "CPU seconds a script may run between two requests", .default_value = "60", .type = BT_FIELD_INT},
    [BT_FLAG_READS_PER_MINUTE] = {.name = "reads-per-minute", .help = "Client-side pacing of queries (0: off; default: the script's)", .type = BT_FIELD_INT},
    [BT_FLAG_WRITES_PER_MINUTE] = {.name = "writes-per-minute", .help = "Client-side pacing of mutations (0: off; default: the script's)", .type = BT_FIELD_INT},
    [BT_FLAG_CLIENT_ID] = {.name = "client-id", .help = "The client ID used to authenticate with ConductorOne (starts service mode)"},
    [BT_FLAG_CLIENT_SECRET] = {.name = "client-secret", .help = "The client secret used to authenticate with ConductorOne (prefer BATON_CLIENT_SECRET)", .secret = true},
    [BT_FLAG_C1Z_TEMP_DIR] = {.name = "c1z-temp-dir", .help = "Directory for temporary files: a sync's working database (default: beside the output file); in service mode each task's sync file (default: $TMPDIR, else /tmp)"},
    [BT_FLAG_SKIP_FULL_SYNC] = {.name = "skip-full-sync", .help = "Service mode: refuse full sync tasks (targeted syncs still run)", .default_value = "false", .type = BT_FIELD_BOOL},
    [BT_FLAG_TASK_CONCURRENCY] = {.name = "task-concurrency", .help = "Service mode: tasks run at the same time", .default_value = "3", .type = BT_FIELD_INT},
    [BT_FLAG_HEALTH_CHECK] = {.name = "health-check", .help = "Service mode: serve /live, /ready and /health over HTTP", .default_value = "false", .type = BT_FIELD_BOOL},
    [BT_FLAG_HEALTH_CHECK_PORT] = {.name = "health-check-port", .help = "Service mode: port of the health check server", .default_value = "8081", .type = BT_FIELD_INT},
    [BT_FLAG_HEALTH_CHECK_BIND_ADDRESS] = {.name = "health-check-bind-address", .help = "Service mode: address the health check server binds to", .default_value = "127.0.0.1"},
    [BT_FLAG_SERVICE_ONLY] = {.name = "service-only", .help = "Refuse to run (exit 78) unless service mode is configured (the systemd unit sets it)", .default_value = "false", .type = BT_FIELD_BOOL, .hidden = true},
};

void bt_cli_init(bt_cli *cli)
{
    memset(cli, 0, sizeof *cli);
    size_t n = sizeof runtime_flags / sizeof runtime_flags[0];
    for (size_t i = 0; i < n; i++)
        cli->flags[cli->flag_count++] = runtime_flags[i];
}

static int flag_index(const bt_cli *cli, const char *name, size_t len)
{
    for (int i = 0; i < cli->flag_count; i++)
        if (strlen(cli->flags[i].name) == len && strncmp(cli->flags[i].name, name, len) == 0)
            return i;
    return -1;
}

static bool is_set_at(const bt_cli *cli, int i)
{
    return i >= 0 && cli->sources[i] > BT_SRC_DEFAULT && cli->values[i] && cli->values[i][0];
}

static int get_long_at(const bt_cli *cli, int i, long *out, char *err, size_t errsz)
{
    const char *v = cli->values[i];
    char *end;
    if (!v)
        return 1;
    errno = 0;
    *out = strtol(v, &end, 10);
    if (errno || end == v || *end || *out < 0 || *out > 1000000) {
        snprintf(err, errsz, "invalid value for --%s: \"%s\" is not a whole number from 0 to 1000000",
                 cli->flags[i].name, v);
        return -1;
    }
    return 0;
}

bool bt_cli_has_flag(const bt_cli *cli, const char *name)
{
    return flag_index(cli, name, strlen(name)) >= 0;
}

/* An SDK flag we do not implement: refused unless its value asks for nothing. */
static int parse_sdk_flag(const bt_sdk_flag *f, int argc, char **argv, int *pos, const char *eq,
                          char *err, size_t errsz)
{
    const char *value = eq ? eq + 1 : NULL;
    if (!value && f->is_bool)
        value = "true";
    if (!value && *pos + 1 < argc)
        value = argv[++*pos];
    char where[128];
    snprintf(where, sizeof where, "--%s", f->name);
    return bt_cli_refuse_sdk_flag(f, value ? value : "", where, err, errsz);
}

static int short_index(const bt_cli *cli, char c)
{
    for (int i = 0; i < cli->flag_count; i++)
        if (cli->flags[i].short_name == c)
            return i;
    return -1;
}

static char *own(bt_cli *cli, char *s)
{
    if (s && cli->owned_count < BT_CLI_MAX_FLAGS)
        return cli->owned[cli->owned_count++] = s;
    free(s);
    return NULL;
}

/* a + b + c in memory the cli frees. */
static char *own_concat(bt_cli *cli, const char *a, const char *b, const char *c)
{
    size_t n = strlen(a) + strlen(b) + strlen(c) + 1;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%s%s%s", a, b, c);
    return own(cli, s);
}

/* --<name>-file for the secret flag at index `secret`, read at run time. */
static int add_file_twin(bt_cli *cli, int secret, char *err, size_t errsz)
{
    const char *name = cli->flags[secret].name;
    char *twin = own_concat(cli, name, "-file", "");
    char *help = own_concat(cli, "File holding the ", name,
                            " (not readable by group/others; keeps it out of the process list)");
    if (!twin || !help) {
        snprintf(err, errsz, "out of memory");
        return -1;
    }
    int i = cli->flag_count++;
    cli->flags[i] = (bt_flag){.name = twin, .help = help, .connector = true};
    cli->file_of[i] = secret + 1;
    return 0;
}

/* The flag whose BATON_* variable is also name's ("api_key" and "api-key"
 * share BATON_API_KEY: a non-secret twin would hand a script the key). */
static const char *same_env_as(const bt_cli *cli, const char *name)
{
    char env[160], other[160];
    bt_cli_env_name(name, env, sizeof env);
    for (int i = 0; i < cli->flag_count; i++) {
        bt_cli_env_name(cli->flags[i].name, other, sizeof other);
        if (strcmp(env, other) == 0)
            return cli->flags[i].name;
    }
    return NULL;
}

static int add_field(bt_cli *cli, const char *name, const bt_contract *c, char *err, size_t errsz)
{
    const char *twin = same_env_as(cli, name);
    if (!twin && flag_index(cli, name, strlen(name)) < 0 && cli->flag_count < BT_CLI_MAX_FLAGS)
        return 0;
    if (twin && strcmp(twin, name) != 0)
        snprintf(err, errsz, "%s: config field '%s' clashes with '%s' (both read the same BATON_* "
                 "variable)", c->source_file, name, twin);
    else
        snprintf(err, errsz, "%s: config field '%s' clashes with a runtime flag", c->source_file,
                 name);
    return -1;
}

int bt_cli_add_connector_fields(bt_cli *cli, const bt_contract *c, char *err, size_t errsz)
{
    for (int i = 0; i < c->field_count; i++) {
        const bt_config_field *f = &c->fields[i];
        if (add_field(cli, f->name, c, err, errsz) != 0)
            return -1;
        int at = cli->flag_count++;
        cli->flags[at] = (bt_flag){.name = f->name, .help = f->help,
                                   .default_value = f->default_value,
                                   .required_unless = f->required_unless, .type = f->type,
                                   .secret = f->secret, .required = f->required,
                                   .connector = true};
        char twin[128];
        snprintf(twin, sizeof twin, "%s-file", f->name);
        if (f->secret && (add_field(cli, twin, c, err, errsz) != 0 ||
                          add_file_twin(cli, at, err, errsz) != 0))
            return -1;
    }
    return 0;
}

/* A repeated list flag: the earlier values, a comma, the new ones. */
static int append_value(bt_cli *cli, int i, const char *value)
{
    size_t n = strlen(cli->values[i]) + strlen(value) + 2;
    char *joined = malloc(n);
    if (!joined)
        return -1;
    snprintf(joined, n, "%s,%s", cli->values[i], value);
    bt_secret_free(cli->values[i]);
    cli->values[i] = joined;
    return 0;
}

/* A flag's value; given again, a list flag collects and any other keeps the last. */
static int set_value(bt_cli *cli, int i, const char *value, bt_value_source src)
{
    if (src == BT_SRC_FLAG && cli->sources[i] == BT_SRC_FLAG && cli->values[i] &&
        cli->flags[i].list)
        return append_value(cli, i, value);
    bt_secret_free(cli->values[i]); /* any value may be a secret's */
    cli->values[i] = strdup(value);
    cli->sources[i] = src;
    return cli->values[i] ? 0 : -1;
}

/* --name, --name=value, --name value; bools take no separate value. */
static int parse_long(bt_cli *cli, int argc, char **argv, int *pos, char *err, size_t errsz)
{
    const char *arg = argv[*pos] + 2, *eq = strchr(arg, '=');
    size_t len = eq ? (size_t)(eq - arg) : strlen(arg);
    if (len == 4 && strncmp(arg, "help", 4) == 0)
        return cli->help = true, 0;
    if (len == 7 && strncmp(arg, "version", 7) == 0)
        return cli->version = true, 0;
    int i = flag_index(cli, arg, len);
    const bt_sdk_flag *sdk = i < 0 ? bt_cli_sdk_flag(arg, len) : NULL;
    if (sdk)
        return parse_sdk_flag(sdk, argc, argv, pos, eq, err, errsz);
    if (i < 0) {
        snprintf(err, errsz, "unknown flag: --%.*s (see --help)", (int)len, arg);
        return -1;
    }
    const char *value = eq ? eq + 1 : NULL;
    if (!value && cli->flags[i].type == BT_FIELD_BOOL)
        value = "true";
    if (!value && *pos + 1 < argc)
        value = argv[++*pos];
    if (!value) {
        snprintf(err, errsz, "flag needs an argument: --%s", cli->flags[i].name);
        return -1;
    }
    return set_value(cli, i, value, BT_SRC_FLAG);
}

static int parse_short(bt_cli *cli, int argc, char **argv, int *pos, char *err, size_t errsz)
{
    char c = argv[*pos][1];
    if (argv[*pos][2] != '\0' && argv[*pos][2] != '=') {
        snprintf(err, errsz, "unknown shorthand flag: '%s' (see --help)", argv[*pos]);
        return -1;
    }
    if (c == 'h')
        return cli->help = true, 0;
    if (c == 'v')
        return cli->version = true, 0;
    int i = short_index(cli, c);
    if (i < 0) {
        snprintf(err, errsz, "unknown shorthand flag: '%c' in %s (see --help)", c, argv[*pos]);
        return -1;
    }
    const char *value = argv[*pos][2] == '=' ? argv[*pos] + 3 : NULL;
    if (!value && cli->flags[i].type == BT_FIELD_BOOL)
        value = "true";
    if (!value && *pos + 1 < argc)
        value = argv[++*pos];
    if (!value) {
        snprintf(err, errsz, "flag needs an argument: -%c", c);
        return -1;
    }
    return set_value(cli, i, value, BT_SRC_FLAG);
}

static int parse_argv(bt_cli *cli, int argc, char **argv, char *err, size_t errsz)
{
    bool only_args = false;
    for (int pos = 1; pos < argc; pos++) {
        const char *a = argv[pos];
        int rc = 0;
        if (!only_args && strcmp(a, "--") == 0)
            only_args = true;
        else if (!only_args && a[0] == '-' && a[1] == '-')
            rc = parse_long(cli, argc, argv, &pos, err, errsz);
        else if (!only_args && a[0] == '-' && a[1] != '\0')
            rc = parse_short(cli, argc, argv, &pos, err, errsz);
        else if (cli->arg_count == BT_CLI_MAX_ARGS) {
            snprintf(err, errsz, "too many arguments");
            return -1;
        } else if (!(cli->args[cli->arg_count] = strdup(a))) {
            snprintf(err, errsz, "out of memory");
            return -1;
        } else
            cli->arg_count++;
        if (rc != 0)
            return -1;
    }
    return 0;
}

/* Unset values come from the environment, then the config file, then defaults. */
static int fill_fallbacks(bt_cli *cli, char *err, size_t errsz)
{
    for (int i = 0; i < cli->flag_count; i++) {
        if (cli->sources[i] != BT_SRC_UNSET)
            continue;
        char env[128], *file_value = NULL;
        bt_cli_env_name(cli->flags[i].name, env, sizeof env);
        const char *v = getenv(env);
        if (v && *v) {
            set_value(cli, i, v, BT_SRC_ENV);
            continue;
        }
        int found = bt_cli_config_file_lookup(cli->flags[i].name, &file_value, err, errsz);
        if (found < 0)
            return -1;
        if (found) {
            set_value(cli, i, file_value, BT_SRC_FILE);
            free(file_value);
        } else if (cli->flags[i].default_value) {
            set_value(cli, i, cli->flags[i].default_value, BT_SRC_DEFAULT);
        }
    }
    return 0;
}

static int check_types(const bt_cli *cli, char *err, size_t errsz)
{
    for (int i = 0; i < cli->flag_count; i++) {
        const char *v = cli->values[i];
        if (!v)
            continue;
        if (cli->flags[i].type == BT_FIELD_BOOL && strcmp(v, "true") && strcmp(v, "false") &&
            strcmp(v, "1") && strcmp(v, "0")) {
            snprintf(err, errsz, "invalid value for --%s: \"%s\" is not a boolean", cli->flags[i].name, v);
            return -1;
        }
        long out;
        if (cli->flags[i].type == BT_FIELD_INT &&
            get_long_at(cli, i, &out, err, errsz) != 0)
            return -1;
    }
    return 0;
}

int bt_cli_parse(bt_cli *cli, int argc, char **argv, char *err, size_t errsz)
{
    if (parse_argv(cli, argc, argv, err, errsz) != 0)
        return -1;
    if (bt_cli_config_file_check(cli, err, errsz) != 0 || bt_cli_check_sdk_env(cli, err, errsz) != 0)
        return -1;
    if (fill_fallbacks(cli, err, errsz) != 0)
        return -1;
    return check_types(cli, err, errsz);
}

/* The secret at index s from the file named by its twin at index t. */
static int read_twin(bt_cli *cli, int t, int s, char *err, size_t errsz)
{
    char env[128], twin_env[128];
    bt_cli_env_name(cli->flags[s].name, env, sizeof env);
    bt_cli_env_name(cli->flags[t].name, twin_env, sizeof twin_env);
    if (is_set_at(cli, s)) {
        snprintf(err, errsz, "both --%s (or %s) and --%s (or %s) are given; give one",
                 cli->flags[s].name, env, cli->flags[t].name, twin_env);
        return -1;
    }
    char *secret;
    if (bt_cli_read_secret_file(cli->flags[t].name, cli->values[t], &secret, err, errsz) != 0)
        return -1;
    int rc = set_value(cli, s, secret, cli->sources[t]);
    bt_secret_free(secret);
    if (rc != 0)
        snprintf(err, errsz, "out of memory");
    return rc;
}

int bt_cli_set_fallback(bt_cli *cli, const char *name, const char *value)
{
    int i = flag_index(cli, name, strlen(name));
    if (i < 0 || is_set_at(cli, i))
        return -1;
    return set_value(cli, i, value, BT_SRC_FILE);
}

int bt_cli_resolve_secret_files(bt_cli *cli, char *err, size_t errsz)
{
    for (int t = 0; t < cli->flag_count; t++)
        if (cli->file_of[t] && is_set_at(cli, t) &&
            read_twin(cli, t, cli->file_of[t] - 1, err, errsz) != 0)
            return -1;
    return 0;
}

static const char *file_twin_of(const bt_cli *cli, int secret)
{
    for (int t = 0; t < cli->flag_count; t++)
        if (cli->file_of[t] == secret + 1)
            return cli->flags[t].name;
    return NULL;
}

int bt_cli_check_required(const bt_cli *cli, char *err, size_t errsz)
{
    for (int i = 0; i < cli->flag_count; i++) {
        const bt_flag *f = &cli->flags[i];
        if (!f->required || (cli->values[i] && cli->values[i][0]))
            continue;
        if (f->required_unless && bt_cli_is_set_named(cli, f->required_unless))
            continue;
        char env[128];
        const char *twin = file_twin_of(cli, i);
        bt_cli_env_name(f->name, env, sizeof env);
        snprintf(err, errsz, "required flag --%s is missing (or set %s%s%s)%s%s%s", f->name, env,
                 twin ? ", or give --" : "", twin ? twin : "",
                 f->required_unless ? "; or give --" : "",
                 f->required_unless ? f->required_unless : "", f->required_unless ? " instead" : "");
        return -1;
    }
    return 0;
}

void bt_cli_export_config(const bt_cli *cli)
{
    for (int i = 0; i < cli->flag_count; i++)
        if (cli->values[i])
            bt_config_set(cli->flags[i].name, cli->values[i], cli->flags[i].secret);
}

void bt_cli_free(bt_cli *cli)
{
    for (int i = 0; i < cli->flag_count; i++)
        bt_secret_free(cli->values[i]);
    for (int i = 0; i < cli->arg_count; i++)
        free(cli->args[i]);
    for (int i = 0; i < cli->owned_count; i++)
        free(cli->owned[i]);
    memset(cli, 0, sizeof *cli);
}

const char *bt_cli_flag_name(bt_flag_id id)
{
    return (unsigned)id < BT_RUNTIME_FLAG_COUNT ? runtime_flags[id].name : NULL;
}

const char *bt_cli_get(const bt_cli *cli, bt_flag_id id)
{
    return (int)id < cli->flag_count ? cli->values[id] : NULL;
}

bool bt_cli_get_bool(const bt_cli *cli, bt_flag_id id)
{
    const char *v = bt_cli_get(cli, id);
    return v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
}

bool bt_cli_is_set(const bt_cli *cli, bt_flag_id id)
{
    return (int)id < cli->flag_count && is_set_at(cli, id);
}

int bt_cli_get_long(const bt_cli *cli, bt_flag_id id, long *out, char *err, size_t errsz)
{
    return (int)id < cli->flag_count ? get_long_at(cli, id, out, err, errsz) : 1;
}

const char *bt_cli_get_named(const bt_cli *cli, const char *name)
{
    int i = flag_index(cli, name, strlen(name));
    return i >= 0 ? cli->values[i] : NULL;
}

bool bt_cli_is_set_named(const bt_cli *cli, const char *name)
{
    return is_set_at(cli, flag_index(cli, name, strlen(name)));
}

const char *bt_cli_prescan(int argc, char **argv, bt_flag_id id)
{
    const char *name = bt_cli_flag_name(id);
    size_t n = strlen(name);
    const char *last = NULL; /* the parser lets the last occurrence win; so do we */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0)
            break;
        if (strncmp(a, "--", 2) || strncmp(a + 2, name, n))
            continue;
        if (a[2 + n] == '=')
            last = a + 3 + n;
        else if (a[2 + n] == '\0' && i + 1 < argc)
            last = argv[++i];
    }
    if (last)
        return last;
    char env[128];
    bt_cli_env_name(name, env, sizeof env);
    const char *v = getenv(env);
    return v && *v ? v : NULL;
}
