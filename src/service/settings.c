/* Service-mode settings from flags and environment, checked at start-up. */
#include "service/svc.h"
#include "bt/cli.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int bt_svc_host_id(char *out, size_t outsz)
{
    const char *env = getenv("BATON_HOST_ID");
    char host[256] = "";
    if (env)
        snprintf(host, sizeof host, "%s", env);
    else
        gethostname(host, sizeof host - 1);
    if (env && strlen(env) > 256)
        return -1;
    snprintf(out, outsz, "%s", host[0] ? host : "baton-sdk");
    return 0;
}

static int fail(const char *msg, const char *detail)
{
    fprintf(stderr, "error: %s%s\n", msg, detail ? detail : "");
    return -1;
}

static bool writable_dir(const char *dir)
{
    struct stat st;
    return stat(dir, &st) == 0 && S_ISDIR(st.st_mode) && access(dir, W_OK | X_OK) == 0;
}

static int temp_dir(bt_svc_settings *s, const bt_cli *cli)
{
    const char *flag = bt_cli_get(cli, BT_FLAG_C1Z_TEMP_DIR), *tmp = getenv("TMPDIR");
    const char *dir = flag && *flag ? flag : tmp && *tmp ? tmp : "/tmp";
    if (!writable_dir(dir))
        return fail(flag && *flag ? "--c1z-temp-dir is not a writable directory: "
                                  : "TMPDIR is not a writable directory: ", dir);
    s->temp_dir = strdup(dir);
    return 0;
}

static int numbers(bt_svc_settings *s, const bt_cli *cli)
{
    long v;
    char err[256];
    if (bt_cli_get_long(cli, BT_FLAG_TASK_CONCURRENCY, &v, err, sizeof err) < 0)
        return fail(err, NULL);
    if (v < 1 || v > BT_SVC_MAX_TASKS)
        return fail("--task-concurrency must be between 1 and 32", NULL);
    s->concurrency = (int)v;
    if (bt_cli_get_long(cli, BT_FLAG_HEALTH_CHECK_PORT, &v, err, sizeof err) < 0)
        return fail(err, NULL);
    if (v < 1 || v > 65535)
        return fail("--health-check-port must be between 1 and 65535", NULL);
    s->health_port = (int)v;
    return 0;
}

static int hosts(bt_svc_settings *s, const bt_svc_creds *c)
{
    char id[300];
    const char *api = getenv("BATON_C1_API_HOST");
    if (bt_svc_host_id(id, sizeof id) != 0)
        return fail("BATON_HOST_ID is longer than 256 characters", NULL);
    s->host_id = strdup(id);
    if (api && *api) {
        bt_svc_creds probe = {0};
        char err[256], fake[600];
        snprintf(fake, sizeof fake, "x@%s/x", api);
        int rc = bt_svc_parse_client_id(fake, &probe, err, sizeof err);
        bt_svc_creds_free(&probe);
        if (rc != 0 || strlen(api) > 300)
            return fail("BATON_C1_API_HOST is not host[:port]", NULL);
    }
    s->api_host = strdup(api && *api ? api : c->host);
    return 0;
}

int bt_svc_settings_load(bt_svc_settings *s, const bt_cli *cli, const bt_svc_creds *c)
{
    memset(s, 0, sizeof *s);
    if (hosts(s, c) != 0 || temp_dir(s, cli) != 0 || numbers(s, cli) != 0)
        return -1;
    const char *bind = bt_cli_get(cli, BT_FLAG_HEALTH_CHECK_BIND_ADDRESS);
    snprintf(s->health_bind, sizeof s->health_bind, "%s", bind ? bind : "127.0.0.1");
    s->health = bt_cli_get_bool(cli, BT_FLAG_HEALTH_CHECK);
    s->provisioning = bt_cli_get_bool(cli, BT_FLAG_PROVISIONING);
    s->skip_full_sync = bt_cli_get_bool(cli, BT_FLAG_SKIP_FULL_SYNC);
    const char *scripts = bt_cli_get(cli, BT_FLAG_SCRIPTS_DIR);
    s->scripts_dir = scripts ? strdup(scripts) : NULL;
    return 0;
}

void bt_svc_settings_free(bt_svc_settings *s)
{
    free(s->host_id);
    free(s->api_host);
    free(s->temp_dir);
    free(s->scripts_dir);
    memset(s, 0, sizeof *s);
}
