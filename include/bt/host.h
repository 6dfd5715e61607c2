/* The Lua host: a sandboxed lua_State with the bt.* primitives preloaded, an
 * override-first script search path and a single protected call into Lua. */
#ifndef BT_HOST_H
#define BT_HOST_H
#include <stdbool.h>
#include <stddef.h>
#include "bt/lua.h"

#define BT_API_VERSION 1

typedef struct {
    char message[2048];   /* one line: "file:line: message", a host problem, or a
                           * failure's message alone (kind set) */
    char traceback[8192]; /* Lua traceback, for the debug log; may be empty */
    char kind[32];        /* a failure's kind (an error table's string `kind`:
                           * the runtime's error values and the scripts'
                           * lib.failure); "" for a script error */
} bt_host_error;

typedef struct bt_host bt_host;

/* Search order: override_dir (may be NULL), then bundled_dir. */
bt_host *bt_host_new(const char *override_dir, const char *bundled_dir, bt_host_error *err);
void bt_host_free(bt_host *h);
lua_State *bt_host_lua(bt_host *h);

/* Script limits (limits.c, bt/budget.h): the Lua heap cap in MB and the CPU
 * seconds one stretch of Lua work between two requests may take; 0 = none.
 * They apply from the next allocation and the next handler call. */
void bt_host_set_limits(bt_host *h, size_t memory_mb, double cpu_seconds);
struct bt_budget *bt_host_budget(bt_host *h);

/* [-(nargs+1), +nresults] Call the function below the nargs arguments with a
 * traceback handler. On failure returns -1 with err filled and the stack
 * restored to its height before the function was pushed. */
int bt_host_call(bt_host *h, int nargs, int nresults, bt_host_error *err);

/* [-0, +1] require(module) under bt_host_call. 0 on success. */
int bt_host_require(bt_host *h, const char *module, bt_host_error *err);

/* The file that served `module` (NULL when it came from preload or is unknown). */
const char *bt_host_module_file(bt_host *h, const char *module);

/* Pick the bundled scripts dir: the source tree when running from the build
 * tree, else the installed share dir. */
const char *bt_host_default_scripts_dir(void);

/* Error positions (errpos.c). The first frame from `level` up that is script
 * code (Lua, outside a lib/ dir) as "file:line"; false when there is none. */
bool bt_host_script_position(lua_State *L, int level, char *out, size_t n);
/* True when msg already holds a "file:line:" position. */
bool bt_host_message_has_position(const char *msg);
/* [-0, +0] The string `kind` of the error table at idx into out ("" when the
 * value is no table or its kind is no string); raw reads, no metamethods. */
void bt_host_error_kind(lua_State *L, int idx, char *out, size_t n);
/* "file:line" where the Lua function at idx is defined ("" for a C function). */
void bt_host_function_position(lua_State *L, int idx, char *out, size_t n);
/* Fill err from a handler's returned error at err_idx (nil, a string or an
 * error table). A failure (a table with a string `kind`: the runtime's error
 * values, lib.failure) reports a fact about the input or the world: its
 * message alone, its position (the table's `where`, else fallback) to the
 * debug log only. Anything else is "<where>: <tostring(err)>", where = the
 * table's `where` or else fallback. Pops what it pushed. */
void bt_host_returned_error(lua_State *L, int err_idx, const char *fallback, bt_host_error *err);

/* The connector's credentialed endpoint (endpoint_spec.c): read
 * <bundled_dir>/<module>/endpoint.lua (only there: the override dir cannot
 * replace it) in an empty environment. 0 with spec filled, 1 when the file
 * does not exist, -1 with err filled. */
struct bt_endpoint_spec;
int bt_host_load_endpoint_spec(bt_host *h, const char *bundled_dir, const char *module,
                               struct bt_endpoint_spec *spec, bt_host_error *err);

/* Used by the loader to record which file served a require. */
void bt_host_record_module(bt_host *h, const char *module, const char *path);

/* Strict globals (sandbox.c): install the environment lock on _G. */
void bt_sandbox_apply(lua_State *L);
/* The override-first Lua searcher (loader.c). */
void bt_loader_install(lua_State *L, bt_host *h, const char *override_dir, const char *bundled_dir);

#endif
