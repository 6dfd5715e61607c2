/* The sync action: open the sink, run the script's sync with bt.emit bound to
 * it, then commit atomically, or abort and leave any earlier file untouched. */
#include "bt/driver.h"
#include "bt/clock.h"
#include "bt/config.h"
#include "bt/graphql.h"
#include "bt/log.h"
#include "bt/prim.h"
#include "bt/sink.h"
#include "bt/sync_options.h"

#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Interpret sync's results: `nil, err` (or false, err) is a failure, named
 * at the line that made it when known, else where sync is defined. */
static int check_sync_result(lua_State *L, const char *defined_at, bt_host_error *err)
{
    if (lua_isnil(L, -2) || (lua_isboolean(L, -2) && !lua_toboolean(L, -2))) {
        bt_host_returned_error(L, -1, defined_at, err);
        return -1;
    }
    return 0;
}

/* [-0, +1] The options as the script's sync(opts) sees them (API.md "sync
 * options"): nil for a plain full sync. */
static void push_options(lua_State *L, const bt_sync_options *o)
{
    if (bt_sync_options_is_default(o)) {
        lua_pushnil(L);
        return;
    }
    lua_createtable(L, 0, 4);
    if (o->target_count > 0) {
        lua_createtable(L, (int)o->target_count, 0);
        for (size_t i = 0; i < o->target_count; i++) {
            lua_createtable(L, 0, 2);
            lua_pushstring(L, o->targets[i].type);
            lua_setfield(L, -2, "type");
            lua_pushstring(L, o->targets[i].id);
            lua_setfield(L, -2, "id");
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "targets");
    }
    if (o->type_count > 0) {
        lua_createtable(L, (int)o->type_count, 0);
        for (size_t i = 0; i < o->type_count; i++) {
            lua_pushstring(L, o->resource_types[i]);
            lua_rawseti(L, -2, (lua_Integer)i + 1);
        }
        lua_setfield(L, -2, "resource_types");
    }
    lua_pushboolean(L, o->skip_entitlements_and_grants);
    lua_setfield(L, -2, "skip_entitlements_and_grants");
    lua_pushboolean(L, o->skip_grants);
    lua_setfield(L, -2, "skip_grants");
}

/* [-0, +0] Run contract.sync(opts) under the host's protected call. */
static int run_sync(bt_host *h, const bt_contract *c, const bt_sync_options *o,
                    bt_host_error *err)
{
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L);
    char defined_at[512];
    bt_contract_push_function(h, c, "sync");
    bt_host_function_position(L, -1, defined_at, sizeof defined_at);
    push_options(L, o);
    int rc = bt_host_call(h, 1, 2, err);
    if (rc == 0)
        rc = check_sync_result(L, defined_at, err);
    lua_settop(L, top);
    return rc;
}

/* " (role 7, user 12, group 7)": resources of each type, read before the
 * commit frees the sink. */
static void describe_types(const bt_sink *sink, char *out, size_t n)
{
    const char *id;
    uint64_t count;
    size_t used = 0;
    out[0] = '\0';
    for (size_t i = 0; bt_sink_type_at(sink, i, &id, &count) && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s %llu", i == 0 ? " (" : ", ", id,
                                 (unsigned long long)count);
    if (used > 0 && used + 1 < n)
        snprintf(out + used, n - used, ")");
}

/* ---- the start line: the target, the types and the pace, logged when the
 * script configures the endpoint (before its first request) ---- */

typedef struct {
    char types[512];
    bool said;
} start_line;

static start_line g_start;

static bool type_synced(const bt_resource_type_decl *t, const bt_sync_options *o)
{
    if (o->type_count > 0) {
        for (size_t i = 0; i < o->type_count; i++)
            if (strcmp(o->resource_types[i], t->id) == 0)
                return true;
        return false;
    }
    const char *on = t->opt_in ? bt_config_get(t->opt_in) : "true";
    return on && (strcmp(on, "true") == 0 || strcmp(on, "1") == 0);
}

static void note_types(const bt_contract *c, const bt_sync_options *o)
{
    size_t used = 0;
    g_start.types[0] = '\0';
    g_start.said = false;
    for (int i = 0; i < c->type_count && used < sizeof g_start.types; i++)
        if (type_synced(&c->types[i], o))
            used += (size_t)snprintf(g_start.types + used, sizeof g_start.types - used, "%s%s",
                                     used ? ", " : "", c->types[i].id);
}

static void say_start(const char *url, void *ud)
{
    start_line *st = ud;
    if (st->said)
        return;
    st->said = true;
    double r = bt_graphql_reads_per_minute(), w = bt_graphql_writes_per_minute();
    char pace[96], line[1024];
    if (r > 0)
        snprintf(pace, sizeof pace, "%.0f reads/min, %.0f writes/min", r, w);
    else
        snprintf(pace, sizeof pace, "off");
    snprintf(line, sizeof line, "sync starting: %s · types %s · pace %s", url, st->types, pace);
    bt_log_field f[] = {BT_LOG_FSTR("target", url), BT_LOG_FSTR("types", st->types),
                        BT_LOG_FREAL("reads_per_minute", r),
                        BT_LOG_FREAL("writes_per_minute", w)};
    bt_log_record(BT_LOG_INFO, line, "sync starting", f, sizeof f / sizeof f[0]);
}

/* The end of a sync as one JSON record (--log-format json): the counts, the
 * requests and the time spent waiting, ours (paced_s) apart from the
 * server's (throttled_s, HTTP 429). */
/* left_out: the skipped and the filtered counts, in that order. */
static void summary_record(const char *path, const char *sync_type, const bt_sink_counts *n,
                           const uint64_t left_out[2], const bt_graphql_stats *s, double seconds)
{
    char line[256];
    snprintf(line, sizeof line, "sync complete: %s", path);
    bt_log_field f[] = {
        BT_LOG_FSTR("file", path), BT_LOG_FSTR("sync_type", sync_type),
        BT_LOG_FINT("resource_types", n->resource_types), BT_LOG_FINT("resources", n->resources),
        BT_LOG_FINT("entitlements", n->entitlements), BT_LOG_FINT("grants", n->grants),
        BT_LOG_FINT("duplicates", n->duplicates), BT_LOG_FINT("skipped", left_out[0]),
        BT_LOG_FINT("filtered", left_out[1]),
        BT_LOG_FINT("requests", s->requests), BT_LOG_FINT("retries", s->retries),
        BT_LOG_FINT("rate_limited", s->retries_by[BT_HTTP_RETRY_RATE_LIMITED]),
        BT_LOG_FINT("bytes_received", s->bytes_received),
        BT_LOG_FREAL("paced_s", s->pacing_wait_seconds),
        BT_LOG_FREAL("throttled_s", s->rate_limit_wait_seconds),
        BT_LOG_FREAL("backoff_s", s->backoff_wait_seconds),
        BT_LOG_FREAL("reads_per_minute", bt_graphql_reads_per_minute()),
        BT_LOG_FREAL("elapsed_s", seconds)};
    bt_log_record(BT_LOG_INFO, line, "sync complete", f, sizeof f / sizeof f[0]);
}

static void print_summary(const char *path, const char *sync_type, const char *per_type,
                          const bt_sink_counts *n, double seconds)
{
    bt_graphql_stats s;
    bt_graphql_get_stats(&s);
    char causes[1024], types[512];
    uint64_t skipped = bt_driver_report_skips(n, causes, sizeof causes);
    uint64_t filtered = bt_driver_report_filtered(n, types, sizeof types);
    if (bt_log_get_format() == BT_LOG_JSON) {
        summary_record(path, sync_type, n, (uint64_t[]){skipped, filtered}, &s, seconds);
        return;
    }
    printf("sync complete: %s\n", path);
    if (strcmp(sync_type, "full") != 0)
        printf("  sync type       %s\n", sync_type);
    printf("  resource types  %ld\n", (long)n->resource_types);
    printf("  resources       %ld%s\n", (long)n->resources, per_type);
    printf("  entitlements    %ld\n", (long)n->entitlements);
    printf("  grants          %ld\n", (long)n->grants);
    if (n->duplicates)
        printf("  duplicates      %ld (absorbed)\n", (long)n->duplicates);
    printf("  skipped         %llu%s%s%s\n", (unsigned long long)skipped, skipped ? " (" : "",
           causes, skipped ? ")" : "");
    if (filtered)
        printf("  filtered        %llu (%s)\n", (unsigned long long)filtered, types);
    printf("  requests        %ld (%ld retries", s.requests, s.retries);
    for (int c = BT_HTTP_RETRY_NONE + 1; c < BT_HTTP_RETRY_CAUSES; c++)
        printf("%s %ld %s", c == BT_HTTP_RETRY_NONE + 1 ? ":" : ",", s.retries_by[c],
               bt_http_retry_causes[c].label);
    printf(")\n");
    printf("  received        %.1f KiB\n", (double)s.bytes_received / 1024.0);
    char pace[48];
    double r = bt_graphql_reads_per_minute();
    snprintf(pace, sizeof pace, r > 0 ? "%.0f reads/min" : "pacing off", r);
    printf("  waiting         %.1f s paced by us (%s), %.1f s throttled by the server (429)\n",
           s.pacing_wait_seconds, pace, s.rate_limit_wait_seconds);
    printf("  elapsed         %.2f s\n", seconds);
    bt_info("sync finished: %ld resources, %ld entitlements, %ld grants, %llu skipped%s%s%s, "
            "%llu filtered%s%s%s, %ld requests in %.2f s",
            (long)n->resources, (long)n->entitlements, (long)n->grants,
            (unsigned long long)skipped, skipped ? " (" : "", causes, skipped ? ")" : "",
            (unsigned long long)filtered, filtered ? " (" : "", types, filtered ? ")" : "",
            s.requests, seconds);
}

/* The sync phase: the script's sync emitting into sink, no writes allowed,
 * the configuration readable only meanwhile. */
static int run_into(bt_host *h, const bt_contract *c, const bt_sync_options *opts, bt_sink *sink,
                    bt_host_error *herr)
{
    bt_graphql_allow_writes(false);
    bt_emit_bind(bt_host_lua(h), sink);
    bt_config_set_readable(true);
    int rc = run_sync(h, c, opts, herr);
    bt_config_set_readable(false);
    bt_emit_bind(bt_host_lua(h), NULL);
    return rc;
}

typedef struct {
    const char *sync_type;
    bt_sink_counts counts;
    char per_type[512];
} sync_result;

/* The whole sync into path, for the command line and service mode alike:
 * options checked, signal cleanup before the sink's temporary files exist,
 * the script run, the file committed. 0, or -1 with the failure in herr and
 * *what set to "sync failed" when the sync itself (not its set-up) failed. */
static int sync_to(bt_host *h, const bt_contract *c, const char *path, const char *format,
                   const bt_sync_options *opts, sync_result *out, const char **what,
                   bt_host_error *herr)
{
    char *err = herr->message;
    size_t errsz = sizeof herr->message;
    herr->traceback[0] = '\0';
    herr->kind[0] = '\0';
    *what = NULL;
    if (bt_sync_options_check(opts, c, err, errsz) != 0)
        return -1;
    out->sync_type = bt_sync_options_sync_type(opts);
    bt_sink_note_output(path);
    bt_sink_install_signal_cleanup();
    char why[1024];
    bt_sink *sink = bt_sink_open(path, format, why, sizeof why);
    if (!sink || bt_sink_set_sync_type(sink, out->sync_type, why, sizeof why) != 0) {
        bt_sink_abort(sink);
        snprintf(err, errsz, "cannot write %s: %s", path, why);
        return -1;
    }
    if (bt_sink_stale_removed(sink) > 0)
        bt_info("removed %d temporary files that an earlier, interrupted run left",
                bt_sink_stale_removed(sink));
    *what = "sync failed";
    note_types(c, opts);
    bt_graphql_on_configure(say_start, &g_start);
    int rc = run_into(h, c, opts, sink, herr);
    bt_graphql_on_configure(NULL, NULL);
    if (rc != 0) {
        bt_sink_abort(sink);
        return -1;
    }
    if (bt_sink_settle(sink, why, sizeof why) != 0) {
        bt_sink_abort(sink);
        snprintf(err, errsz, "%s", why);
        return -1;
    }
    bt_sink_get_counts(sink, &out->counts);
    describe_types(sink, out->per_type, sizeof out->per_type);
    if (bt_sink_commit(sink, why, sizeof why) != 0) {
        snprintf(err, errsz, "%s", why);
        return -1;
    }
    return 0;
}

static int sync_with(bt_host *h, const bt_contract *c, const char *path, const char *format,
                     const bt_sync_options *opts)
{
    double started = bt_clock_monotonic();
    sync_result res;
    const char *what;
    bt_host_error herr;
    if (sync_to(h, c, path, format, opts, &res, &what, &herr) != 0) {
        if (what) {
            bt_driver_report(what, &herr);
            bt_info("no file written; %s is unchanged", path); /* one error: line only */
        } else {
            fprintf(stderr, "error: %s\n", herr.message);
        }
        return 1;
    }
    print_summary(path, res.sync_type, res.per_type, &res.counts, bt_clock_monotonic() - started);
    return 0;
}

/* --c1z-temp-dir: an existing, writable directory for the working database. */
static int use_temp_dir(const char *dir)
{
    struct stat st;
    if (!dir || !*dir)
        return 0;
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || access(dir, W_OK | X_OK) != 0) {
        fprintf(stderr, "error: --c1z-temp-dir \"%s\" is not a writable directory\n", dir);
        return -1;
    }
    bt_sink_set_work_dir(dir);
    return 0;
}

int bt_driver_sync(bt_host *h, const bt_contract *c, const bt_cli *cli)
{
    bt_sync_options opts;
    char err[1024];
    if (use_temp_dir(bt_cli_get(cli, BT_FLAG_C1Z_TEMP_DIR)) != 0)
        return 1;
    if (bt_driver_check_output(cli, bt_cli_get(cli, BT_FLAG_FILE), err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (bt_sync_options_from_cli(cli, &opts, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    int rc = sync_with(h, c, bt_cli_get(cli, BT_FLAG_FILE), bt_cli_get(cli, BT_FLAG_OUTPUT_FORMAT), &opts);
    bt_sync_options_free(&opts);
    return rc;
}

/* The same sync for service mode: a c1z at path with the task's options, no
 * summary on stdout and no line on an interruption (the daemon reports the
 * outcome); the failure (redacted) in err instead of on stderr. */
int bt_driver_sync_quiet(bt_host *h, const bt_contract *c, const char *path,
                         const bt_sync_options *opts, char *err, size_t errsz)
{
    double started = bt_clock_monotonic();
    sync_result res;
    const char *what;
    bt_host_error herr;
    bt_sink_quiet_interruption();
    if (sync_to(h, c, path, "c1z", opts, &res, &what, &herr) != 0) {
        bt_log_redact(herr.message, err, errsz);
        if (herr.traceback[0])
            bt_debug("%s", herr.traceback);
        return -1;
    }
    char causes[512], types[256];
    uint64_t skipped = bt_driver_report_skips(&res.counts, causes, sizeof causes);
    uint64_t filtered = bt_driver_report_filtered(&res.counts, types, sizeof types);
    bt_info("sync finished: %ld resources, %ld entitlements, %ld grants, %llu skipped%s%s%s, "
            "%llu filtered%s%s%s in %.2f s", (long)res.counts.resources,
            (long)res.counts.entitlements, (long)res.counts.grants, (unsigned long long)skipped,
            skipped ? " (" : "", causes, skipped ? ")" : "", (unsigned long long)filtered,
            filtered ? " (" : "", types, filtered ? ")" : "", bt_clock_monotonic() - started);
    return 0;
}
