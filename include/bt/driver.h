/* The actions the binary performs once the CLI is resolved. Each returns the
 * process exit status (0 success) and prints its own one-line error. */
#ifndef BT_DRIVER_H
#define BT_DRIVER_H
#include <stdio.h>
#include "bt/cli.h"
#include "bt/contract.h"
#include "bt/host.h"
#include "bt/sink.h"
#include "bt/sync_options.h"

/* A sync with the options from the command line (--sync-resources & co). */
int bt_driver_sync(bt_host *h, const bt_contract *c, const bt_cli *cli);
/* Service mode's sync: a c1z at path with a SyncFullTask's options (skips,
 * targeted resources, resource types); 0, or -1 with the reason in err. */
int bt_driver_sync_quiet(bt_host *h, const bt_contract *c, const char *path,
                         const bt_sync_options *opts, char *err, size_t errsz);
int bt_driver_provision(bt_host *h, const bt_contract *c, const bt_cli *cli);
/* True when any provisioning action flag was given. */
bool bt_driver_wants_provisioning(const bt_cli *cli);

/* capabilities / config subcommands: JSON derived from the contract. */
void bt_driver_print_capabilities(const bt_contract *c, FILE *out);
/* The Capability enum numbers of one resource type, in the SDK's order
 * (the `capabilities` command and service mode's Hello share them). */
#define BT_MAX_TYPE_CAPS 6
int bt_driver_type_capabilities(const bt_resource_type_decl *t, int caps[BT_MAX_TYPE_CAPS]);
/* Complete the connector-level set (used[] holds the union of the types'). */
void bt_driver_connector_capabilities(bool used[16]);
void bt_driver_print_config_schema(const bt_contract *c, FILE *out);
/* Hidden `api-names`: the functions each bt.* module exports, as JSON. */
int bt_driver_print_api_names(bt_host *h, FILE *out);

/* output_check.c: -1 with err when the output path is the same file as an
 * input (a --<name>-file, the config file, SSL_CERT_FILE) or the log file. */
int bt_driver_check_output(const bt_cli *cli, const char *path, char *err, size_t errsz);

/* Print a Lua failure once ("error: <what>: <message>", or "error: <message>"
 * when what is NULL; the traceback at debug). */
void bt_driver_report(const char *what, const bt_host_error *err);

/* Log one warning per cause of skipped rows (so a person or a monitor sees a
 * non-zero count in either log format), fill summary with "cause n, ..." and
 * return the total. */
uint64_t bt_driver_report_skips(const bt_sink_counts *n, char *summary, size_t size);
/* The resources left out on purpose (bt_sink_filter) as "user 3, group 1" in
 * summary; returns their total. */
uint64_t bt_driver_report_filtered(const bt_sink_counts *n, char *summary, size_t size);

#endif
