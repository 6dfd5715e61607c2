/* Wall clock and sleeping, injectable so tests never wait on real time. */
#ifndef BT_CLOCK_H
#define BT_CLOCK_H

typedef double (*bt_clock_now_fn)(void *ud);
typedef void (*bt_clock_sleep_fn)(double seconds, void *ud);

/* Seconds since the Unix epoch (real clock unless hooks are installed). */
double bt_clock_now(void);
/* Monotonic seconds (for measuring durations). Hooked like bt_clock_now. */
double bt_clock_monotonic(void);
void bt_clock_sleep(double seconds);
/* Install fake clock hooks (NULL, NULL restores the real clock). */
void bt_clock_set_hooks(bt_clock_now_fn now, bt_clock_sleep_fn sleep, void *ud);

#endif
