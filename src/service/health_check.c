/* The /health check, asynchronous: the script's `validate` runs in a task
 * process (30 s at most) while the daemon goes on polling and heartbeating;
 * the probes that asked meanwhile get the answer when it ends. The result is
 * cached for 60 s, so probes do not spend the API's read budget. */
#include "service/health.h"
#include "bt/prim.h"
#include "bt/clock.h"
#include "bt/log.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define HEALTH_CACHE_SECONDS 60.0
#define HEALTH_TIMEOUT_SECONDS 30.0

/* In the check process: validate(), then the failure text (empty: healthy). */
static void check_child(bt_svc_daemon *d, int fd)
{
    bt_svc_outcome out;
    bt_contract c;
    memset(&out, 0, sizeof out);
    bt_host *h = bt_svc_child_host(d, &c, &out);
    if (h) {
        lua_State *L = bt_host_lua(h);
        bt_host_error herr;
        bt_contract_push_function(h, &c, "validate");
        if (!lua_isfunction(L, -1))
            snprintf(out.text, sizeof out.text, "the connector script has no validate function");
        else if (bt_config_set_readable(true), bt_host_call(h, 0, 2, &herr) != 0)
            bt_log_redact(herr.message, out.text, sizeof out.text);
        else if (!lua_toboolean(L, -2))
            bt_log_redact(luaL_tolstring(L, -1, NULL), out.text, sizeof out.text);
    }
    (void)!write(fd, out.text, strlen(out.text));
    _exit(out.text[0] ? 1 : 0);
}

static void start_check(bt_svc_daemon *d, bt_svc_health *h)
{
    int fd;
    pid_t pid = bt_svc_fork_task_process(d, &fd);
    if (pid == 0)
        check_child(d, fd);
    if (pid < 0) {
        bt_svc_health_store(h, false, "cannot start the check process");
        return;
    }
    h->check_pid = pid;
    h->check_fd = fd;
    h->check_ended = false;
    h->check_len = 0;
    h->check_deadline = bt_clock_monotonic() + HEALTH_TIMEOUT_SECONDS;
}

bool bt_svc_health_fresh(const bt_svc_health *h)
{
    return h->checked_at > 0 && bt_clock_monotonic() - h->checked_at <= HEALTH_CACHE_SECONDS;
}

void bt_svc_health_want_check(bt_svc_daemon *d, bt_svc_health *h)
{
    if (h->check_pid <= 0)
        start_check(d, h);
}

bool bt_svc_health_reaped(bt_svc_health *h, pid_t pid, int status)
{
    if (!h || pid != h->check_pid)
        return false;
    h->check_ended = true;
    h->check_status = status;
    return true;
}

static void read_output(bt_svc_health *h)
{
    ssize_t n;
    while (h->check_fd >= 0 && h->check_len < sizeof h->check_out - 1 &&
           (n = read(h->check_fd, h->check_out + h->check_len, sizeof h->check_out - 1 - h->check_len)) > 0)
        h->check_len += (size_t)n;
    h->check_out[h->check_len] = '\0';
}

static void end_check(bt_svc_health *h, bool healthy, const char *why)
{
    if (h->check_fd >= 0)
        close(h->check_fd);
    h->check_fd = -1;
    h->check_pid = 0;
    bt_svc_health_store(h, healthy, why);
}

void bt_svc_health_poll(bt_svc_daemon *d)
{
    bt_svc_health *h = d->health;
    int status;
    if (!h || h->check_pid <= 0)
        return;
    read_output(h);
    if (!h->check_ended && waitpid(h->check_pid, &status, WNOHANG) == h->check_pid)
        bt_svc_health_reaped(h, h->check_pid, status);
    if (h->check_ended) {
        read_output(h);
        bool ok = WIFEXITED(h->check_status) && WEXITSTATUS(h->check_status) == 0;
        end_check(h, ok, h->check_len ? h->check_out : "the check process failed");
    } else if (bt_clock_monotonic() > h->check_deadline) {
        kill(h->check_pid, SIGKILL);
        waitpid(h->check_pid, &status, 0);
        end_check(h, false, "the check took longer than 30 s");
    } else
        return;
    bt_svc_health_answer_waiting(h);
}
