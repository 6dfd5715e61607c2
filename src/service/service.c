/* Service mode from start to exit: credentials, settings, the start-up Hello
 * (retried with backoff, fatal on permanent codes), the poll loop, shutdown. */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/graphql.h"
#include "bt/log.h"
#include "bt/pb_check.h"
#include "bt/service.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SHUTDOWN_GRACE 10.0 /* seconds a provisioning task may still take */
/* Deadlines of the calls the loop waits on: a stalled or trickling server
 * must not hold the single-threaded daemon (heartbeats, reaping, probes). */
#define HELLO_DEADLINE 60.0
#define GET_TASK_DEADLINE 30.0 /* at most; less when a heartbeat is due sooner */

static int parse_credentials(const bt_cli *cli, bt_svc_creds *c)
{
    const char *id = bt_cli_get(cli, BT_FLAG_CLIENT_ID), *secret = bt_cli_get(cli, BT_FLAG_CLIENT_SECRET);
    char err[256];
    memset(c, 0, sizeof *c);
    if (!id || !*id || !secret || !*secret) {
        fprintf(stderr, "error: service mode needs both --client-id and --client-secret\n");
        return -1;
    }
    bt_log_add_secret(secret);
    if (bt_svc_parse_client_id(id, c, err, sizeof err) != 0 ||
        bt_svc_parse_client_secret(secret, c, err, sizeof err) != 0) {
        fprintf(stderr, "error: %s\n", err);
        bt_svc_creds_free(c);
        return -1;
    }
    return 0;
}

int bt_service_check_credentials(const bt_cli *cli)
{
    bt_svc_creds c;
    if (parse_credentials(cli, &c) != 0)
        return -1;
    bt_svc_creds_free(&c);
    return 0;
}

int bt_svc_send_hello(bt_svc_daemon *d, const char *task_id, char *err, size_t errsz)
{
    ProtobufCMessage *resp;
    d->hello.task_id = (char *)task_id;
    int code = bt_svc_rpc(&d->client, "Hello", &d->hello.base, SVC_DESC(baton_service_hello_response),
                          HELLO_DEADLINE, &resp, err, errsz);
    d->hello.task_id = (char *)"";
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    return code;
}

/* The blocking start-up Hello: 0 when it succeeded, else the exit status. */
static int startup_hello(bt_svc_daemon *d)
{
    char err[1024];
    for (int failures = 1;; failures++) {
        int code = bt_svc_send_hello(d, "", err, sizeof err);
        if (code == BT_GRPC_OK)
            return 0;
        if (bt_grpc_code_is_permanent(code)) {
            fprintf(stderr, "error: ConductorOne refused the connector: %s\n", err);
            return 1;
        }
        double wait = bt_svc_hello_backoff(failures), until = bt_clock_monotonic() + wait;
        bt_warn("service: Hello failed (%s); retrying in %.0f s", err, wait);
        while (!bt_svc_stopping() && bt_clock_monotonic() < until)
            bt_svc_wait(d, until - bt_clock_monotonic());
        if (bt_svc_stopping())
            return 0;
    }
}

static char *user_agent(const bt_svc_creds *c)
{
    size_t n = strlen(c->client_name) + 128;
    char *ua = malloc(n);
    if (ua)
        snprintf(ua, n, "%s baton-sdk/v0.25.0 " BT_PROGRAM "/" BT_VERSION " (libcurl)",
                 c->client_name);
    return ua;
}

static int setup_client(bt_svc_daemon *d)
{
    d->client.host_id = d->set.host_id;
    d->client.user_agent = user_agent(&d->creds);
    d->client.conn = d->client.user_agent ? bt_grpc_conn_new(d->set.api_host, d->client.user_agent)
                                          : NULL;
    if (!d->client.conn || bt_svc_token_init(&d->client.token, &d->creds, d->set.api_host) != 0) {
        fprintf(stderr, "error: cannot set up the ConductorOne client (out of memory)\n");
        return -1;
    }
    return 0;
}

static int setup(bt_svc_daemon *d, bt_host *h, const bt_contract *c, const bt_cli *cli)
{
    char err[512];
    d->host = h;
    d->contract = c;
    d->cli = cli;
    bt_arena_init(&d->arena, 0);
    if (parse_credentials(cli, &d->creds) != 0 || bt_svc_settings_load(&d->set, cli, &d->creds) != 0)
        return -1;
    if (bt_svc_hello_build(&d->hello, h, c, d->set.host_id, &d->arena) != 0)
        return fprintf(stderr, "error: cannot build the Hello (out of memory)\n"), -1;
    if (setup_client(d) != 0 || bt_svc_signals_install() != 0)
        return -1;
    d->pacers = bt_http_pacers_share();
    if (d->pacers)
        bt_graphql_share_pacing(bt_http_shared_reads(d->pacers), bt_http_shared_writes(d->pacers));
    if (d->set.health && !(d->health = bt_svc_health_start(d, err, sizeof err)))
        return fprintf(stderr, "error: health check server: %s\n", err), -1;
    return 0;
}

static void teardown(bt_svc_daemon *d)
{
    bt_svc_health_free(d->health);
    bt_grpc_conn_free(d->client.conn);
    bt_svc_token_free(&d->client.token);
    free(d->client.user_agent);
    bt_svc_creds_free(&d->creds);
    bt_svc_settings_free(&d->set);
    bt_arena_free(&d->arena);
}

static double duration_seconds(const Google__Protobuf__Duration *d)
{
    return d ? (double)d->seconds + d->nanos / 1e9 : 0;
}

/* GetTask's deadline: GET_TASK_DEADLINE, or the time until the next
 * heartbeat of a running sync when that is sooner, but at least 1 s. */
double bt_svc_get_task_deadline(const bt_svc_daemon *d, double now)
{
    double deadline = GET_TASK_DEADLINE;
    for (int i = 0; i < d->n_tasks; i++) {
        const bt_svc_running *t = &d->tasks[i];
        if (t->kind == BT_TASK_SYNC && !t->cancel_reason && t->pid > 0 &&
            t->next_heartbeat - now < deadline)
            deadline = t->next_heartbeat - now;
    }
    return deadline < 1 ? 1 : deadline;
}

/* A task id as sent holds a NUL byte (protobuf-c's char * stops at it): the
 * id's bytes, else NULL. raw is the GetTask answer. */
static const uint8_t *id_with_nul(const bt_http_buf *raw, size_t *len)
{
    const uint8_t *task, *id;
    size_t task_len;
    if (bt_pb_field_bytes((const uint8_t *)raw->data, raw->len, 1, &task, &task_len) &&
        bt_pb_field_bytes(task, task_len, 1, &id, len) && memchr(id, 0, *len))
        return id;
    return NULL;
}

/* A task with a NUL byte in any string field (its id, a resource or
 * principal id, ...) is refused whole before any handler runs: protobuf-c
 * cut the string there, so the task as decoded names another object. True
 * when it was refused. */
static bool refused_for_nul(bt_svc_daemon *d, const SvcTask *t, const bt_http_buf *raw)
{
    char why[512], text[600];
    size_t id_len;
    if (bt_pb_check_no_nul(SVC_DESC(baton_service_get_task_response), raw->data, raw->len, why,
                           sizeof why) == 0)
        return false;
    const uint8_t *id = id_with_nul(raw, &id_len);
    if (id) /* refused under its id as sent, like an overlong one */
        bt_svc_finish_error_bytes(d, id, id_len, BT_GRPC_INVALID_ARGUMENT,
                                  "task id holds a NUL byte", true);
    else if (!t->id || !t->id[0])
        bt_warn("service: ignoring a task without an id");
    else {
        snprintf(text, sizeof text, "malformed task: %s", why);
        bt_svc_finish_error(d, t->id, BT_GRPC_INVALID_ARGUMENT, text, true);
    }
    return true;
}

static void poll_once(bt_svc_daemon *d)
{
    ProtobufCMessage *m;
    char err[1024];
    bt_http_buf raw = {0};
    SvcGetTaskReq req = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_GET_TASK_REQUEST__INIT;
    req.host_id = d->set.host_id;
    d->client.raw_answer = &raw;
    int code = bt_svc_rpc(&d->client, "GetTask", &req.base,
                          SVC_DESC(baton_service_get_task_response),
                          bt_svc_get_task_deadline(d, bt_clock_monotonic()), &m, err, sizeof err);
    d->client.raw_answer = NULL;
    if (code != BT_GRPC_OK) {
        double wait = bt_svc_poll_error_wait(++d->poll_errors);
        bt_warn("service: GetTask failed (%s); polling again in %.0f s", err, wait);
        d->next_poll_at = bt_clock_monotonic() + wait;
        bt_http_buf_free(&raw);
        return;
    }
    SvcGetTaskResp *r = (SvcGetTaskResp *)m;
    d->poll_errors = 0;
    d->next_poll_at = bt_clock_monotonic() +
                      bt_svc_poll_wait(r->next_poll != NULL, duration_seconds(r->next_poll));
    if (r->task && !refused_for_nul(d, r->task, &raw))
        bt_svc_handle_task(d, r->task);
    protobuf_c_message_free_unpacked(m, NULL);
    bt_http_buf_free(&raw);
}

/* Seconds until the loop has something to do (at most 1 s). */
static double idle_time(const bt_svc_daemon *d)
{
    double now = bt_clock_monotonic(), next = now + 1;
    if (d->n_tasks < d->set.concurrency && d->next_poll_at < next)
        next = d->next_poll_at;
    for (int i = 0; i < d->n_tasks; i++)
        if (d->tasks[i].kind == BT_TASK_SYNC && d->tasks[i].next_heartbeat < next)
            next = d->tasks[i].next_heartbeat;
    return next - now;
}

static void poll_loop(bt_svc_daemon *d)
{
    d->next_poll_at = bt_clock_monotonic();
    while (!bt_svc_stopping()) {
        bt_svc_reap(d);
        bt_svc_heartbeats_due(d);
        bt_svc_kill_overdue(d);
        /* A slot is taken before GetTask: no polling while all are busy. */
        if (d->n_tasks < d->set.concurrency && bt_clock_monotonic() >= d->next_poll_at) {
            poll_once(d);
            continue;
        }
        bt_svc_wait(d, idle_time(d));
    }
}

/* Stop: syncs are cut short at once, provisioning tasks get a grace period;
 * every task still ends with a FinishTask. */
static void drain_tasks(bt_svc_daemon *d)
{
    if (d->n_tasks > 0)
        bt_info("service: stopping; ending %d task(s) in flight", d->n_tasks);
    for (int i = 0; i < d->n_tasks; i++) {
        bt_svc_running *t = &d->tasks[i];
        if (t->kind == BT_TASK_SYNC)
            bt_svc_cancel(d, t, "the connector is shutting down", BT_SVC_STOP_BUDGET / 2);
        else if (!t->kill_at)
            t->kill_at = bt_clock_monotonic() + SHUTDOWN_GRACE;
    }
    while (d->n_tasks > 0) {
        bt_svc_reap(d);
        bt_svc_heartbeats_due(d);
        bt_svc_kill_overdue(d);
        if (d->n_tasks > 0)
            bt_svc_wait(d, 0.2);
    }
}

int bt_service_run(bt_host *h, const bt_contract *c, const bt_cli *cli)
{
    static bt_svc_daemon d; /* large; one per process */
    memset(&d, 0, sizeof d);
    int rc = setup(&d, h, c, cli) == 0 ? 0 : 1;
    if (rc == 0) {
        bt_info("service: starting as host %s against %s (%d task slots, provisioning %s)",
                d.set.host_id, d.set.api_host, d.set.concurrency,
                d.set.provisioning ? "on" : "off");
        rc = startup_hello(&d);
    }
    if (rc == 0 && !bt_svc_stopping()) {
        d.set.ready = true;
        bt_info("service: connected to ConductorOne; polling for tasks");
        poll_loop(&d);
    }
    if (rc == 0) {
        drain_tasks(&d);
        bt_info("service: stopped");
    }
    teardown(&d);
    return rc;
}
