/* Signals for the daemon: SIGTERM/SIGINT ask it to stop, SIGCHLD says a task
 * process ended; each writes a byte to a self-pipe so poll() wakes up. */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/sig.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static volatile sig_atomic_t g_stop;
static struct timespec g_stop_at; /* CLOCK_MONOTONIC of the first stop signal */
static int g_pipe[2] = {-1, -1};

static void on_signal(int sig)
{
    int saved = errno;
    if ((sig == SIGTERM || sig == SIGINT) && !g_stop) {
        clock_gettime(CLOCK_MONOTONIC, &g_stop_at); /* async-signal-safe */
        g_stop = 1;
    }
    if (g_pipe[1] >= 0)
        (void)!write(g_pipe[1], "x", 1);
    errno = saved;
}

int bt_svc_signals_install(void)
{
    if (pipe(g_pipe) != 0)
        return -1;
    for (int i = 0; i < 2; i++) {
        fcntl(g_pipe[i], F_SETFL, fcntl(g_pipe[i], F_GETFL) | O_NONBLOCK);
        fcntl(g_pipe[i], F_SETFD, FD_CLOEXEC);
    }
    struct sigaction sa = bt_sig_action(on_signal, SA_RESTART);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGCHLD, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);
    return 0;
}

bool bt_svc_stopping(void) { return g_stop != 0; }

static double stop_left(void)
{
    if (!g_stop)
        return BT_SVC_STOP_BUDGET;
    struct timespec now;
    clock_gettime(CLOCK_MONOTONIC, &now);
    double since = (double)(now.tv_sec - g_stop_at.tv_sec) + (now.tv_nsec - g_stop_at.tv_nsec) / 1e9;
    return BT_SVC_STOP_BUDGET - since;
}

bool bt_svc_stop_overdue(void) { return g_stop && stop_left() <= 0; }

int bt_svc_wake_fd(void) { return g_pipe[0]; }

static void wake_drain(void)
{
    char buf[64];
    while (read(g_pipe[0], buf, sizeof buf) > 0)
        ;
}

void bt_svc_wait(bt_svc_daemon *d, double seconds)
{
    struct pollfd fds[2 + BT_SVC_MAX_TASKS];
    nfds_t n = 0;
    fds[n++] = (struct pollfd){g_pipe[0], POLLIN, 0};
    int hfd = d->health ? bt_svc_health_fd(d->health) : -1;
    if (hfd >= 0)
        fds[n++] = (struct pollfd){hfd, POLLIN, 0};
    for (int i = 0; i < d->n_tasks; i++)
        if (d->tasks[i].fd >= 0)
            fds[n++] = (struct pollfd){d->tasks[i].fd, POLLIN, 0};
    if (g_stop && seconds > 0.2)
        seconds = 0.2;
    int ms = seconds <= 0 ? 0 : seconds > 3600 ? 3600000 : (int)(seconds * 1000 + 0.5);
    if (poll(fds, n, ms) <= 0) {
        bt_svc_health_poll(d); /* a check past its deadline */
        return;
    }
    if (fds[0].revents)
        wake_drain();
    if (hfd >= 0 && fds[1].revents)
        bt_svc_health_serve(d);
    bt_svc_read_results(d);
    bt_svc_health_poll(d);
}
