/* FinishTask: sent once, never retried; if it fails ConductorOne times the
 * task out. 30 s deadline (5 s while the daemon stops, to bound shutdown). */
#include "service/svc.h"
#include "bt/log.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <string.h>

static double deadline(void) { return bt_svc_stopping() ? 5.0 : 30.0; }

static int send_finish(bt_svc_daemon *d, SvcFinishReq *req)
{
    ProtobufCMessage *resp;
    char err[1024];
    req->host_id = d->set.host_id;
    int code = bt_svc_rpc(&d->client, "FinishTask", &req->base,
                          SVC_DESC(baton_service_finish_task_response), deadline(), &resp, err,
                          sizeof err);
    if (resp)
        protobuf_c_message_free_unpacked(resp, NULL);
    if (code != BT_GRPC_OK)
        bt_warn("service: FinishTask for task %s failed (not retried): %s", req->task_id, err);
    return code;
}

int bt_svc_finish_error(bt_svc_daemon *d, const char *task_id, int code, const char *text,
                        bool non_retryable)
{
    SvcFinishReq req = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__INIT;
    SvcFinishError e = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__ERROR__INIT;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    char shown[2048];
    bt_svc_public_text(text, shown, sizeof shown);
    st.code = code;
    st.message = shown;
    e.non_retryable = non_retryable;
    req.task_id = (char *)task_id;
    req.status = &st;
    req.final_state_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__FINAL_STATE_ERROR;
    req.error = &e;
    bt_warn("service: task %s failed (code %d%s): %s", task_id, code,
            non_retryable ? ", not retryable" : "", text);
    return send_finish(d, &req);
}

/* The response Any and, per the SDK, a copy of its annotations beside it. */
static void set_response(SvcFinishSuccess *s, Google__Protobuf__Any *any, const char *type_url,
                         const bt_http_buf *value)
{
    any->type_url = (char *)type_url;
    any->value.data = (uint8_t *)value->data;
    any->value.len = value->len;
    s->response = any;
}

int bt_svc_finish_success(bt_svc_daemon *d, const char *task_id, const char *type_url,
                          const bt_http_buf *value)
{
    SvcFinishReq req = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__INIT;
    SvcFinishSuccess s = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__SUCCESS__INIT;
    Google__Protobuf__Any any = GOOGLE__PROTOBUF__ANY__INIT;
    if (type_url && type_url[0])
        set_response(&s, &any, type_url, value);
    req.task_id = (char *)task_id;
    req.final_state_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__FINAL_STATE_SUCCESS;
    req.success = &s;
    bt_info("service: task %s succeeded", task_id);
    return send_finish(d, &req);
}
