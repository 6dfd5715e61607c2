/* Builds the scripts' lua_State: allowed stdlibs, bt.* preloads, search path, sandbox. */
#include "bt/host.h"
#include "bt/budget.h"
#include "bt/errobj.h"
#include "bt/log.h"
#include "bt/prim.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define BT_MAX_MODULES 64

struct bt_host {
    lua_State *L;
    bt_budget budget; /* the allocator's ud: freed after lua_close */
    int module_count;
    char *module_names[BT_MAX_MODULES];
    char *module_paths[BT_MAX_MODULES];
};

static const luaL_Reg preloads[] = {
    {"bt.log", luaopen_bt_log},
    {"bt.config", luaopen_bt_config},
    {"bt.clock", luaopen_bt_clock},
    {"bt.graphql", luaopen_bt_graphql},
    {"bt.emit", luaopen_bt_emit},
    {NULL, NULL},
};

/* Standard libraries scripts may use. io and debug are not opened at all. */
static const luaL_Reg stdlibs[] = {
    {LUA_GNAME, luaopen_base},       {LUA_LOADLIBNAME, luaopen_package},
    {LUA_COLIBNAME, luaopen_coroutine}, {LUA_TABLIBNAME, luaopen_table},
    {LUA_OSLIBNAME, luaopen_os},     {LUA_STRLIBNAME, luaopen_string},
    {LUA_MATHLIBNAME, luaopen_math}, {LUA_UTF8LIBNAME, luaopen_utf8},
    {NULL, NULL},
};

static void open_stdlibs(lua_State *L)
{
    for (const luaL_Reg *lib = stdlibs; lib->func; lib++) {
        luaL_requiref(L, lib->name, lib->func, 1);
        lua_pop(L, 1);
    }
}

/* [-0, +0, m] Put every bt.* opener into package.preload. */
static void preload_primitives(lua_State *L)
{
    luaL_getsubtable(L, LUA_REGISTRYINDEX, LUA_PRELOAD_TABLE);
    for (const luaL_Reg *p = preloads; p->func; p++) {
        lua_pushcfunction(L, p->func);
        lua_setfield(L, -2, p->name);
    }
    lua_pop(L, 1);
}

static int at_panic(lua_State *L)
{
    const char *msg = lua_tostring(L, -1);
    fprintf(stderr, "error: unprotected Lua error: %s\n", msg ? msg : "(not a string)");
    return 0; /* Lua aborts after the panic handler returns */
}

bt_host *bt_host_new(const char *override_dir, const char *bundled_dir, bt_host_error *err)
{
    bt_host *h = calloc(1, sizeof *h);
    if (h) {
        size_t mb;
        bt_budget_get_defaults(&mb, &h->budget.cpu_cap);
        h->budget.cap = mb << 20;
    }
    if (!h || !(h->L = lua_newstate(bt_budget_alloc, &h->budget))) {
        snprintf(err->message, sizeof err->message, "out of memory creating the Lua state");
        free(h);
        return NULL;
    }
    lua_atpanic(h->L, at_panic);
    bt_budget_install(h->L, &h->budget);
    /* Pages of API results die young: generational collection keeps the heap
     * near the live page instead of letting garbage pile up to twice that. */
    lua_gc(h->L, LUA_GCGEN, 0, 0);
    open_stdlibs(h->L);
    preload_primitives(h->L);
    bt_err_open(h->L);
    bt_loader_install(h->L, h, override_dir, bundled_dir);
    bt_sandbox_apply(h->L);
    return h;
}

void bt_host_free(bt_host *h)
{
    if (!h)
        return;
    bt_debug("scripts: Lua heap peaked at %.1f MB (limit %zu MB); longest Lua stretch "
             "between requests %.3f s of CPU (limit %.0f s)",
             (double)h->budget.peak / 1048576.0, h->budget.cap >> 20, h->budget.longest,
             h->budget.cpu_cap);
    /* Finalizers left for the close run under the CPU timer too. */
    bt_budget_begin_call(&h->budget);
    lua_close(h->L);
    bt_budget_end_call(&h->budget);
    for (int i = 0; i < h->module_count; i++) {
        free(h->module_names[i]);
        free(h->module_paths[i]);
    }
    free(h);
}

lua_State *bt_host_lua(bt_host *h) { return h->L; }

void bt_host_set_limits(bt_host *h, size_t memory_mb, double cpu_seconds)
{
    h->budget.cap = memory_mb << 20;
    h->budget.cpu_cap = cpu_seconds;
}

bt_budget *bt_host_budget(bt_host *h) { return &h->budget; }

void bt_host_record_module(bt_host *h, const char *module, const char *path)
{
    bt_debug("require \"%s\" served by %s", module, path);
    if (h->module_count == BT_MAX_MODULES)
        return;
    h->module_names[h->module_count] = strdup(module);
    h->module_paths[h->module_count] = strdup(path);
    h->module_count++;
}

const char *bt_host_module_file(bt_host *h, const char *module)
{
    for (int i = h->module_count - 1; i >= 0; i--)
        if (h->module_names[i] && strcmp(h->module_names[i], module) == 0)
            return h->module_paths[i];
    return NULL;
}

/* The scripts for this binary: the source tree's when the binary is the one
 * in BT_BUILD_DIR (a developer's build); else the installed ones, found beside
 * the binary (<prefix>/bin/.. + BT_SCRIPTS_FROM_PREFIX, so `cmake --install
 * --prefix P` works wherever P is), else at the configured prefix. An
 * installed binary never falls back to a source tree. */
const char *bt_host_default_scripts_dir(void)
{
    static char beside[4096];
    char exe[4096];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0)
        return BT_INSTALLED_SCRIPTS_DIR;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (!slash)
        return BT_INSTALLED_SCRIPTS_DIR;
    *slash = '\0'; /* the binary's directory */
    if (strcmp(exe, BT_BUILD_DIR) == 0)
        return BT_SOURCE_SCRIPTS_DIR;
    slash = strrchr(exe, '/');
    if (slash && slash != exe) {
        *slash = '\0'; /* the prefix */
        int len = snprintf(beside, sizeof beside, "%s/%s", exe, BT_SCRIPTS_FROM_PREFIX);
        if (len > 0 && (size_t)len < sizeof beside && access(beside, R_OK | X_OK) == 0)
            return beside;
    }
    return BT_INSTALLED_SCRIPTS_DIR;
}
