/* FinishTask: sent once, never retried; if it fails ConductorOne times the
 * task out. 30 s deadline; 1 s while the daemon stops, and one under way
 * when the stop came is given up once the stop budget is spent (rpc.c), so
 * a stalled server cannot hold up the exit. */
#include "service/svc.h"
#include "bt/log.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static double deadline(void) { return bt_svc_stopping() ? 1.0 : 30.0; }

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

/* The request's task_id as bytes: field 2 sent as an unknown field (its
 * data is the wire value: length varint, then the bytes), since protobuf-c
 * packs a char * only up to its first NUL. -1 when out of memory. */
static int set_id_bytes(SvcFinishReq *req, ProtobufCMessageUnknownField *f, const uint8_t *id,
                        size_t len)
{
    uint8_t *wire = malloc(len + 10);
    if (!wire)
        return -1;
    size_t n = 0;
    for (size_t v = len; ; v >>= 7) {
        wire[n++] = (uint8_t)((v & 0x7F) | (v >= 0x80 ? 0x80 : 0));
        if (v < 0x80)
            break;
    }
    memcpy(wire + n, id, len);
    req->task_id = (char *)""; /* proto3: an empty string is not sent */
    f->tag = 2;
    f->wire_type = PROTOBUF_C_WIRE_TYPE_LENGTH_PREFIXED;
    f->len = n + len;
    f->data = wire;
    req->base.n_unknown_fields = 1;
    req->base.unknown_fields = f;
    return 0;
}

static int finish_error(bt_svc_daemon *d, const char *task_id, const uint8_t *id_bytes,
                        size_t id_len, int code, const char *text, bool non_retryable)
{
    SvcFinishReq req = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__INIT;
    ProtobufCMessageUnknownField id_field = {0};
    SvcFinishError e = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__ERROR__INIT;
    Google__Rpc__Status st = GOOGLE__RPC__STATUS__INIT;
    char shown[2048];
    bt_svc_public_text(text, shown, sizeof shown);
    st.code = code;
    st.message = shown;
    e.non_retryable = non_retryable;
    req.task_id = (char *)task_id;
    if (id_bytes && set_id_bytes(&req, &id_field, id_bytes, id_len) != 0)
        return BT_GRPC_INTERNAL;
    req.status = &st;
    req.final_state_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_FINISH_TASK_REQUEST__FINAL_STATE_ERROR;
    req.error = &e;
    bt_warn("service: task %s failed (code %d%s): %s", task_id, code,
            non_retryable ? ", not retryable" : "", text);
    int rc = send_finish(d, &req);
    free(id_field.data);
    return rc;
}

int bt_svc_finish_error(bt_svc_daemon *d, const char *task_id, int code, const char *text,
                        bool non_retryable)
{
    return finish_error(d, task_id, NULL, 0, code, text, non_retryable);
}

int bt_svc_finish_error_bytes(bt_svc_daemon *d, const uint8_t *id, size_t id_len, int code,
                              const char *text, bool non_retryable)
{
    char shown[BT_SVC_TASK_ID_MAX + 32];
    snprintf(shown, sizeof shown, "%.*s (cut at a NUL byte)", BT_SVC_TASK_ID_MAX, (const char *)id);
    return finish_error(d, shown, id, id_len, code, text, non_retryable);
}

/* The response Any and, per the SDK, a copy of its annotations beside it. */
static void set_response(SvcFinishSuccess *s, Google__Protobuf__Any *any, const char *type_url,
                         const bt_buf *value)
{
    any->type_url = (char *)type_url;
    any->value.data = (uint8_t *)value->data;
    any->value.len = value->len;
    s->response = any;
}

int bt_svc_finish_success(bt_svc_daemon *d, const char *task_id, const char *type_url,
                          const bt_buf *value)
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
