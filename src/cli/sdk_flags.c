/* The baton-sdk connector flags this runtime does not implement. A user who
 * moves from the Go connector keeps their flags, BATON_* variables and
 * .baton.yaml: a flag that asks for something we cannot do must fail loudly,
 * never be ignored. The flags we do implement live in flags.c; the README's
 * table of SDK flags is the union of the two. */
#include "bt/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const bt_sdk_flag sdk_flags[] = {
    /* ticketing */
    {"ticketing", true, "external ticketing", NULL},
    {"create-ticket", true, "ticketing", NULL},
    {"bulk-create-ticket", true, "ticketing", NULL},
    {"bulk-ticket-template-path", false, "ticketing", NULL},
    {"get-ticket", true, "ticketing", NULL},
    {"list-ticket-schemas", true, "ticketing", NULL},
    {"ticket-id", false, "ticketing", NULL},
    {"ticket-template-path", false, "ticketing", NULL},
    /* event feeds */
    {"event-feed", false, "event feeds", NULL},
    {"event-feed-id", false, "event feeds", NULL},
    {"event-feed-start-at", false, "event feeds", NULL},
    {"event-feed-cursor", false, "event feeds", NULL},
    /* credential rotation: the script contract has no rotate handler */
    {"rotate-credentials", false, "credential rotation", NULL},
    {"rotate-credentials-type", false, "credential rotation", NULL},
    /* sync files from elsewhere */
    {"external-resource-c1z", false, "external resources", NULL},
    {"external-resource-entitlement-id-filter", false, "external resources", NULL},
    {"external-resource-traits", false, "external resources", NULL},
    {"diff-syncs", true, "sync diffs", NULL},
    {"base-sync-id", false, "sync diffs", NULL},
    {"applied-sync-id", false, "sync diffs", NULL},
    {"compact-syncs", true, "sync compaction", NULL},
    {"compact-output-path", false, "sync compaction", NULL},
    {"compact-file-paths", false, "sync compaction", NULL},
    {"compact-sync-ids", false, "sync compaction", NULL},
    /* custom actions */
    {"invoke-action", false, "custom actions", NULL},
    {"invoke-action-args", false, "custom actions", "{}"},
    {"invoke-action-resource-type", false, "custom actions", NULL},
    {"list-action-schemas", true, "custom actions", NULL},
    {"list-action-schemas-resource-type", false, "custom actions", NULL},
    {"list-resource-actions", false, "custom actions", NULL},
    {"invoke-resource-action", false, "custom actions", NULL},
    {"invoke-resource-action-resource-type", false, "custom actions", NULL},
    {"invoke-resource-action-args", false, "custom actions", "{}"},
    /* observability and runtime internals */
    {"otel-collector-endpoint", false, "OpenTelemetry export", NULL},
    {"otel-collector-endpoint-tls-cert-path", false, "OpenTelemetry export", NULL},
    {"otel-collector-endpoint-tls-cert", false, "OpenTelemetry export", NULL},
    {"otel-collector-endpoint-tls-insecure", true, "OpenTelemetry export", NULL},
    {"otel-tracing-disabled", true, "OpenTelemetry export", NULL},
    {"otel-logging-disabled", true, "OpenTelemetry export", NULL},
    {"session-store-maximum-size", false, "the SDK's session store", NULL},
    {"auth-method", false, "alternative authentication methods", NULL},
    {"workers", false, "parallel sync workers", "0"},
    {"parallel-sync", true, "parallel sync", NULL},
    /* ETag replay from the previous sync file: the scripts read every list anew */
    {"keep-previous-sync-c1z", true, "keeping the previous sync file for ETag replay", NULL},
    {"storage-engine", false, "storage engines other than SQLite", "sqlite"},
};

#define SDK_FLAG_COUNT (int)(sizeof sdk_flags / sizeof sdk_flags[0])

const bt_sdk_flag *bt_cli_sdk_flag(const char *name, size_t len)
{
    for (int i = 0; i < SDK_FLAG_COUNT; i++)
        if (strlen(sdk_flags[i].name) == len && strncmp(sdk_flags[i].name, name, len) == 0)
            return &sdk_flags[i];
    return NULL;
}

const bt_sdk_flag *bt_cli_sdk_flag_at(int i)
{
    return i >= 0 && i < SDK_FLAG_COUNT ? &sdk_flags[i] : NULL;
}

/* A value that asks for nothing (false, empty, or what this connector does
 * anyway, such as --storage-engine sqlite) is accepted, so shared config
 * files keep working. */
static bool asks_nothing(const bt_sdk_flag *f, const char *value)
{
    if (!value || !*value)
        return true;
    if (f->is_bool)
        return strcmp(value, "false") == 0 || strcmp(value, "0") == 0;
    return f->noop && strcmp(value, f->noop) == 0;
}

int bt_cli_refuse_sdk_flag(const bt_sdk_flag *f, const char *value, const char *where, char *err,
                           size_t errsz)
{
    if (asks_nothing(f, value))
        return 0;
    snprintf(err, errsz, "%s (%s, a baton-sdk setting) is not supported by this connector", where,
             f->feature);
    return -1;
}

/* Environment variables of unsupported flags: BATON_SYNC_RESOURCES=... must
 * not be silently ignored. */
int bt_cli_check_sdk_env(const bt_cli *cli, char *err, size_t errsz)
{
    for (int i = 0; i < SDK_FLAG_COUNT; i++) {
        const bt_sdk_flag *f = &sdk_flags[i];
        if (bt_cli_has_flag(cli, f->name))
            continue; /* implemented after all */
        char env[128];
        bt_cli_env_name(f->name, env, sizeof env);
        if (bt_cli_refuse_sdk_flag(f, getenv(env), env, err, errsz) != 0)
            return -1;
    }
    return 0;
}
