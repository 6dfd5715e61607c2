/* Pacers shared between processes: sends made by forked task processes count
 * in the daemon's window, so together they stay within the per-minute limit.
 * Runs on the fake clock (inherited across fork), so nothing really waits. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <sys/wait.h>
#include <unistd.h>

#include "bt/http.h"
#include "lua_fixture.h"

static void spend_in_child(bt_http_pacer *p, int sends)
{
    pid_t pid = fork();
    if (pid == 0) {
        double slept = 0;
        for (int i = 0; i < sends; i++)
            slept += bt_http_pacer_wait(p);
        _exit(slept == 0 ? 0 : 1); /* within the burst: no wait */
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
}

static void children_share_one_window(void **state)
{
    (void)state;
    fake_clock fc = {.now = 1000};
    fake_clock_install(&fc);
    bt_http_shared_pacers *s = bt_http_pacers_share();
    assert_non_null(s);
    bt_http_pacer *reads = bt_http_shared_reads(s);
    bt_http_pacer_set(reads, 4); /* 4 a minute */
    spend_in_child(reads, 2);
    spend_in_child(reads, 2);
    /* Setting the same rate again (each process configures) keeps the window. */
    bt_http_pacer_set(reads, 4);
    /* The two processes used the whole burst: the daemon's next send waits. */
    assert_true(bt_http_pacer_wait(reads) == 60.0);
    /* A different rate starts afresh. */
    bt_http_pacer_set(reads, 8);
    assert_true(bt_http_pacer_wait(reads) == 0);
    fake_clock_remove();
}

static void unshared_pacers_do_not_see_children(void **state)
{
    (void)state;
    fake_clock fc = {.now = 1000};
    fake_clock_install(&fc);
    bt_http_pacer own = {0};
    bt_http_pacer_set(&own, 4);
    spend_in_child(&own, 2);
    spend_in_child(&own, 2);
    assert_true(bt_http_pacer_wait(&own) == 0); /* what sharing is for */
    fake_clock_remove();
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(children_share_one_window),
        cmocka_unit_test(unshared_pacers_do_not_see_children),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
