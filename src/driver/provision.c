/* Provisioning actions: parse the baton flags into a request table, call the
 * script's handler under --provisioning, print one line (or JSON) of result. */
#include "action/action.h"
#include "bt/driver.h"
#include "bt/json_write.h"
#include "bt/log.h"
#include "bt/sink.h"

#include <stdlib.h>
#include <string.h>

/* The first of flags (ended by BT_RUNTIME_FLAG_COUNT) that is given, or NULL. */
static const char *first_given(const bt_cli *cli, const bt_flag_id *flags)
{
    for (int i = 0; flags && flags[i] != BT_RUNTIME_FLAG_COUNT; i++)
        if (bt_cli_is_set(cli, flags[i]))
            return bt_cli_flag_name(flags[i]);
    return NULL;
}

static const char *first_flag_given(const bt_cli *cli, const bt_action *a)
{
    return first_given(cli, a->flags);
}

/* Any action's flag, or an option alone (then select_action says what is missing). */
bool bt_driver_wants_provisioning(const bt_cli *cli)
{
    for (int i = 0; bt_action_at(i); i++)
        if (first_flag_given(cli, bt_action_at(i)) || first_given(cli, bt_action_at(i)->options))
            return true;
    return false;
}

/* Exactly one action. As in baton-sdk, the action flag is the explicit intent
 * and turns provisioning on by itself; -p gates what service mode may run. */
static const bt_action *select_action(const bt_cli *cli, char *err, size_t n)
{
    const bt_action *chosen = NULL;
    const char *chosen_flag = NULL;
    for (int i = 0; bt_action_at(i); i++) {
        const char *flag = first_flag_given(cli, bt_action_at(i));
        if (!flag)
            continue;
        if (chosen) {
            snprintf(err, n, "--%s and --%s cannot be used together", chosen_flag, flag);
            return NULL;
        }
        chosen = bt_action_at(i);
        chosen_flag = flag;
    }
    if (!chosen)
        snprintf(err, n, "no provisioning action given");
    return chosen;
}

/* Scalar fields of the result table as JSON, keys sorted for stable output. */
static void print_json_result(lua_State *L, const char *handler, int idx)
{
    const char *keys[32];
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, idx) && n < 32) {
        if (lua_type(L, -2) == LUA_TSTRING && !lua_istable(L, -1))
            keys[n++] = lua_tostring(L, -2); /* the key stays referenced by the table */
        lua_pop(L, 1);
    }
    for (int i = 1; i < n; i++)
        for (int j = i; j > 0 && strcmp(keys[j - 1], keys[j]) > 0; j--) {
            const char *t = keys[j];
            keys[j] = keys[j - 1];
            keys[j - 1] = t;
        }
    bt_jw w;
    bt_jw_init(&w, stdout, 0);
    bt_jw_begin_object(&w);
    bt_jw_kv_string(&w, "action", handler);
    bt_jw_key(&w, "ok");
    bt_jw_bool(&w, true);
    for (int i = 0; i < n; i++) {
        lua_getfield(L, idx, keys[i]);
        bt_jw_key(&w, keys[i]);
        if (lua_isboolean(L, -1))
            bt_jw_bool(&w, lua_toboolean(L, -1));
        else if (lua_isinteger(L, -1))
            bt_jw_int(&w, lua_tointeger(L, -1));
        else {
            bt_jw_string(&w, luaL_tolstring(L, -1, NULL));
            lua_pop(L, 1); /* the string luaL_tolstring pushed */
        }
        lua_pop(L, 1);
    }
    bt_jw_end_object(&w);
    fputc('\n', stdout);
}

static void print_result(lua_State *L, const char *handler, int idx)
{
    if (bt_log_get_format() == BT_LOG_JSON && lua_istable(L, idx)) {
        print_json_result(L, handler, idx);
        return;
    }
    const char *msg = NULL;
    if (lua_istable(L, idx)) {
        lua_getfield(L, idx, "message");
        msg = lua_tostring(L, -1);
        lua_pop(L, 1);
    }
    printf("%s: %s\n", handler, msg ? msg : "done");
}

/* [-1, +0] Call the handler with the request on top; report its outcome. */
static int run_handler(bt_host *h, const bt_contract *c, const bt_action *a)
{
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L) - 1; /* the request is on top */
    char defined_at[512] = "";
    bt_host_error herr;
    bt_action_status st = bt_action_call(h, c, a, defined_at, sizeof defined_at, &herr);
    if (st == BT_ACTION_NO_HANDLER) {
        lua_settop(L, top);
        fprintf(stderr, "error: the connector script has no '%s' handler\n", a->handler);
        return 1;
    }
    if (st == BT_ACTION_REFUSED)
        bt_host_returned_error(L, -1, defined_at, &herr);
    char what[64];
    snprintf(what, sizeof what, "%s failed", a->handler);
    if (st != BT_ACTION_DONE && strcmp(herr.kind, "permission") == 0)
        bt_driver_report(NULL, &herr); /* the refusal names the change itself */
    else if (st != BT_ACTION_DONE)
        bt_driver_report(what, &herr);
    else
        print_result(L, a->handler, lua_absindex(L, -2));
    lua_settop(L, top);
    return st == BT_ACTION_DONE ? 0 : 1;
}

int bt_driver_provision(bt_host *h, const bt_contract *c, const bt_cli *cli)
{
    char err[1024];
    const bt_action *a = select_action(cli, err, sizeof err);
    if (!a) {
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    if (!bt_contract_has_function(h, c, a->handler)) {
        fprintf(stderr, "error: the connector script has no '%s' handler\n", a->handler);
        return 1;
    }
    lua_State *L = bt_host_lua(h);
    int top = lua_gettop(L);
    if (a->from_flags(h, c, cli, err, sizeof err) != 0) {
        lua_settop(L, top);
        fprintf(stderr, "error: %s\n", err);
        return 1;
    }
    /* An interrupted change may have reached the target system: say so on the way out. */
    char said[160];
    snprintf(said, sizeof said, "%s: the change may or may not have been applied; check "
             "before trying again", a->handler);
    bt_sink_note_interruption(said);
    bt_sink_install_signal_cleanup();
    return run_handler(h, c, a);
}
