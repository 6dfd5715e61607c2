/* Hidden `api-names`: the function names each bt.* module exports, as JSON, so a
 * test can check that the busted fake runtime offers exactly the same API. */
#include "bt/driver.h"
#include "bt/json_write.h"

#include <stdlib.h>
#include <string.h>

static const char *const modules[] = {"bt.clock", "bt.config", "bt.emit", "bt.graphql", "bt.log", NULL};

static int compare_strings(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names of the module table on top of the stack (functions and values). */
static void write_names(lua_State *L, bt_jw *w)
{
    const char *names[64];
    int n = 0;
    lua_pushnil(L);
    while (lua_next(L, -2) && n < 64) {
        if (lua_type(L, -2) == LUA_TSTRING)
            names[n++] = lua_tostring(L, -2);
        lua_pop(L, 1);
    }
    qsort(names, (size_t)n, sizeof names[0], compare_strings);
    bt_jw_begin_array(w);
    for (int i = 0; i < n; i++)
        bt_jw_string(w, names[i]);
    bt_jw_end_array(w);
}

int bt_driver_print_api_names(bt_host *h, FILE *out)
{
    lua_State *L = bt_host_lua(h);
    bt_jw w;
    bt_jw_init(&w, out, 2);
    bt_jw_begin_object(&w);
    for (int i = 0; modules[i]; i++) {
        bt_host_error err;
        if (bt_host_require(h, modules[i], &err) != 0) {
            bt_driver_report("api-names", &err);
            return 1;
        }
        bt_jw_key(&w, modules[i]);
        write_names(L, &w);
        lua_pop(L, 1);
    }
    bt_jw_end_object(&w);
    fputc('\n', out);
    return 0;
}
