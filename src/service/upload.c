/* UploadAsset: the c1z streamed as gRPC messages, hashed once beforehand. On
 * any failure the whole stream is redone from the start (same digest). */
#include "service/svc.h"
#include "bt/clock.h"
#include "bt/log.h"
#include "c1/connectorapi/baton/v1/baton.pb-c.h"

#include <curl/curl.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define CHUNK ((size_t)512 << 10)

typedef C1__Connectorapi__Baton__V1__BatonServiceUploadAssetRequest UploadReq;

typedef struct {
    FILE *f;
    long long file_size, file_left;
    bt_buf head, tail; /* framed metadata / eof */
    size_t head_at, tail_at;
    unsigned char *frame;   /* the current framed data message */
    size_t frame_len, frame_at;
    bool failed;
} stream;

/* The SHA-256 of the file at path: one pass, before the first attempt. */
static int sha256_file(const char *path, unsigned char digest[32])
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return -1;
    EVP_MD_CTX *ctx = EVP_MD_CTX_new();
    unsigned char buf[65536];
    size_t n;
    unsigned len = 0;
    int ok = ctx && EVP_DigestInit_ex(ctx, EVP_sha256(), NULL) == 1;
    while (ok && (n = fread(buf, 1, sizeof buf, f)) > 0)
        ok = EVP_DigestUpdate(ctx, buf, n) == 1;
    ok = ok && !ferror(f) && EVP_DigestFinal_ex(ctx, digest, &len) == 1 && len == 32;
    EVP_MD_CTX_free(ctx);
    fclose(f);
    return ok ? 0 : -1;
}

static int frame_msg(const UploadReq *m, bt_buf *out)
{
    return bt_svc_pack_framed(&m->base, out);
}

static int build_ends(stream *s, const char *host_id, const char *task_id,
                      const unsigned char digest[32])
{
    UploadReq m = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__INIT;
    C1__Connectorapi__Baton__V1__BatonServiceUploadAssetRequest__UploadMetadata md =
        C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__UPLOAD_METADATA__INIT;
    C1__Connectorapi__Baton__V1__BatonServiceUploadAssetRequest__UploadEOF eof =
        C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__UPLOAD_EOF__INIT;
    md.host_id = (char *)host_id;
    md.task_id = (char *)task_id;
    m.msg_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__MSG_METADATA;
    m.metadata = &md;
    if (frame_msg(&m, &s->head) != 0)
        return -1;
    eof.sha256_checksum.data = (uint8_t *)digest;
    eof.sha256_checksum.len = 32;
    m.msg_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__MSG_EOF;
    m.eof = &eof;
    return frame_msg(&m, &s->tail);
}

/* Bytes of one framed data message of n payload bytes. */
static size_t data_frame_size(size_t n)
{
    UploadReq m = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__INIT;
    C1__Connectorapi__Baton__V1__BatonServiceUploadAssetRequest__UploadData d =
        C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__UPLOAD_DATA__INIT;
    d.data.len = n;
    m.msg_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__MSG_DATA;
    m.data = &d;
    return 5 + c1__connectorapi__baton__v1__baton_service_upload_asset_request__get_packed_size(&m);
}

static long long total_size(const stream *s)
{
    long long full = s->file_size / (long long)CHUNK, rest = s->file_size % (long long)CHUNK;
    long long t = (long long)s->head.len + (long long)s->tail.len;
    t += full * (long long)data_frame_size(CHUNK);
    return rest ? t + (long long)data_frame_size((size_t)rest) : t;
}

/* Read the next chunk of the file and frame it as a data message. */
static int next_frame(stream *s)
{
    size_t want = s->file_left < (long long)CHUNK ? (size_t)s->file_left : CHUNK;
    unsigned char *chunk = malloc(want);
    bt_buf out = {0};
    if (!chunk || fread(chunk, 1, want, s->f) != want) {
        free(chunk);
        return -1; /* the file changed under us: the checksum would be wrong */
    }
    UploadReq m = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__INIT;
    C1__Connectorapi__Baton__V1__BatonServiceUploadAssetRequest__UploadData d =
        C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__UPLOAD_DATA__INIT;
    d.data.data = chunk;
    d.data.len = want;
    m.msg_case = C1__CONNECTORAPI__BATON__V1__BATON_SERVICE_UPLOAD_ASSET_REQUEST__MSG_DATA;
    m.data = &d;
    int rc = frame_msg(&m, &out);
    free(chunk);
    free(s->frame);
    s->frame = (unsigned char *)out.data;
    s->frame_len = out.len;
    s->frame_at = 0;
    s->file_left -= (long long)want;
    return rc;
}

static size_t copy_from(const char *src, size_t len, size_t *at, char *out, size_t n)
{
    size_t k = len - *at < n ? len - *at : n;
    memcpy(out, src + *at, k);
    *at += k;
    return k;
}

static size_t stream_read(void *ud, char *out, size_t n)
{
    stream *s = ud;
    if (s->head_at < s->head.len)
        return copy_from(s->head.data, s->head.len, &s->head_at, out, n);
    if (s->frame_at == s->frame_len && s->file_left > 0 && next_frame(s) != 0) {
        s->failed = true;
        return CURL_READFUNC_ABORT;
    }
    if (s->frame_at < s->frame_len)
        return copy_from((const char *)s->frame, s->frame_len, &s->frame_at, out, n);
    return copy_from(s->tail.data, s->tail.len, &s->tail_at, out, n);
}

static void stream_free(stream *s)
{
    if (s->f)
        fclose(s->f);
    bt_buf_free(&s->head);
    bt_buf_free(&s->tail);
    free(s->frame);
}

static int open_stream(stream *s, const char *host_id, const char *task_id, const char *path,
                       const unsigned char digest[32], char *err, size_t errsz)
{
    struct stat st;
    memset(s, 0, sizeof *s);
    s->f = fopen(path, "rb");
    if (!s->f || fstat(fileno(s->f), &st) != 0) {
        snprintf(err, errsz, "UploadAsset: cannot read the sync file");
        return -1;
    }
    s->file_size = s->file_left = (long long)st.st_size;
    if (build_ends(s, host_id, task_id, digest) != 0) {
        snprintf(err, errsz, "UploadAsset: out of memory");
        return -1;
    }
    return 0;
}

/* An OK answer must carry an UploadAssetResponse that decodes: anything
 * else is a failed upload (INTERNAL), retried like one. */
static int check_answer(const bt_grpc_result *r, char *why, size_t whysz)
{
    ProtobufCMessage *m = bt_svc_decode(&c1__connectorapi__baton__v1__baton_service_upload_asset_response__descriptor,
                                        r->msg, r->msg_len, why, whysz);
    if (!m)
        return BT_GRPC_INTERNAL;
    protobuf_c_message_free_unpacked(m, NULL);
    return BT_GRPC_OK;
}

/* One attempt: metadata, 512 KiB data messages, eof with the digest. */
static int upload_once(bt_svc_client *cl, const char *task_id, const char *path,
                       const unsigned char digest[32], char *err, size_t errsz)
{
    const char *auth;
    stream s;
    int code = bt_svc_token_get(&cl->token, &auth, err, errsz);
    if (code != BT_GRPC_OK)
        return code;
    if (open_stream(&s, cl->host_id, task_id, path, digest, err, errsz) != 0) {
        stream_free(&s);
        return BT_GRPC_INTERNAL;
    }
    bt_grpc_body body = {stream_read, &s, total_size(&s)};
    bt_grpc_result r;
    code = bt_grpc_call(cl->conn, BT_SVC_PATH "UploadAsset", auth, &body, 0, &r);
    if (s.failed)
        snprintf(r.message, sizeof r.message, "the sync file changed while uploading");
    else if (code == BT_GRPC_OK)
        code = check_answer(&r, r.message, sizeof r.message);
    if (code == BT_GRPC_UNAUTHENTICATED)
        bt_svc_token_drop(&cl->token);
    if (code != BT_GRPC_OK)
        snprintf(err, errsz, "UploadAsset: code %d: %s", code, r.message);
    else
        bt_info("service: uploaded %lld bytes for task %s", s.file_size, task_id);
    stream_free(&s);
    return code;
}

int bt_svc_upload(bt_svc_client *cl, const char *task_id, const char *path, char *err,
                  size_t errsz)
{
    unsigned char digest[32];
    int code = BT_GRPC_OK;
    if (sha256_file(path, digest) != 0) {
        snprintf(err, errsz, "UploadAsset: cannot hash the sync file");
        return BT_GRPC_INTERNAL;
    }
    for (int attempt = 1; attempt <= 3; attempt++) {
        code = upload_once(cl, task_id, path, digest, err, errsz);
        if (code == BT_GRPC_OK)
            break;
        bt_warn("service: upload attempt %d of 3 failed: %s", attempt, err);
        if (attempt == 2)
            bt_clock_sleep(1); /* 0 s after the first failure, 1 s after the second */
    }
    return code;
}
