/* Core dumps are off unless BATON_ALLOW_CORE_DUMPS=1: checked in forked
 * children, since the flags cannot be turned back on in this process. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "bt/harden.h"

/* Bits a child reports through its exit status. */
enum { NOT_DUMPABLE = 1, CORE_SOFT_ZERO = 2, CORE_HARD_ZERO = 4, CALL_FAILED = 8 };

static int child_state(bool allow)
{
    pid_t pid = fork();
    assert_true(pid >= 0);
    if (pid == 0) {
        struct rlimit some = {4096, RLIM_INFINITY};
        setrlimit(RLIMIT_CORE, &some); /* may fail without privileges: soft then stays */
        prctl(PR_SET_DUMPABLE, 1L, 0L, 0L, 0L);
        int bits = bt_harden_core_dumps(allow) != 0 ? CALL_FAILED : 0;
        struct rlimit now;
        getrlimit(RLIMIT_CORE, &now);
        bits |= prctl(PR_GET_DUMPABLE, 0L, 0L, 0L, 0L) == 0 ? NOT_DUMPABLE : 0;
        bits |= now.rlim_cur == 0 ? CORE_SOFT_ZERO : 0;
        bits |= now.rlim_max == 0 ? CORE_HARD_ZERO : 0;
        _exit(bits);
    }
    int status;
    assert_int_equal(waitpid(pid, &status, 0), pid);
    assert_true(WIFEXITED(status));
    return WEXITSTATUS(status);
}

static void core_dumps_are_turned_off(void **state)
{
    (void)state;
    assert_int_equal(child_state(false), NOT_DUMPABLE | CORE_SOFT_ZERO | CORE_HARD_ZERO);
}

static void the_debug_opt_in_leaves_them_alone(void **state)
{
    (void)state;
    int bits = child_state(true);
    assert_int_equal(bits & (NOT_DUMPABLE | CORE_HARD_ZERO | CALL_FAILED), 0);
}

static void only_the_value_1_opts_in(void **state)
{
    (void)state;
    unsetenv(BT_ALLOW_CORE_DUMPS_ENV);
    assert_false(bt_harden_core_dumps_allowed());
    const char *no[] = {"", "0", "true", "yes", " 1", "11"};
    for (size_t i = 0; i < sizeof no / sizeof no[0]; i++) {
        setenv(BT_ALLOW_CORE_DUMPS_ENV, no[i], 1);
        assert_false(bt_harden_core_dumps_allowed());
    }
    setenv(BT_ALLOW_CORE_DUMPS_ENV, "1", 1);
    assert_true(bt_harden_core_dumps_allowed());
    unsetenv(BT_ALLOW_CORE_DUMPS_ENV);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(core_dumps_are_turned_off),
        cmocka_unit_test(the_debug_opt_in_leaves_them_alone),
        cmocka_unit_test(only_the_value_1_opts_in),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
