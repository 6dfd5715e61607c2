/* Baton-style command line: every flag also read from BATON_* and .baton.yaml.
 * Precedence: flag > environment > config file > default. */
#ifndef BT_CLI_H
#define BT_CLI_H
#include <stdbool.h>
#include <stdio.h>
#include "bt/contract.h"

#define BT_CLI_MAX_FLAGS 64
#define BT_CLI_MAX_ARGS 8

/* The runtime's own flags, each read by its id so a misspelt flag does not
 * compile; the id is also the flag's index in bt_cli (its row in flags.c). */
typedef enum {
    BT_FLAG_FILE,
    BT_FLAG_OUTPUT_FORMAT,
    BT_FLAG_LOG_LEVEL,
    BT_FLAG_LOG_FORMAT,
    BT_FLAG_LOG_PATH,
    BT_FLAG_LOG_LEVEL_DEBUG_EXPIRES_AT,
    BT_FLAG_PROVISIONING,
    BT_FLAG_SCRIPTS_DIR,
    BT_FLAG_GRANT_ENTITLEMENT,
    BT_FLAG_GRANT_PRINCIPAL,
    BT_FLAG_GRANT_PRINCIPAL_TYPE,
    BT_FLAG_REVOKE_GRANT,
    BT_FLAG_CREATE_ACCOUNT_LOGIN,
    BT_FLAG_CREATE_ACCOUNT_EMAIL,
    BT_FLAG_CREATE_ACCOUNT_PROFILE,
    BT_FLAG_CREATE_ACCOUNT_RESOURCE_TYPE,
    BT_FLAG_DELETE_RESOURCE,
    BT_FLAG_DELETE_RESOURCE_TYPE,
    BT_FLAG_SYNC_RESOURCES,
    BT_FLAG_SYNC_RESOURCE_TYPES,
    BT_FLAG_SKIP_ENTITLEMENTS_AND_GRANTS,
    BT_FLAG_SKIP_GRANTS,
    BT_FLAG_HTTP_TIMEOUT_SECONDS,
    BT_FLAG_HTTP_TIMEOUT,
    BT_FLAG_HTTP_CONNECT_TIMEOUT,
    BT_FLAG_HTTP_MAX_ATTEMPTS,
    BT_FLAG_HTTP_MAX_RETRY_WAIT,
    BT_FLAG_HTTP_MAX_TOTAL_TIME,
    BT_FLAG_SCRIPT_MEMORY_LIMIT,
    BT_FLAG_SCRIPT_CPU_LIMIT,
    BT_FLAG_READS_PER_MINUTE,
    BT_FLAG_WRITES_PER_MINUTE,
    BT_FLAG_CLIENT_ID,
    BT_FLAG_CLIENT_SECRET,
    BT_FLAG_C1Z_TEMP_DIR,
    BT_FLAG_SKIP_FULL_SYNC,
    BT_FLAG_TASK_CONCURRENCY,
    BT_FLAG_HEALTH_CHECK,
    BT_FLAG_HEALTH_CHECK_PORT,
    BT_FLAG_HEALTH_CHECK_BIND_ADDRESS,
    BT_FLAG_SERVICE_ONLY,
    BT_RUNTIME_FLAG_COUNT
} bt_flag_id;

typedef enum { BT_SRC_UNSET = 0, BT_SRC_DEFAULT, BT_SRC_FILE, BT_SRC_ENV, BT_SRC_FLAG } bt_value_source;

typedef struct {
    const char *name;          /* "api-key" */
    char short_name;           /* 'f' or 0 */
    const char *help;
    const char *default_value; /* NULL: none */
    const char *required_unless;
    bt_field_type type;
    bool hidden;
    bool secret;
    bool required;
    bool connector; /* declared by the connector script */
    bool list;      /* baton-sdk's string slice: comma-separated values, a repeat adds more */
} bt_flag;

typedef struct {
    bt_flag flags[BT_CLI_MAX_FLAGS];
    int flag_count;
    char *values[BT_CLI_MAX_FLAGS];
    bt_value_source sources[BT_CLI_MAX_FLAGS];
    char *args[BT_CLI_MAX_ARGS]; /* positional arguments (the subcommand first) */
    int arg_count;
    bool help;
    bool version;
    int file_of[BT_CLI_MAX_FLAGS]; /* a --<name>-file twin: 1 + the secret flag's index */
    char *owned[BT_CLI_MAX_FLAGS]; /* names and help texts made for the twins */
    int owned_count;
} bt_cli;

/* The runtime's own flags (baton conventions + ours). */
void bt_cli_init(bt_cli *cli);
/* Add the connector's declared fields, each secret one with a --<name>-file
 * twin. Fails on a clash with a runtime flag. */
int bt_cli_add_connector_fields(bt_cli *cli, const bt_contract *c, char *err, size_t errsz);
/* Parse argv, then fill unset values from env, config file, defaults. */
int bt_cli_parse(bt_cli *cli, int argc, char **argv, char *err, size_t errsz);
/* Read each secret given as --<name>-file (flag, BATON_<NAME>_FILE or the
 * config file) into its field, once. Refused: both the value and the file. */
int bt_cli_resolve_secret_files(bt_cli *cli, char *err, size_t errsz);
/* Give the unset flag `name` the value (as if from the config file); -1 when
 * it is unknown or already set. */
int bt_cli_set_fallback(bt_cli *cli, const char *name, const char *value);
/* systemd credentials (LoadCredential=): for client-id, client-secret and each
 * secret connector field that is still unset (its --<name>-file twin too),
 * the file <name> or baton-twingate_<name> in $CREDENTIALS_DIRECTORY, read
 * like a --<name>-file. 0, or -1 with err. */
int bt_cli_load_credentials(bt_cli *cli, char *err, size_t errsz);
/* Required-field checks (run only for actions that need the connector). */
int bt_cli_check_required(const bt_cli *cli, char *err, size_t errsz);
/* Copy every resolved value into the bt_config store. */
void bt_cli_export_config(const bt_cli *cli);
void bt_cli_free(bt_cli *cli);

const char *bt_cli_get(const bt_cli *cli, bt_flag_id id);
bool bt_cli_get_bool(const bt_cli *cli, bt_flag_id id);
bool bt_cli_is_set(const bt_cli *cli, bt_flag_id id); /* given by flag, env or file */
/* Parse an integer flag value; 1 when unset, -1 with err filled when malformed. */
int bt_cli_get_long(const bt_cli *cli, bt_flag_id id, long *out, char *err, size_t errsz);
/* The same for a flag known only by name (a connector field); NULL / false /
 * 1 when there is no such flag. */
const char *bt_cli_get_named(const bt_cli *cli, const char *name);
bool bt_cli_is_set_named(const bt_cli *cli, const char *name);
/* "log-level" for BT_FLAG_LOG_LEVEL. */
const char *bt_cli_flag_name(bt_flag_id id);

/* Env variable name for a flag: "api-key" -> "BATON_API_KEY". */
void bt_cli_env_name(const char *flag, char *out, size_t n);
/* Look up `name` in the YAML config file (./.baton.yaml or $BATON_CONFIG_PATH).
 * Returns 1 found (*out malloc'd), 0 not found, -1 error (err filled). */
int bt_cli_config_file_lookup(const char *name, char **out, char *err, size_t errsz);
/* Check the config file's syntax and keys against the known flags. */
int bt_cli_config_file_check(const bt_cli *cli, char *err, size_t errsz);
/* Forget the cached config file (tests). */
void bt_cli_config_file_reset(void);

#define BT_CLI_SECRET_FILE_MAX 65536
/* The secret in file `path` for --<flag>: a regular file that group and others
 * may neither read nor write, at most 64 KiB, trailing CR/LF trimmed, not
 * empty, no NUL. 0 with *out malloc'd, or -1 with err (never the contents). */
int bt_cli_read_secret_file(const char *flag, const char *path, char **out, char *err,
                            size_t errsz);

void bt_cli_print_usage(const bt_cli *cli, const bt_contract *c, FILE *out);
/* `help COMMAND` / `COMMAND --help`: that command's help; -1 for a command
 * without one here (show prints its own; help prints the main help). */
int bt_cli_print_command_help(const bt_cli *cli, const char *command, FILE *out);
/* `completion bash|zsh` from the flag table; -1 for another shell. */
int bt_cli_print_completion(const bt_cli *cli, const char *shell, const char *prog, FILE *out);
/* A baton-sdk flag this connector does not implement (sdk_flags.c). */
typedef struct {
    const char *name;
    bool is_bool;
    const char *feature; /* what it would turn on, for the error */
    const char *noop;    /* a value that asks for what we do anyway, or NULL */
} bt_sdk_flag;

bool bt_cli_has_flag(const bt_cli *cli, const char *name);
/* The unsupported SDK flag called name[0..len), or NULL. */
const bt_sdk_flag *bt_cli_sdk_flag(const char *name, size_t len);
const bt_sdk_flag *bt_cli_sdk_flag_at(int i); /* NULL past the end */
/* -1 with err ("<where>: ... not supported by this connector") unless value
 * asks for nothing (false, empty). */
int bt_cli_refuse_sdk_flag(const bt_sdk_flag *f, const char *value, const char *where, char *err,
                           size_t errsz);
/* Refuse BATON_* variables of unsupported SDK flags. */
int bt_cli_check_sdk_env(const bt_cli *cli, char *err, size_t errsz);

/* Pre-scan argv/env for one flag before the full parse (e.g. --scripts-dir). */
const char *bt_cli_prescan(int argc, char **argv, bt_flag_id id);

#endif
