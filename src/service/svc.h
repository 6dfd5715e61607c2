/* Service mode internals: ConductorOne credentials, the access token, gRPC over
 * libcurl HTTP/2, the BatonService RPCs, tasks run in forked children and the
 * daemon loop. Nothing here knows the target system: tasks go through the
 * connector script's handlers. Secrets (the client secret, the JWK's d, the
 * access token) are never logged and never part of an error text. */
#ifndef BT_SERVICE_SVC_H
#define BT_SERVICE_SVC_H
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "bt/cli.h"
#include "bt/codec.h"
#include "bt/contract.h"
#include "bt/http.h"
#include "service/pb.h"

/* base64url (bt_b64url_*) and the JSON escaper are the codec's: bt/codec.h. */

/* ---- one member of a small JSON object (jmin.c, a sink of bt/json_read.h) ---- */

typedef enum { BT_JMIN_NONE = 0, BT_JMIN_STRING, BT_JMIN_NUMBER, BT_JMIN_OTHER } bt_jmin_type;
typedef struct {
    bt_jmin_type type;
    char *text; /* the decoded string, a number's text, "" for any other value */
    size_t len;
} bt_jmin_value;

/* Validate json as one object and fetch its member `key`: 1 found, 0 absent,
 * -1 malformed. The value is wiped and freed by bt_jmin_value_free. */
int bt_jmin_find(const char *json, size_t len, const char *key, bt_jmin_value *v);
void bt_jmin_value_free(bt_jmin_value *v);

/* ---- credentials (credentials.c) ---- */

typedef struct {
    char *client_id;   /* verbatim: JWT iss/sub and the client_id form field */
    char *client_name; /* before '@': only in the user agent */
    char *host;        /* tenant host, with :port when given */
    char *aud;         /* host without port: the JWT aud */
    char *kid;         /* the JWK's kid, NULL when absent */
    unsigned char seed[32]; /* Ed25519 private key (JWK d); wiped on free */
    unsigned char pub[32];  /* JWK x, checked against seed */
} bt_svc_creds;

int bt_svc_parse_client_id(const char *id, bt_svc_creds *c, char *err, size_t errsz);
int bt_svc_parse_client_secret(const char *secret, bt_svc_creds *c, char *err, size_t errsz);
void bt_svc_creds_free(bt_svc_creds *c);

/* ---- the client assertion (jws.c) ---- */

/* A compact JWS (EdDSA) for the token request, signed at `now` (epoch s).
 * malloc'd, NULL on failure. */
char *bt_svc_jws_assertion(const bt_svc_creds *c, long now);

/* ---- gRPC status codes and the policy around them (grpc_status.c) ---- */

enum {
    BT_GRPC_OK = 0, BT_GRPC_CANCELED = 1, BT_GRPC_UNKNOWN = 2, BT_GRPC_INVALID_ARGUMENT = 3,
    BT_GRPC_DEADLINE_EXCEEDED = 4, BT_GRPC_NOT_FOUND = 5, BT_GRPC_PERMISSION_DENIED = 7,
    BT_GRPC_FAILED_PRECONDITION = 9, BT_GRPC_UNIMPLEMENTED = 12, BT_GRPC_INTERNAL = 13,
    BT_GRPC_UNAVAILABLE = 14, BT_GRPC_DATA_LOSS = 15, BT_GRPC_UNAUTHENTICATED = 16
};

/* The gRPC code of a non-200 HTTP status. */
int bt_grpc_code_from_http(long http_status);
/* Codes on which the start-up Hello exits instead of retrying. */
bool bt_grpc_code_is_permanent(int code);
/* Decode a grpc-message value (percent-encoded) into out (NUL-terminated). */
void bt_grpc_message_decode(const char *in, size_t n, char *out, size_t outsz);
/* The grpc-timeout header value for `seconds` (at most 8 digits + unit). */
void bt_grpc_timeout_value(double seconds, char *out, size_t outsz);

/* ---- framing (grpc_frame.c) ---- */

/* Append one length-prefixed message (5-byte header + bytes). */
int bt_grpc_frame_append(bt_http_buf *b, const void *msg, size_t n);
/* Parse the single message of a unary response body. 1: msg and n set, 0: no
 * message, -1: malformed (compressed, truncated, or more than one). */
int bt_grpc_frame_single(const unsigned char *body, size_t len, const unsigned char **msg,
                         size_t *n);

/* ---- timing rules (grpc_status.c) ---- */

double bt_svc_poll_wait(bool has_next_poll, double next_poll); /* [0, 300] */
double bt_svc_poll_error_wait(int err_count);                  /* min(n^2, 60) */
double bt_svc_heartbeat_interval(double next_heartbeat);       /* 0 -> 30, else [1, 300] */
double bt_svc_hello_backoff(int failures);                     /* 1, 2, 4 ... 300 */

#endif

/* ---- gRPC calls over libcurl HTTP/2 (grpc_call.c) ---- */

typedef struct bt_grpc_conn bt_grpc_conn;

typedef struct {
    int code;          /* gRPC status; BT_GRPC_OK on success */
    char message[512]; /* grpc-message (decoded) or why the call failed */
    const unsigned char *msg; /* the response message (valid until the next call) */
    size_t msg_len;
} bt_grpc_result;

/* The request body, produced by a callback (UploadAsset) or from memory. */
typedef struct {
    size_t (*read)(void *ud, char *buf, size_t n); /* returns bytes, 0 at the end */
    void *ud;
    long long total; /* exact body length */
} bt_grpc_body;

/* What the header callback gathered (grpc_headers.c). */
typedef struct {
    bool grpc_content_type, has_status;
    int status;
    char message[512]; /* decoded grpc-message */
} bt_grpc_headers;

/* Set r's code and message (cut to fit); returns code. */
int bt_grpc_result_set(bt_grpc_result *r, int code, const char *msg);
/* Take one header or trailer line ("name: value\r\n"). grpc-status: digits
 * only; above 16 counts as UNKNOWN. */
void bt_grpc_headers_line(bt_grpc_headers *h, const char *line, size_t n);
/* The call's status: non-HTTP/2 and non-200 first, then content type,
 * grpc-status, and the single response message. Returns r->code. */
int bt_grpc_headers_result(const bt_grpc_headers *h, long http_status, bool http2,
                           const unsigned char *body, size_t len, bt_grpc_result *r);

/* authority: host[:port]; user_agent: the full header value. */
bt_grpc_conn *bt_grpc_conn_new(const char *authority, const char *user_agent);
void bt_grpc_conn_free(bt_grpc_conn *c);
/* While check() returns true, calls in progress give up (UNAVAILABLE); NULL
 * turns that off. Used so a hung poll cannot hold up a shutdown. */
void bt_grpc_conn_set_abort(bt_grpc_conn *c, bool (*check)(void));
/* One call of /<service>/<method>. auth: the authorization header value
 * (never logged). deadline: seconds for the whole call, 0 = none (a stall
 * of 60 s still ends it). Returns r->code. */
int bt_grpc_call(bt_grpc_conn *c, const char *path, const char *auth, const bt_grpc_body *body,
                 double deadline, bt_grpc_result *r);
/* A body read from memory (the framed request of a unary call). */
typedef struct {
    const bt_http_buf *buf;
    size_t at;
} bt_grpc_membody;
bt_grpc_body bt_grpc_body_mem(bt_grpc_membody *m);

/* ---- the access token (token.c) ---- */

typedef struct {
    const bt_svc_creds *creds;
    char *url;         /* https://<token host>/auth/v1/token */
    char *auth;        /* "Bearer <token>": the authorization value; wiped */
    double expires_at; /* monotonic seconds; see bt_svc_token_reuse */
    long fetches;      /* token POSTs made (for tests and logs) */
} bt_svc_token;

/* token_host: BATON_C1_API_HOST or the client id's host. */
int bt_svc_token_init(bt_svc_token *t, const bt_svc_creds *c, const char *token_host);
void bt_svc_token_free(bt_svc_token *t);
/* The cached authorization value, fetching a new token when needed. Returns a
 * gRPC code: OK, UNAUTHENTICATED (refused) or UNAVAILABLE (network, bad JSON);
 * err says why (never with a secret). */
int bt_svc_token_get(bt_svc_token *t, const char **auth, char *err, size_t errsz);
/* Forget the cached token (after an UNAUTHENTICATED call). */
void bt_svc_token_drop(bt_svc_token *t);
/* "Bearer" for bearer/empty, "Basic", "MAC", else verbatim (into out). */
void bt_svc_token_type(const char *type, char *out, size_t outsz);
/* The gRPC code of a non-200 token answer: 400/401/403 UNAUTHENTICATED
 * (permanent), anything else UNAVAILABLE (retried). */
int bt_svc_token_http_code(long http_status);
/* Seconds a token of expires_in is used: its life is 300 s when expires_in is
 * absent (0) or negative; used until 10 s before it ends when the life is over
 * 10 s, else for half of it (never a token POST per RPC). */
double bt_svc_token_reuse(long expires_in);
/* Parse a token answer body: 0 ok (*token, *type malloc'd, *expires_in),
 * else a gRPC code with err filled. */
int bt_svc_token_parse(const char *body, size_t len, char **token, char **type,
                       long *expires_in, char *err, size_t errsz);

/* ---- the BatonService client (rpc.c, upload.c) ---- */

struct ProtobufCMessage;
struct ProtobufCMessageDescriptor;

typedef struct {
    bt_grpc_conn *conn;
    bt_svc_token token;
    char *host_id;
    char *user_agent;
    bt_http_buf *raw_answer; /* set: bt_svc_rpc copies the answer's bytes here */
} bt_svc_client;

#define BT_SVC_PATH "/c1.connectorapi.baton.v1.BatonService/"

/* Append req, packed, as one gRPC message frame to out. 0, or -1 on out of memory. */
int bt_svc_pack_framed(const struct ProtobufCMessage *req, bt_http_buf *out);
/* Every message from the server is decoded here: the wire check of
 * bt/pb_check.h (depth, bounds, UTF-8), then protobuf-c. NULL with why filled. */
struct ProtobufCMessage *bt_svc_decode(const struct ProtobufCMessageDescriptor *d,
                                       const unsigned char *msg, size_t n, char *why,
                                       size_t whysz);
/* One unary RPC: pack req, call BT_SVC_PATH<method>, decode into *resp with
 * bt_svc_decode (free with protobuf_c_message_free_unpacked). Returns the gRPC
 * code; err is one line. deadline 0: none. */
int bt_svc_rpc(bt_svc_client *cl, const char *method, const struct ProtobufCMessage *req,
               const struct ProtobufCMessageDescriptor *resp_desc, double deadline,
               struct ProtobufCMessage **resp, char *err, size_t errsz);
/* UploadAsset of a file: metadata, 512 KiB data messages, eof with the
 * SHA-256 (hashed once); up to 3 attempts (waits 0 s, then 1 s). Returns the
 * gRPC code. */
int bt_svc_upload(bt_svc_client *cl, const char *task_id, const char *path, char *err,
                  size_t errsz);

/* ---- Hello contents (hello_info.c) ---- */


/* Fill the Hello request (build info, OS info with placeholders, connector
 * metadata from the contract) with memory from the arena. 0 on success. */
int bt_svc_hello_build(SvcHelloReq *req,
                       bt_host *h, const bt_contract *c, const char *host_id, bt_arena *a);
/* os-release value of key (unquoted) into out; "" when absent. */
void bt_svc_os_release(const char *text, const char *key, char *out, size_t outsz);
/* The connector metadata (metadata.c): capabilities per resource type,
 * credential details, account-creation schema. NULL when out of memory. */
C1__Connector__V2__ConnectorMetadata *bt_svc_metadata_build(bt_host *h, const bt_contract *c,
                                                            bt_arena *a);
/* The script's optional `account_creation_schema` list ({key, display_name,
 * required, description, placeholder, type = "string"|"bool"}, order = list
 * position) as the message; NULL when the script declares none. */
C1__Connector__V2__ConnectorAccountCreationSchema *bt_svc_account_schema(bt_host *h,
                                                                        const bt_contract *c,
                                                                        bt_arena *a);
/* external_link.c: the ExternalLink annotation on m when the script's
 * optional external_link() returns an https URL. -1 when out of memory. */
int bt_svc_external_link(bt_host *h, const bt_contract *c, bt_arena *a,
                         C1__Connector__V2__ConnectorMetadata *m);

/* ---- the daemon (service.c, settings.c, signals.c, loop.c, tasks.c,
 * heartbeat.c, finish.c, children.c, child_*.c, health.c) ---- */

#include <sys/types.h>

#define BT_SVC_MAX_TASKS 32
/* Longest task id kept for a running task (ConductorOne's are 27 characters);
 * a task with a longer one is refused (tasks.c), never cut short. */
#define BT_SVC_TASK_ID_MAX 63

typedef enum { BT_TASK_SYNC, BT_TASK_PROVISION } bt_svc_task_kind;

/* What a task process reports back through its pipe. */
typedef struct {
    int code;           /* gRPC code; BT_GRPC_OK on success */
    bool non_retryable;
    char text[1024];    /* status message on failure */
    char type_url[160]; /* the response Any (provisioning) */
    bt_http_buf value;
} bt_svc_outcome;

typedef struct {
    pid_t pid;
    int fd;              /* read end of the result pipe, -1 once at EOF */
    bt_http_buf result;  /* bytes read so far */
    bt_svc_task_kind kind;
    char task_id[BT_SVC_TASK_ID_MAX + 1];
    char dir[4096];      /* the task's temp directory ("" for none) */
    double next_heartbeat, heartbeat_interval;
    int heartbeat_failures;
    const char *cancel_reason; /* set: the task is being cut short */
    double kill_at;      /* monotonic: SIGKILL if still alive then (0: never) */
} bt_svc_running;

typedef struct {
    char *host_id, *api_host, *temp_dir, *scripts_dir;
    int concurrency;
    bool provisioning, health, ready;
    bool skip_full_sync; /* --skip-full-sync: refuse untargeted sync_full tasks */
    int health_port;
    char health_bind[64];
} bt_svc_settings;

typedef struct bt_svc_health bt_svc_health;

typedef struct {
    bt_svc_settings set;
    bt_svc_creds creds;
    bt_svc_client client;
    SvcHelloReq hello;
    bt_arena arena;
    bt_host *host;
    const bt_contract *contract;
    const bt_cli *cli;
    bt_http_shared_pacers *pacers;
    bt_svc_running tasks[BT_SVC_MAX_TASKS];
    int n_tasks;
    bt_svc_health *health;
    double next_poll_at;
    int poll_errors;
} bt_svc_daemon;

/* settings.c: flags and environment, checked (one error: line, -1). */
int bt_svc_settings_load(bt_svc_settings *s, const bt_cli *cli, const bt_svc_creds *c);
void bt_svc_settings_free(bt_svc_settings *s);
/* BATON_HOST_ID, else the host name, else "baton-sdk". */
int bt_svc_host_id(char *out, size_t outsz);

/* signals.c: SIGTERM/SIGINT set the stop flag; SIGCHLD and both wake the loop. */
int bt_svc_signals_install(void);
bool bt_svc_stopping(void);
/* What is left of the time a stop may take (BT_SVC_STOP_BUDGET from the
 * first SIGTERM/SIGINT): the token request and a FinishTask under way are
 * given up once it is spent (overdue). */
#define BT_SVC_STOP_BUDGET 0.9 /* libcurl checks at least once a second: < 2 s in all */
bool bt_svc_stop_overdue(void);
int bt_svc_wake_fd(void); /* readable after a signal (bt_svc_wait drains it) */
/* Sleep until `seconds` pass, a signal arrives or one of fds is readable;
 * the health server's socket is served meanwhile. */
void bt_svc_wait(bt_svc_daemon *d, double seconds);

/* finish.c: FinishTask; never retried (30 s deadline, less when stopping). */
int bt_svc_finish_error(bt_svc_daemon *d, const char *task_id, int code, const char *text,
                        bool non_retryable);
int bt_svc_finish_success(bt_svc_daemon *d, const char *task_id, const char *type_url,
                          const bt_http_buf *value);
/* The same error for a task id given as bytes (one holding a NUL byte). */
int bt_svc_finish_error_bytes(bt_svc_daemon *d, const uint8_t *id, size_t id_len, int code,
                              const char *text, bool non_retryable);
/* hello.c (service.c): the Hello RPC, for start-up (task_id "") or a hello task. */
int bt_svc_send_hello(bt_svc_daemon *d, const char *task_id, char *err, size_t errsz);

/* service.c: GetTask's deadline at monotonic time now: 30 s, or less when a
 * running sync's heartbeat is due sooner, but at least 1 s. */
double bt_svc_get_task_deadline(const bt_svc_daemon *d, double now);
/* tasks.c: one GetTask answer handled (dispatch, or answered at once). */
void bt_svc_handle_task(bt_svc_daemon *d, const SvcTask *task);
/* heartbeat.c */
int bt_svc_heartbeat(bt_svc_daemon *d, const char *task_id, double *interval, bool *cancelled);
void bt_svc_heartbeats_due(bt_svc_daemon *d);

/* children.c: fork a process of the daemon's (a task, the /health check)
 * with a pipe back. In the child (returns 0): it dies with the daemon
 * (PR_SET_PDEATHSIG, checked against a daemon already gone), SIGTERM is
 * default, SIGINT ignored, SIGCHLD default, the wake pipe and the health
 * server's sockets closed; *fd is the pipe's write end. In the daemon: the
 * pid, *fd the read end (non-blocking, close-on-exec); -1 on failure. */
pid_t bt_svc_fork_task_process(bt_svc_daemon *d, int *fd);
/* children.c: fork a task process running fn(d, task, ud) -> outcome. */
typedef void (*bt_svc_child_fn)(bt_svc_daemon *d, const SvcTask *task, const char *dir,
                                bt_svc_outcome *out);
int bt_svc_spawn(bt_svc_daemon *d, const SvcTask *task, bt_svc_task_kind kind, const char *dir,
                 bt_svc_child_fn fn);
void bt_svc_reap(bt_svc_daemon *d); /* finished children: upload/finish */
void bt_svc_read_results(bt_svc_daemon *d); /* drain readable result pipes */
void bt_svc_cancel(bt_svc_daemon *d, bt_svc_running *t, const char *reason, double grace);
void bt_svc_kill_overdue(bt_svc_daemon *d);
/* Parse the bytes a task process wrote; -1 when incomplete. */
int bt_svc_outcome_decode(const bt_http_buf *b, bt_svc_outcome *out);
int bt_svc_outcome_encode(const bt_svc_outcome *o, bt_http_buf *b);
/* public_text.c: in as ConductorOne may see it, local file paths cut to the
 * script's name (or the file's last component). */
void bt_svc_public_text(const char *in, char *out, size_t n);
/* An error outcome (code, text) written to fd with write(2) only: from a
 * signal handler too (a task process the script CPU limit ends). */
void bt_svc_outcome_write_now(int fd, int code, const char *text);
/* Remove a task directory and the files in it. */
void bt_svc_remove_dir(const char *dir);

/* child_sync.c / child_provision.c: the work inside the task process. */
void bt_svc_child_sync(bt_svc_daemon *d, const SvcTask *task, const char *dir,
                       bt_svc_outcome *out);
void bt_svc_child_provision(bt_svc_daemon *d, const SvcTask *task, const char *dir,
                            bt_svc_outcome *out);
/* The fresh Lua state a task process runs in. NULL with out filled. */
bt_host *bt_svc_child_host(bt_svc_daemon *d, bt_contract *c, bt_svc_outcome *out);
/* The gRPC code of a handler's failure from its error kind (child_provision.c). */
int bt_svc_code_for_kind(const char *kind);

/* health.c */
bt_svc_health *bt_svc_health_start(bt_svc_daemon *d, char *err, size_t errsz);
int bt_svc_health_fd(const bt_svc_health *h);
void bt_svc_health_serve(bt_svc_daemon *d); /* accept and answer one request */
/* A running /health check: collect its result, answer the waiting probes. */
void bt_svc_health_poll(bt_svc_daemon *d);
/* reap.c hands over pids it does not know; true when it was the check's. */
bool bt_svc_health_reaped(bt_svc_health *h, pid_t pid, int status);
void bt_svc_health_free(bt_svc_health *h);
/* In a task process: drop the daemon's sockets, so a probe's connection
 * closes when the daemon answers it. */
void bt_svc_health_close_fds(bt_svc_health *h);
/* child_provision.c: a provisioning task through its script handler (the
 * action table's row for its case; any other case is refused). */
void bt_svc_provision_task(bt_host *h, const bt_contract *c, const SvcTask *t,
                           bt_svc_outcome *out);
