/* Task processes: each task runs in a forked child with a fresh Lua state and
 * its own curl handles, and reports one outcome through a pipe. The daemon
 * turns whatever happens to it (an outcome, a crash, a kill) into exactly one
 * FinishTask and removes the task's temporary directory. */
#include "bt/files.h"
#include "service/svc.h"
#include "bt/sink.h"
#include "bt/clock.h"
#include "bt/log.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

void bt_svc_remove_dir(const char *dir)
{
    if (!dir || !dir[0])
        return;
    DIR *dh = opendir(dir);
    struct dirent *e;
    char path[4352];
    while (dh && (e = readdir(dh)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    if (dh)
        closedir(dh);
    rmdir(dir);
}

/* Best effort: a child's or a client's end may be gone. */
static void write_all(int fd, const char *p, size_t n) { (void)bt_write_all(fd, p, n); }

pid_t bt_svc_fork_task_process(bt_svc_daemon *d, int *fd)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    fflush(NULL); /* nothing buffered is written twice */
    pid_t daemon_pid = getpid(), pid = fork();
    if (pid == 0) {
        close(p[0]);
        /* A daemon killed outright takes its tasks along: no orphan keeps
         * working (and spending the API budget) for nobody. If it died
         * before the line above, the parent is already someone else. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != daemon_pid)
            _exit(1);
        signal(SIGTERM, SIG_DFL);
        signal(SIGINT, SIG_IGN); /* the daemon decides how a task ends on Ctrl-C */
        signal(SIGCHLD, SIG_DFL);
        close(bt_svc_wake_fd());
        if (d->health)
            bt_svc_health_close_fds(d->health);
        *fd = p[1];
        return 0;
    }
    close(p[1]);
    if (pid < 0) {
        close(p[0]);
        return -1;
    }
    fcntl(p[0], F_SETFL, fcntl(p[0], F_GETFL) | O_NONBLOCK);
    fcntl(p[0], F_SETFD, FD_CLOEXEC);
    *fd = p[0];
    return pid;
}

static int g_outcome_fd = -1;

/* A task process the script CPU limit ends still tells its daemon why. */
static void report_stop(const char *reason)
{
    bt_svc_outcome_write_now(g_outcome_fd, BT_GRPC_UNKNOWN, reason);
}

/* The task process: never returns, never touches the daemon's connections. */
static void child_main(bt_svc_daemon *d, const SvcTask *task, const char *dir,
                       bt_svc_child_fn fn, int fd)
{
    bt_svc_outcome out;
    memset(&out, 0, sizeof out);
    g_outcome_fd = fd;
    bt_sink_set_stop_hook(report_stop);
    fn(d, task, dir, &out);
    bt_http_buf b = {0};
    if (bt_svc_outcome_encode(&out, &b) == 0)
        write_all(fd, b.data, b.len);
    fflush(NULL);
    _exit(0);
}

int bt_svc_spawn(bt_svc_daemon *d, const SvcTask *task, bt_svc_task_kind kind, const char *dir,
                 bt_svc_child_fn fn)
{
    int fd;
    if (d->n_tasks >= BT_SVC_MAX_TASKS || strlen(task->id) > BT_SVC_TASK_ID_MAX)
        return -1; /* a longer id is refused before (tasks.c) */
    pid_t pid = bt_svc_fork_task_process(d, &fd);
    if (pid == 0)
        child_main(d, task, dir, fn, fd);
    if (pid < 0)
        return -1;
    bt_svc_running *t = &d->tasks[d->n_tasks++];
    memset(t, 0, sizeof *t);
    t->pid = pid;
    t->fd = fd;
    t->kind = kind;
    snprintf(t->task_id, sizeof t->task_id, "%s", task->id);
    snprintf(t->dir, sizeof t->dir, "%s", dir);
    bt_debug("service: task %s runs in process %d", t->task_id, (int)pid);
    return 0;
}

static void drain(bt_svc_running *t)
{
    char buf[8192];
    for (;;) {
        ssize_t n = read(t->fd, buf, sizeof buf);
        if (n > 0 && bt_http_buf_append(&t->result, buf, (size_t)n) == 0)
            continue;
        if (n < 0 && errno == EINTR)
            continue;
        if (n == 0 || (n < 0 && errno != EAGAIN)) {
            close(t->fd);
            t->fd = -1;
        }
        return;
    }
}

void bt_svc_read_results(bt_svc_daemon *d)
{
    for (int i = 0; i < d->n_tasks; i++)
        if (d->tasks[i].fd >= 0)
            drain(&d->tasks[i]);
}

void bt_svc_cancel(bt_svc_daemon *d, bt_svc_running *t, const char *reason, double grace)
{
    (void)d;
    if (t->cancel_reason)
        return;
    bt_info("service: task %s: %s; stopping its process", t->task_id, reason);
    t->cancel_reason = reason;
    kill(t->pid, SIGTERM);
    t->kill_at = bt_clock_monotonic() + grace;
}

void bt_svc_kill_overdue(bt_svc_daemon *d)
{
    double now = bt_clock_monotonic();
    for (int i = 0; i < d->n_tasks; i++) {
        bt_svc_running *t = &d->tasks[i];
        if (t->kill_at > 0 && now >= t->kill_at) {
            if (!t->cancel_reason)
                t->cancel_reason = "the connector is shutting down";
            kill(t->pid, SIGKILL);
            t->kill_at = 0;
        }
    }
}
