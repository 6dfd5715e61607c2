/* What one sync writes: baton-sdk's sync options. The command line fills them
 * from --sync-resources, --sync-resource-types, --skip-entitlements-and-grants
 * and --skip-grants; service mode from a SyncFullTask's targeted resources,
 * resource type ids and skip flags. The driver hands them to the script's
 * sync(opts) and picks the file's sync type from them. */
#ifndef BT_SYNC_OPTIONS_H
#define BT_SYNC_OPTIONS_H
#include <stdbool.h>
#include <stddef.h>

#include "bt/cli.h"
#include "bt/contract.h"

typedef struct {
    char *type; /* resource type id */
    char *id;   /* resource id */
} bt_sync_target;

typedef struct {
    bt_sync_target *targets; /* none: not a targeted sync */
    size_t target_count;
    char **resource_types; /* none: every type */
    size_t type_count;
    bool skip_entitlements_and_grants;
    bool skip_grants;
} bt_sync_options;

/* Parse one resource id: "bid:r:<type>/<id>", "bid:r:<ptype>/<pid>/<type>/<id>"
 * (':', '/' and '\' escaped with '\' inside parts) or the short "<type>:<id>".
 * 0, or -1 with err. out's strings are malloc'd. */
int bt_sync_target_parse(const char *text, bt_sync_target *out, char *err, size_t errsz);

/* Add a target / a resource type id (copies). 0, or -1 on out of memory. */
int bt_sync_options_add_target(bt_sync_options *o, const char *type, const char *id);
int bt_sync_options_add_type(bt_sync_options *o, const char *type);

/* From the four flags (comma-separated lists). 0, or -1 with err. */
int bt_sync_options_from_cli(const bt_cli *cli, bt_sync_options *o, char *err, size_t errsz);

/* Check against the contract: every type declared, every target's type
 * declared with targeted_sync. 0, or -1 with err naming the first problem. */
int bt_sync_options_check(const bt_sync_options *o, const bt_contract *c, char *err, size_t errsz);

/* The c1z sync type these options make, as baton-sdk: "partial" when
 * targeted, else "resources_only" with skip_entitlements_and_grants, else "full". */
const char *bt_sync_options_sync_type(const bt_sync_options *o);

/* True when the options ask for exactly a plain full sync. */
bool bt_sync_options_is_default(const bt_sync_options *o);

void bt_sync_options_free(bt_sync_options *o);

#endif
