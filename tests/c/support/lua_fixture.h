/* Test helpers for the HTTP/GraphQL tests: a fake clock, log capture, and a
 * lua_State with bt.graphql loaded (as the host preloads it). */
#ifndef BT_TEST_LUA_FIXTURE_H
#define BT_TEST_LUA_FIXTURE_H
#include <stdbool.h>
#include <stddef.h>

#include "bt/log.h"
#include "bt/lua.h"

#define FAKE_CLOCK_MAX_SLEEPS 512

typedef struct fake_clock {
    double now; /* advanced by every sleep */
    double sleeps[FAKE_CLOCK_MAX_SLEEPS];
    int nsleeps;
    double slept;                                            /* total */
    void (*on_sleep)(struct fake_clock *fc, double seconds); /* optional */
    void *ud;
} fake_clock;

/* Installs fc as the bt_clock hooks, starting at fc->now (set it before, or
 * 0 gives 1700000000). */
void fake_clock_install(fake_clock *fc);
void fake_clock_remove(void);

#define LOG_CAPTURE_MAX 4096

typedef struct log_capture {
    char *lines[LOG_CAPTURE_MAX];
    int n;
} log_capture;

/* Captures every line at `level` and above through bt_log_set_sink. */
void log_capture_start(log_capture *lc, bt_log_level level);
/* Restores stderr logging at info level and frees the lines. */
void log_capture_stop(log_capture *lc);
/* The number of lines containing s. */
int log_capture_count(const log_capture *lc, const char *s);

/* luaL_newstate + openlibs + bt.graphql required as global `graphql`. */
lua_State *lua_fixture_new(void);
/* Runs a chunk; NULL on success, else the error message (static buffer). */
const char *lua_fixture_run(lua_State *L, const char *chunk);
void lua_fixture_set_string(lua_State *L, const char *global, const char *value);

#endif
