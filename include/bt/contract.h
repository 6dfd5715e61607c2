/* The connector script's contract: the table its entry module returns,
 * validated once at load and copied into C for the CLI and capabilities. */
#ifndef BT_CONTRACT_H
#define BT_CONTRACT_H
#include <stdbool.h>
#include "bt/host.h"

typedef enum { BT_FIELD_STRING = 0, BT_FIELD_BOOL, BT_FIELD_INT } bt_field_type;

typedef struct {
    char *name;            /* flag name without dashes, e.g. "api-key" */
    char *help;
    char *default_value;   /* NULL when none */
    char *required_unless; /* another field whose presence lifts `required` */
    bool required;
    bool secret;
    bt_field_type type;
    bool ops; /* an operator setting (endpoint override...), not asked for in C1's form */
    char *display_name; /* C1's form label ("API key"); NULL: made from the name */
} bt_config_field;

#define BT_MAX_TRAITS 4

typedef struct {
    char *id;
    char *display_name;
    char *description;
    char *traits[BT_MAX_TRAITS]; /* "user", "group", "role", "app" */
    int trait_count;
    bool skip_entitlements_and_grants;
    bool provision;            /* grant + revoke on its entitlements */
    bool account_provisioning; /* create accounts of this type */
    bool resource_delete;      /* delete resources of this type */
    bool targeted_sync;        /* sync options may name resources of this type */
    char *opt_in;              /* bool setting that must be on for this type to be synced */
    char *sync_module;         /* module whose sync() emits this type (NULL: none) */
} bt_resource_type_decl;

typedef struct {
    char *source_file; /* the file that served the entry module */
    char *name;
    char *display_name;
    char *description;
    bt_config_field *fields;
    int field_count;
    bt_resource_type_decl *types;
    int type_count;
    int table_ref; /* registry reference to the script's table */
} bt_contract;

/* require(module), validate the returned table, fill c. 0 on success. */
int bt_contract_load(bt_host *h, const char *module, bt_contract *c, bt_host_error *err);
void bt_contract_free(bt_contract *c);
/* [-0, +1] Push contract function `name` (nil when the script has none). */
void bt_contract_push_function(bt_host *h, const bt_contract *c, const char *name);
bool bt_contract_has_function(bt_host *h, const bt_contract *c, const char *name);

#endif
