/* Heartbeats of running syncs: at next_heartbeat intervals (0 -> 30 s, else
 * clamped to [1, 300] s); cancelled: true, or 9 failures in a row, cancel. */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/log.h"

#include <protobuf-c/protobuf-c.h>

#define HEARTBEAT_FAILURE_LIMIT 9
#define HEARTBEAT_DEADLINE 30.0 /* seconds; a stalled server must not hold the loop */

int bt_svc_heartbeat(bt_svc_daemon *d, const char *task_id, double *interval, bool *cancelled)
{
    ProtobufCMessage *m;
    char err[1024];
    SvcHeartbeatReq req = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_HEARTBEAT_REQUEST__INIT;
    req.host_id = d->set.host_id;
    req.task_id = (char *)task_id;
    *cancelled = false;
    int code = bt_svc_rpc(&d->client, "Heartbeat", &req.base,
                          SVC_DESC(baton_service_heartbeat_response), HEARTBEAT_DEADLINE, &m, err,
                          sizeof err);
    if (code != BT_GRPC_OK) {
        bt_warn("service: heartbeat for task %s failed: %s", task_id, err);
        return code;
    }
    SvcHeartbeatResp *r = (SvcHeartbeatResp *)m;
    double next = r->next_heartbeat ? (double)r->next_heartbeat->seconds +
                                          r->next_heartbeat->nanos / 1e9 : 0;
    *interval = bt_svc_heartbeat_interval(next);
    *cancelled = r->cancelled;
    protobuf_c_message_free_unpacked(m, NULL);
    return BT_GRPC_OK;
}

static void beat(bt_svc_daemon *d, bt_svc_running *t)
{
    bool cancelled;
    double interval = t->heartbeat_interval;
    int code = bt_svc_heartbeat(d, t->task_id, &interval, &cancelled);
    t->next_heartbeat = bt_clock_monotonic() + (code == BT_GRPC_OK ? interval : t->heartbeat_interval);
    if (code == BT_GRPC_OK) {
        t->heartbeat_interval = interval;
        t->heartbeat_failures = 0;
        if (cancelled)
            bt_svc_cancel(d, t, "task cancelled by ConductorOne", 2);
    } else if (++t->heartbeat_failures >= HEARTBEAT_FAILURE_LIMIT)
        bt_svc_cancel(d, t, "task failed heartbeat", 2);
}

void bt_svc_heartbeats_due(bt_svc_daemon *d)
{
    for (int i = 0; i < d->n_tasks; i++) {
        bt_svc_running *t = &d->tasks[i];
        if (t->kind == BT_TASK_SYNC && !t->cancel_reason && t->pid > 0 &&
            bt_clock_monotonic() >= t->next_heartbeat)
            beat(d, t);
    }
}
