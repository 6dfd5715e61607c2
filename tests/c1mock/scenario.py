"""The mock's state: configuration and fault hooks, the scripted task queue,
issued tokens, every recorded call, FinishTasks and kept uploads. All methods
take the one lock; the server threads and the control port share this object."""

import json
import threading
import time

import c1proto

DEFAULTS = {
    "next_poll": 0.1,            # seconds; GetTask's next_poll
    "omit_next_poll": 0,         # the next N GetTask answers carry no next_poll
    "next_heartbeat": 1.0,       # seconds; in GetTask and Heartbeat answers (None: omitted)
    "token_expires_in": 3600,
    "token_valid_for": None,     # seconds the mock accepts a token (None: expires_in); less
                                 # than expires_in checks the client's 10 s margin (1.6)
    "token_type": "bearer",
    "token_status": 200,         # 401: the token endpoint refuses every request
    "token_fail": 0,             # the next N token requests are answered ...
    "token_fail_status": 503,    # ... with this HTTP status (then tokens again)
    "get_task_fail": 0,          # the next N GetTasks fail ...
    "get_task_fail_code": 14,    # ... with this gRPC status (trailers-only) ...
    "get_task_fail_http": 0,     # ... or, when non-zero, with this HTTP status and an HTML body ...
    "get_task_fail_kind": "status",  # ... or "ok_without_message" (grpc-status 0, no message)
                                 # or "compressed" (a message frame with the compressed flag)
    "get_task_stall": 0,         # the next N GetTasks are answered (no task) only after ...
    "get_task_stall_seconds": 20,  # ... this many seconds (a stalled server; other streams go on)
    "token_stall": 0,            # the next N token requests are answered only after ...
    "token_stall_seconds": 60,   # ... this many seconds (a stalled token endpoint)
    "finish_stall": 0,           # the next N FinishTasks are answered only after ...
    "finish_stall_seconds": 60,  # ... this many seconds (a stalled server)
    "upload_garbled": 0,         # the next N uploads are answered grpc-status 0 with a
                                 # message that does not decode as UploadAssetResponse
    "data_chunk": 0,             # bytes per DATA frame in answers (0: one frame per message)
    "hello_fail": [],            # answers for the next Hellos: {"code": N} or {"http": N}
    "upload_fail_first": 0,      # the next N upload streams get UNAVAILABLE ...
    "upload_fail_mode": "after_metadata",  # ... right after metadata, or "at_end"
    "upload_force_mismatch": False,  # every upload is answered DATA_LOSS
    "error_with_body": False,    # errors as headers + trailers instead of trailers-only
    "alpn": ["h2", "http/1.1"],  # what new TLS connections offer; ["http/1.1"]: no HTTP/2
}


class State:
    def __init__(self, client_id, checker, upload_dir, record_path=None, config=None):
        self.lock = threading.Lock()
        self.client_id = client_id
        self.checker = checker
        self.upload_dir = upload_dir
        self.record = open(record_path, "a", encoding="utf-8") if record_path else None
        self.config = dict(DEFAULTS)
        self.config.update(config or {})
        self.queue = []          # task dicts still to hand out
        self.tasks = {}          # task id -> task dict, every task ever queued
        self.handed = {}         # task id -> time handed out by GetTask
        self.heartbeats = {}     # task id -> count
        self.finishes = {}       # task id -> list of decoded FinishTask requests
        self.uploads = []        # one dict per upload stream
        self.tokens = {}         # token -> {"issued", "expires_in"}
        self.token_order = []
        self.calls = []
        self.violations = []
        self.connections = 0
        self.seq = 0

    # ---- configuration and queue

    def configure(self, changes):
        with self.lock:
            unknown = sorted(set(changes) - set(DEFAULTS))
            if unknown:
                raise KeyError("unknown config keys: %s" % ", ".join(unknown))
            self.config.update(changes)
            return dict(self.config)

    def enqueue(self, tasks):
        with self.lock:
            ids = []
            for t in tasks:
                t = dict(t)
                t.setdefault("id", c1proto.new_task_id())
                c1proto.task(t)  # fail now, at the control port, on a bad description
                self.queue.append(t)
                self.tasks[t["id"]] = t
                ids.append(t["id"])
            return ids

    def next_task(self):
        with self.lock:
            if not self.queue:
                return None
            t = self.queue.pop(0)
            self.handed[t["id"]] = time.time()
            return t

    def take(self, key):
        """Decrement a counter fault; True when it fired."""
        with self.lock:
            if self.config[key] > 0:
                self.config[key] -= 1
                return True
            return False

    def pop_hello_fault(self):
        with self.lock:
            faults = self.config["hello_fail"]
            return faults.pop(0) if faults else None

    # ---- tokens

    def issue_token(self):
        with self.lock:
            token = "tok%d-%s" % (len(self.token_order) + 1, c1proto.new_task_id())
            expires = self.config["token_expires_in"]
            valid = self.config["token_valid_for"]
            self.tokens[token] = {"issued": time.time(), "expires_in": expires,
                                  "valid_for": expires if valid is None else valid}
            self.token_order.append(token)
            return token, expires, self.config["token_type"]

    def token_problem(self, token):
        """None when the token is one we issued and it has not expired."""
        with self.lock:
            info = self.tokens.get(token)
            if info is None:
                return "unknown token"
            if time.time() > info["issued"] + info["valid_for"]:
                return "expired token (issued %.1f s ago, expires_in %d, accepted for %.1f s)" % (
                    time.time() - info["issued"], info["expires_in"], info["valid_for"])
            return None

    def token_index(self, token):
        with self.lock:
            return self.token_order.index(token) + 1 if token in self.tokens else 0

    # ---- heartbeats, finishes, uploads

    def heartbeat(self, task_id):
        """Count one heartbeat; return (n, the task's heartbeat hooks)."""
        with self.lock:
            n = self.heartbeats.get(task_id, 0) + 1
            self.heartbeats[task_id] = n
            return n, dict(self.tasks.get(task_id, {}).get("heartbeat", {}))

    def known_task(self, task_id):
        with self.lock:
            return task_id in self.handed

    def finish(self, request):
        with self.lock:
            earlier = self.finishes.setdefault(request["task_id"], [])
            earlier.append(request)
            return len(earlier)

    def add_upload(self, upload):
        with self.lock:
            upload["attempt"] = sum(1 for u in self.uploads if u.get("task_id") == upload.get("task_id")) + 1
            self.uploads.append(upload)
            return upload["attempt"]

    # ---- records

    def add_call(self, call):
        with self.lock:
            self.seq += 1
            call["seq"] = self.seq
            call.setdefault("time", time.time())
            self.calls.append(call)
            for v in call.get("violations", []):
                self.violations.append({"seq": call["seq"], "method": call.get("method"), "problem": v})
            if self.record:
                self.record.write(json.dumps(call, sort_keys=True) + "\n")
                self.record.flush()

    def add_connection(self):
        with self.lock:
            self.connections += 1

    def snapshot(self, since=0):
        with self.lock:
            return {"calls": [c for c in self.calls if c["seq"] > since],
                    "violations": list(self.violations), "finishes": dict(self.finishes),
                    "uploads": list(self.uploads), "tokens": len(self.token_order),
                    "token_values": list(self.token_order),
                    "queue": [t["id"] for t in self.queue], "handed": dict(self.handed),
                    "heartbeats": dict(self.heartbeats), "connections": self.connections,
                    "config": dict(self.config)}
