/* The one fork of the daemon's processes (tasks and the /health check): the
 * child dies with the daemon, leaves Ctrl-C and SIGCHLD to defaults the daemon
 * chose, and holds none of the daemon's descriptors (wake pipe, health
 * sockets); the daemon gets a non-blocking, close-on-exec read end. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include "service/health.h"

static bool disposition_is(int sig, void (*want)(int))
{
    struct sigaction sa;
    return sigaction(sig, NULL, &sa) == 0 && sa.sa_handler == want;
}

static void child_state(void **state)
{
    (void)state;
    static bt_svc_daemon d;
    memset(&d, 0, sizeof d);
    assert_int_equal(bt_svc_signals_install(), 0);
    /* A stand-in health server: a listening socket and a waiting probe. */
    bt_svc_health h;
    memset(&h, 0, sizeof h);
    int probe[2];
    assert_int_equal(pipe(probe), 0);
    h.fd = probe[0];
    h.check_fd = -1;
    h.waiting[0] = probe[1];
    h.n_waiting = 1;
    d.health = &h;
    int fd;
    pid_t pid = bt_svc_fork_task_process(&d, &fd);
    assert_true(pid >= 0);
    if (pid == 0) {
        int sig = 0;
        char report[64];
        prctl(PR_GET_PDEATHSIG, &sig);
        snprintf(report, sizeof report, "%d%d%d%d%d%d%d", sig == SIGKILL,
                 disposition_is(SIGTERM, SIG_DFL), disposition_is(SIGINT, SIG_IGN),
                 disposition_is(SIGCHLD, SIG_DFL), fcntl(bt_svc_wake_fd(), F_GETFD) == -1,
                 fcntl(probe[0], F_GETFD) == -1, fcntl(probe[1], F_GETFD) == -1);
        (void)!write(fd, report, strlen(report));
        _exit(0);
    }
    assert_true(fcntl(fd, F_GETFL) & O_NONBLOCK);
    assert_true(fcntl(fd, F_GETFD) & FD_CLOEXEC);
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
    char got[64] = "";
    assert_int_equal(read(fd, got, sizeof got - 1), 7);
    /* pdeathsig, SIGTERM, SIGINT, SIGCHLD, wake pipe closed, health fds closed */
    assert_string_equal(got, "1111111");
    close(fd);
    close(probe[0]);
    close(probe[1]);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(child_state),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
