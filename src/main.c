/* The connector binary: resolve the command line, load the connector script, run one action. */
#include "bt/budget.h"
#include "bt/cli.h"
#include "bt/model.h"
#include "bt/config.h"
#include "bt/contract.h"
#include "bt/driver.h"
#include "bt/graphql.h"
#include "bt/harden.h"
#include "bt/host.h"
#include "bt/log.h"
#include "bt/service.h"
#include "bt/report.h"
#include "bt/show.h"
#include "bt/sink.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/stat.h>
#include <unistd.h>

#ifndef BT_CONNECTOR_MODULE
#error "BT_CONNECTOR_MODULE (the entry script's module name) must be set by the build"
#endif

typedef struct {
    bt_cli cli;
    bt_host *host;
    bt_contract contract;
    bool contract_loaded;
    bt_endpoint_spec endpoint; /* the bundled endpoint file's */
    bool has_endpoint;
    bt_host_error load_error;
} app;

static void setup_logging(const char *level, const char *format)
{
    int lv = bt_log_level_parse(level ? level : "info");
    bt_log_set_level(lv < 0 ? BT_LOG_INFO : (bt_log_level)lv);
    if (format && strcmp(format, "json") == 0)
        bt_log_set_format(BT_LOG_JSON);
    else if (format && strcmp(format, "console") == 0)
        bt_log_set_format(BT_LOG_CONSOLE);
    else
        bt_log_set_format(isatty(STDERR_FILENO) ? BT_LOG_CONSOLE : BT_LOG_JSON);
}

/* The log settings, from the full parse (report: bad values are errors) or,
 * before it, from flags and BATON_* only (the script's load logs at debug
 * level; bad values are left for the full parse to report). */
static int apply_log_settings(const char *level, const char *format, const char *path,
                              const char *debug_until, bool report)
{
    char err[1200];
    int64_t until = 0;
    int32_t nanos;
    if (report && level && bt_log_level_parse(level) < 0) {
        fprintf(stderr, "error: invalid --log-level \"%s\" (debug, info, warn, error)\n", level);
        return -1;
    }
    if (report && format && strcmp(format, "json") && strcmp(format, "console")) {
        fprintf(stderr, "error: invalid --log-format \"%s\" (json, console)\n", format);
        return -1;
    }
    if (debug_until && bt_time_parse_iso8601(debug_until, &until, &nanos) != 0) {
        if (report) {
            fprintf(stderr, "error: invalid --log-level-debug-expires-at \"%s\" (an RFC 3339 "
                            "time)\n", debug_until);
            return -1;
        }
        until = 0;
    }
    if (path && *path && bt_log_set_file(path, err, sizeof err) != 0 && report) {
        fprintf(stderr, "error: %s\n", err);
        return -1;
    }
    bt_log_set_debug_until((time_t)until);
    setup_logging(level, format);
    return 0;
}

static int check_log_flags(const bt_cli *cli)
{
    return apply_log_settings(bt_cli_get(cli, BT_FLAG_LOG_LEVEL), bt_cli_get(cli, BT_FLAG_LOG_FORMAT),
                              bt_cli_get(cli, BT_FLAG_LOG_PATH),
                              bt_cli_get(cli, BT_FLAG_LOG_LEVEL_DEBUG_EXPIRES_AT), true);
}

static void early_logging(int argc, char **argv)
{
    (void)apply_log_settings(bt_cli_prescan(argc, argv, BT_FLAG_LOG_LEVEL),
                             bt_cli_prescan(argc, argv, BT_FLAG_LOG_FORMAT),
                             bt_cli_prescan(argc, argv, BT_FLAG_LOG_PATH),
                             bt_cli_prescan(argc, argv, BT_FLAG_LOG_LEVEL_DEBUG_EXPIRES_AT), false);
}

static int check_scripts_dir(const char *dir)
{
    struct stat st;
    if (!dir)
        return 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, R_OK | X_OK) != 0) {
        fprintf(stderr, "error: --scripts-dir \"%s\" is not a readable directory\n", dir);
        return -1;
    }
    return 0;
}

/* A positive whole number from a prescanned flag, else dflt (the full parse
 * reports bad values later). */
static long prescan_positive(int argc, char **argv, bt_flag_id id, long dflt)
{
    const char *v = bt_cli_prescan(argc, argv, id);
    char *end;
    long n = v ? strtol(v, &end, 10) : 0;
    return v && *v && !*end && n > 0 ? n : dflt;
}

/* Before any script runs: the script limits from the flags (so loading the
 * scripts runs under them, and so does every service-mode task) and, for a
 * one-shot run, the interruption line (a SIGTERM while the scripts load says
 * so on one error: line). */
static void before_scripts(int argc, char **argv)
{
    bt_budget_set_defaults(
        (size_t)prescan_positive(argc, argv, BT_FLAG_SCRIPT_MEMORY_LIMIT, BT_SCRIPT_MEMORY_LIMIT_MB),
        (double)prescan_positive(argc, argv, BT_FLAG_SCRIPT_CPU_LIMIT, BT_SCRIPT_CPU_LIMIT_SECONDS));
    if (bt_cli_prescan(argc, argv, BT_FLAG_CLIENT_ID) ||
        bt_cli_prescan(argc, argv, BT_FLAG_CLIENT_SECRET))
        return;
    bt_sink_note_interruption("while loading the connector scripts");
    bt_sink_install_signal_cleanup();
}

/* Load the host and the connector's contract; the error is kept for --help. */
static int load_connector(app *a, int argc, char **argv)
{
    const char *override = bt_cli_prescan(argc, argv, BT_FLAG_SCRIPTS_DIR);
    if (check_scripts_dir(override) != 0)
        return -1;
    before_scripts(argc, argv);
    a->host = bt_host_new(override, bt_host_default_scripts_dir(), &a->load_error);
    if (!a->host)
        return -1;
    /* The endpoint first, from the bundled dir: no override code has run. */
    int rc = bt_host_load_endpoint_spec(a->host, bt_host_default_scripts_dir(),
                                        BT_CONNECTOR_MODULE, &a->endpoint, &a->load_error);
    a->has_endpoint = rc == 0;
    if (rc < 0) {
        bt_sink_note_interruption(NULL);
        return 0;
    }
    if (bt_contract_load(a->host, BT_CONNECTOR_MODULE, &a->contract, &a->load_error) == 0)
        a->contract_loaded = true;
    bt_sink_note_interruption(NULL);
    return 0;
}

#define MAX_ATTEMPTS_LIMIT 100 /* with backoff, far past any outage worth waiting out */

/* Flags where 0 would mean "wait forever" (libcurl reads a 0 timeout so) or
 * "no limit at all": refused, so nothing in a run is unbounded. */
static const bt_flag_id at_least_one[] = {BT_FLAG_HTTP_TIMEOUT_SECONDS, BT_FLAG_HTTP_TIMEOUT,
                                          BT_FLAG_HTTP_CONNECT_TIMEOUT, BT_FLAG_HTTP_MAX_TOTAL_TIME,
                                          BT_FLAG_SCRIPT_MEMORY_LIMIT, BT_FLAG_SCRIPT_CPU_LIMIT};

static int check_positive(const bt_cli *cli)
{
    long v;
    char err[256];
    for (size_t i = 0; i < sizeof at_least_one / sizeof at_least_one[0]; i++) {
        if (bt_cli_get_long(cli, at_least_one[i], &v, err, sizeof err) == 0 && v < 1) {
            fprintf(stderr, "error: invalid value for --%s: 0 (must be at least 1; nothing in a "
                            "run is allowed to wait or grow without bound)\n",
                    bt_cli_flag_name(at_least_one[i]));
            return -1;
        }
    }
    return 0;
}

/* Script limits from the flags; the host checks them at every allocation and
 * hook tick, the contract's loading having run under the defaults. */
static void apply_script_limits(const bt_cli *cli, bt_host *h)
{
    long mb = BT_SCRIPT_MEMORY_LIMIT_MB, secs = BT_SCRIPT_CPU_LIMIT_SECONDS;
    char err[256];
    bt_cli_get_long(cli, BT_FLAG_SCRIPT_MEMORY_LIMIT, &mb, err, sizeof err);
    bt_cli_get_long(cli, BT_FLAG_SCRIPT_CPU_LIMIT, &secs, err, sizeof err);
    bt_host_set_limits(h, (size_t)mb, (double)secs);
    bt_budget_set_defaults((size_t)mb, (double)secs); /* service-mode tasks' hosts */
}

static int apply_http_options(const bt_cli *cli, bool service)
{
    bt_graphql_options o;
    bt_graphql_default_options(&o);
    /* A one-shot run with a wrong host fails at once; a daemon's task rides
     * out a DNS or connect blip with the usual retries. */
    o.retry_unreachable = service;
    long v;
    char err[256];
    /* --http-timeout is the old name of the SDK's --http-timeout-seconds. */
    bt_flag_id timeout_flag = !bt_cli_is_set(cli, BT_FLAG_HTTP_TIMEOUT_SECONDS) &&
                              bt_cli_is_set(cli, BT_FLAG_HTTP_TIMEOUT)
                                  ? BT_FLAG_HTTP_TIMEOUT : BT_FLAG_HTTP_TIMEOUT_SECONDS;
    const struct { bt_flag_id flag; double *dst; } doubles[] = {
        {timeout_flag, &o.timeout}, {BT_FLAG_HTTP_CONNECT_TIMEOUT, &o.connect_timeout},
        {BT_FLAG_HTTP_MAX_RETRY_WAIT, &o.max_retry_wait},
        {BT_FLAG_HTTP_MAX_TOTAL_TIME, &o.max_total_time},
        {BT_FLAG_READS_PER_MINUTE, &o.reads_per_minute_override},
        {BT_FLAG_WRITES_PER_MINUTE, &o.writes_per_minute_override},
    };
    for (size_t i = 0; i < sizeof doubles / sizeof doubles[0]; i++) {
        int rc = bt_cli_get_long(cli, doubles[i].flag, &v, err, sizeof err);
        if (rc < 0)
            return fprintf(stderr, "error: %s\n", err), -1;
        if (rc == 0)
            *doubles[i].dst = (double)v;
    }
    if (bt_cli_get_long(cli, BT_FLAG_HTTP_MAX_ATTEMPTS, &v, err, sizeof err) == 0) {
        if (v < 1 || v > MAX_ATTEMPTS_LIMIT)
            return fprintf(stderr, "error: --http-max-attempts must be from 1 to %d (attempts "
                                   "per request, the first included), not %ld\n",
                           MAX_ATTEMPTS_LIMIT, v), -1;
        o.max_attempts = (int)v;
    }
    bt_graphql_set_options(&o);
    return 0;
}

/* `help [COMMAND]` and `COMMAND --help`: the command's own help, else the main one. */
static int print_help(app *a, const char *cmd)
{
    if (cmd && strcmp(cmd, "show") == 0) {
        char *show_help[] = {"show", "--help", NULL};
        return bt_show_main(2, show_help);
    }
    if (!cmd || bt_cli_print_command_help(&a->cli, cmd, stdout) != 0)
        bt_cli_print_usage(&a->cli, a->contract_loaded ? &a->contract : NULL, stdout);
    return 0;
}

static int run_subcommand(app *a, const char *cmd)
{
    if (strcmp(cmd, "capabilities") == 0)
        bt_driver_print_capabilities(&a->contract, stdout);
    else if (strcmp(cmd, "config") == 0)
        bt_driver_print_config_schema(&a->contract, stdout);
    else if (strcmp(cmd, "health-check") == 0)
        return bt_service_health_probe(&a->cli);
    else if (strcmp(cmd, "api-names") == 0)
        return bt_driver_print_api_names(a->host, stdout);
    else if (strcmp(cmd, "help") == 0)
        return print_help(a, a->cli.arg_count > 1 ? a->cli.args[1] : NULL);
    else if (strcmp(cmd, "completion") == 0) {
        const char *shell = a->cli.arg_count > 1 ? a->cli.args[1] : NULL;
        if (bt_cli_print_completion(&a->cli, shell, BT_PROGRAM, stdout) != 0) {
            fprintf(stderr, "error: completion needs a shell: bash or zsh\n");
            return 1;
        }
    }
    else {
        fprintf(stderr, "error: unknown command \"%s\" (see --help)\n", cmd);
        return 1;
    }
    return 0;
}

#define EXIT_NOT_CONFIGURED 78 /* EX_CONFIG: the unit does not restart on it */

static int run_action(app *a)
{
    char err[1024];
    if (bt_cli_load_credentials(&a->cli, err, sizeof err) != 0)
        return fprintf(stderr, "error: %s\n", err), 1;
    bool service = bt_cli_is_set(&a->cli, BT_FLAG_CLIENT_ID) || bt_cli_is_set(&a->cli, BT_FLAG_CLIENT_SECRET);
    if (!service && bt_cli_get_bool(&a->cli, BT_FLAG_SERVICE_ONLY)) {
        fprintf(stderr, "error: no ConductorOne client id: put it in the client-id credential "
                        "(the unit's credentials directory) or BATON_CLIENT_ID; not starting\n");
        return EXIT_NOT_CONFIGURED;
    }
    /* Credentials first: a malformed id or secret stops before anything else. */
    if (service && bt_service_check_credentials(&a->cli) != 0)
        return 1;
    if (bt_cli_resolve_secret_files(&a->cli, err, sizeof err) != 0 ||
        bt_cli_check_required(&a->cli, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (check_positive(&a->cli) != 0 || apply_http_options(&a->cli, service) != 0)
        return 1;
    apply_script_limits(&a->cli, a->host);
    bt_cli_export_config(&a->cli);
    /* The endpoint's key field is secret even if an override's contract says
     * otherwise: no script reads it. */
    if (a->has_endpoint && a->endpoint.auth_config)
        bt_config_mark_secret(a->endpoint.auth_config);
    /* The one endpoint a secret may go to, fixed from the operator's flags
     * before any handler runs; when none, credentials are refused (why). */
    if (bt_graphql_bind_operator(a->has_endpoint ? &a->endpoint : NULL, err, sizeof err) != 0)
        bt_debug("no credentialed endpoint: %s", err);
    if (service)
        return bt_service_run(a->host, &a->contract, &a->cli);
    if (bt_driver_wants_provisioning(&a->cli))
        return bt_driver_provision(a->host, &a->contract, &a->cli);
    return bt_driver_sync(a->host, &a->contract, &a->cli);
}

static int run(app *a, int argc, char **argv)
{
    char err[1024];
    early_logging(argc, argv);
    bt_cli_init(&a->cli);
    if (load_connector(a, argc, argv) != 0 && !a->host)
        return 1;
    if (a->contract_loaded && bt_cli_add_connector_fields(&a->cli, &a->contract, err, sizeof err) != 0)
        return fprintf(stderr, "error: %s\n", err), 1;
    if (bt_cli_parse(&a->cli, argc, argv, err, sizeof err) != 0) {
        /* Without the script its flags are unknown: the script is the real problem. */
        if (!a->contract_loaded)
            return bt_driver_report("cannot load the connector script", &a->load_error), 1;
        return fprintf(stderr, "error: %s\n", err), 1;
    }
    if (a->cli.version)
        return printf("%s version %s\n", BT_PROGRAM, BT_VERSION), 0;
    if (a->cli.help) {
        print_help(a, a->cli.arg_count > 0 ? a->cli.args[0] : NULL);
        if (!a->contract_loaded)
            fprintf(stderr, "error: connector script not loaded: %s\n", a->load_error.message);
        return a->contract_loaded ? 0 : 1;
    }
    if (!a->contract_loaded) {
        bt_driver_report("cannot load the connector script", &a->load_error);
        return 1;
    }
    if (check_log_flags(&a->cli) != 0)
        return 1;
    if (a->cli.arg_count > 0)
        return run_subcommand(a, a->cli.args[0]);
    return run_action(a);
}

int main(int argc, char **argv)
{
    if (bt_harden_core_dumps(bt_harden_core_dumps_allowed()) != 0) {
        fprintf(stderr, "error: cannot turn core dumps off (set %s=1 to run with them)\n",
                BT_ALLOW_CORE_DUMPS_ENV);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "show") == 0)
        return bt_show_main(argc - 1, argv + 1);
    if (argc > 1 && strcmp(argv[1], "report") == 0)
        return bt_report_main(argc - 1, argv + 1);
    app a;
    memset(&a, 0, sizeof a);
    int rc = run(&a, argc, argv);
    if (a.contract_loaded)
        bt_contract_free(&a.contract);
    bt_graphql_shutdown();
    bt_graphql_unbind_operator();
    bt_endpoint_spec_free(&a.endpoint);
    bt_host_free(a.host);
    bt_cli_free(&a.cli);
    bt_config_reset();
    bt_log_forget_secrets();
    bt_log_close_file();
    return rc;
}
