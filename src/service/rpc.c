/* Unary BatonService calls: token, framing, the call, the answer decoded. */
#include "service/svc.h"
#include "bt/log.h"
#include "bt/pb_check.h"

#include <protobuf-c/protobuf-c.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int bt_svc_pack_framed(const ProtobufCMessage *req, bt_buf *out)
{
    size_t n = protobuf_c_message_get_packed_size(req);
    uint8_t *bytes = malloc(n ? n : 1);
    if (!bytes)
        return -1;
    protobuf_c_message_pack(req, bytes);
    int rc = bt_grpc_frame_append(out, bytes, n);
    free(bytes);
    return rc;
}

ProtobufCMessage *bt_svc_decode(const ProtobufCMessageDescriptor *d, const unsigned char *msg,
                                size_t n, char *why, size_t whysz)
{
    char err[256];
    ProtobufCMessage *m = bt_pb_decode(d, msg, n, err, sizeof err);
    if (!m)
        snprintf(why, whysz, "the answer does not decode as %s: %s", d->name, err);
    return m;
}

int bt_svc_rpc(bt_svc_client *cl, const char *method, const ProtobufCMessage *req,
               const ProtobufCMessageDescriptor *resp_desc, double deadline,
               ProtobufCMessage **resp, char *err, size_t errsz)
{
    const char *auth;
    char path[128];
    bt_buf framed = {0};
    *resp = NULL;
    int code = bt_svc_token_get(&cl->token, &auth, err, errsz);
    if (code != BT_GRPC_OK)
        return code;
    if (bt_svc_pack_framed(req, &framed) != 0) {
        snprintf(err, errsz, "%s: out of memory", method);
        return BT_GRPC_INTERNAL;
    }
    snprintf(path, sizeof path, BT_SVC_PATH "%s", method);
    bt_grpc_membody mem = {&framed, 0};
    bt_grpc_body body = bt_grpc_body_mem(&mem);
    bt_grpc_result r;
    /* Polls and heartbeats give way to a stop at once. A FinishTask under
     * way when the stop came gets the stop budget; one sent during the stop
     * has its own short deadline (finish.c). */
    bool (*abort_check)(void) = bt_svc_stopping;
    if (strcmp(method, "FinishTask") == 0)
        abort_check = bt_svc_stopping() ? NULL : bt_svc_stop_overdue;
    bt_grpc_conn_set_abort(cl->conn, abort_check);
    code = bt_grpc_call(cl->conn, path, auth, &body, deadline, &r);
    bt_grpc_conn_set_abort(cl->conn, NULL);
    bt_buf_free(&framed);
    if (code == BT_GRPC_UNAUTHENTICATED)
        bt_svc_token_drop(&cl->token); /* the next call asks for a new one */
    if (code == BT_GRPC_OK && cl->raw_answer) {
        bt_buf_clear(cl->raw_answer);
        if (bt_buf_append(cl->raw_answer, r.msg, r.msg_len) != 0)
            code = bt_grpc_result_set(&r, BT_GRPC_INTERNAL, "out of memory");
    }
    if (code == BT_GRPC_OK) {
        *resp = bt_svc_decode(resp_desc, r.msg, r.msg_len, r.message, sizeof r.message);
        if (!*resp)
            code = BT_GRPC_INTERNAL;
    }
    if (code != BT_GRPC_OK)
        snprintf(err, errsz, "%s: code %d: %s", method, code, r.message);
    bt_debug("service: %s -> %d", method, code);
    return code;
}
