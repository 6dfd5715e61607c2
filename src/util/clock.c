/* Real or injected clock: every wait in the runtime goes through here. */
#include "bt/clock.h"

#include <errno.h>
#include <math.h>
#include <time.h>

static bt_clock_now_fn hook_now;
static bt_clock_sleep_fn hook_sleep;
static void *hook_ud;

void bt_clock_set_hooks(bt_clock_now_fn now, bt_clock_sleep_fn sleep_fn, void *ud)
{
    hook_now = now;
    hook_sleep = sleep_fn;
    hook_ud = ud;
}

static double read_clock(clockid_t id)
{
    struct timespec ts;
    clock_gettime(id, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

double bt_clock_now(void)
{
    return hook_now ? hook_now(hook_ud) : read_clock(CLOCK_REALTIME);
}

double bt_clock_monotonic(void)
{
    return hook_now ? hook_now(hook_ud) : read_clock(CLOCK_MONOTONIC);
}

void bt_clock_sleep(double seconds)
{
    if (seconds <= 0)
        return;
    if (hook_sleep) {
        hook_sleep(seconds, hook_ud);
        return;
    }
    struct timespec ts = {(time_t)seconds, (long)((seconds - floor(seconds)) * 1e9)};
    while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
        ;
}
