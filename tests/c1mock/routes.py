"""What the mock answers: the token endpoint and the five gRPC methods.
Each handler checks its request against the document, records a call and
returns a Reply; the transport (server.py) only moves bytes."""

import hashlib
import json
import os
import re
import time
import urllib.parse

import c1proto
import credentials
import grpcwire as g

SERVICE = "/c1.connectorapi.baton.v1.BatonService/"
TOKEN_PATH = "/auth/v1/token"
TASK_ID = re.compile(r"[A-Za-z0-9]{27}")
TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


class Reply:
    """grpc: message bytes (None: error, trailers-only); http: status + body."""

    def __init__(self, code=0, message="", body=None, http=None, content_type="application/grpc"):
        self.code, self.message, self.body = code, message, body
        self.http, self.content_type = http, content_type
        self.no_message = False   # grpc-status 0 with no message (a broken unary answer)
        self.compressed = False   # the message frame carries the compressed flag
        self.delay = 0.0          # seconds before the answer goes out (a stalled server)


def grpc_ok(body=b""):
    return Reply(0, "", body)


def grpc_error(code, message):
    return Reply(g.code_of(code), message, None)


def http_reply(status, body, content_type):
    return Reply(http=status, body=body, content_type=content_type)


# ---------------------------------------------------------------- token endpoint


def token(state, headers, body):
    """POST /auth/v1/token: check the form and the assertion, then issue a token."""
    call = {"kind": "token", "method": "token", "headers": _public_headers(headers)}
    problems = _token_problems(state, headers, body)
    call["violations"] = problems
    if state.config["token_status"] != 200:
        call["http_status"] = state.config["token_status"]
        state.add_call(call)
        return http_reply(state.config["token_status"], b'{"error":"invalid_client"}', "application/json")
    if state.take("token_fail"):
        call.update(http_status=state.config["token_fail_status"], fault="token_fail")
        state.add_call(call)
        return http_reply(state.config["token_fail_status"], b"<html>busy</html>", "text/html")
    if problems:
        call["http_status"] = 401
        state.add_call(call)
        return http_reply(401, b'{"error":"invalid_client"}', "application/json")
    tok, expires_in, token_type = state.issue_token()
    call.update(http_status=200, token=state.token_index(tok), expires_in=expires_in)
    stall = state.take("token_stall")
    if stall:
        call["fault"] = "token_stall"
    state.add_call(call)
    answer = {"access_token": tok, "token_type": token_type, "expires_in": expires_in}
    reply = http_reply(200, json.dumps(answer).encode(), "application/json")
    if stall:
        reply.delay = state.config["token_stall_seconds"]
    return reply


def _token_problems(state, headers, body):
    problems = []
    if headers.get(":method", "POST") != "POST":
        problems.append("token request method %s" % headers.get(":method"))
    if headers.get("content-type", "").split(";")[0].strip() != "application/x-www-form-urlencoded":
        problems.append("token content-type %r" % headers.get("content-type"))
    if not headers.get("user-agent", "").startswith("baton-c1-credential-provider baton-sdk/"):
        problems.append("token user-agent %r" % headers.get("user-agent"))
    try:
        form = urllib.parse.parse_qs(body.decode("ascii"), keep_blank_values=True, strict_parsing=True)
    except (UnicodeDecodeError, ValueError):
        return problems + ["token body is not a form"]
    want = {"client_id": state.client_id, "grant_type": "client_credentials",
            "client_assertion_type": credentials.ASSERTION_TYPE}
    for name, value in want.items():
        if form.get(name) != [value]:
            problems.append("form field %s is %r" % (name, form.get(name)))
    assertion = form.get("client_assertion", [])
    if len(assertion) != 1:
        return problems + ["form field client_assertion missing or repeated"]
    return problems + state.checker.check(assertion[0])


def _public_headers(headers):
    """Headers worth recording; the authorization value is reduced to its token number."""
    keep = (":authority", ":scheme", ":method", "content-type", "te", "user-agent",
            "grpc-timeout", "grpc-encoding", "grpc-accept-encoding")
    return {k: v for k, v in headers.items() if k in keep}


# ---------------------------------------------------------------- gRPC common checks


def header_problems(state, headers):
    """(problems, fatal reply or None) for the headers every RPC must carry (2.3)."""
    problems = []
    if headers.get(":method") != "POST":
        problems.append(":method %r" % headers.get(":method"))
    if headers.get(":scheme") != "https":
        problems.append(":scheme %r" % headers.get(":scheme"))
    if not headers.get(":authority"):
        problems.append(":authority missing")
    if headers.get("content-type") != "application/grpc":
        problems.append("content-type %r" % headers.get("content-type"))
    if headers.get("te") != "trailers":
        problems.append("te %r" % headers.get("te"))
    for banned in ("grpc-encoding", "grpc-accept-encoding"):
        if banned in headers:
            problems.append("%s sent" % banned)
    agent = headers.get("user-agent", "")
    name = state.client_id.split("@", 1)[0]
    if not agent.startswith(name + " baton-sdk/"):
        problems.append("user-agent %r does not start with %r" % (agent, name + " baton-sdk/"))
    if "grpc-timeout" in headers and TIMEOUT.fullmatch(headers["grpc-timeout"]) is None:
        problems.append("grpc-timeout %r malformed" % headers["grpc-timeout"])
    auth = headers.get("authorization", "")
    if not auth.startswith("Bearer "):
        return problems + ["authorization %r is not 'Bearer <token>'" % auth[:7]], \
            grpc_error(g.UNAUTHENTICATED, "missing bearer token")
    token_problem = state.token_problem(auth[len("Bearer "):])
    if token_problem:
        return problems + [token_problem], grpc_error(g.UNAUTHENTICATED, token_problem)
    if problems:
        return problems, grpc_error(g.INTERNAL, "; ".join(problems))
    return problems, None


def timeout_seconds(value):
    m = TIMEOUT.fullmatch(value or "")
    return int(m.group(1)) * TIMEOUT_UNITS[m.group(2)] if m else None


def _one_message(messages):
    if len(messages) != 1:
        return None, "unary call carried %d messages" % len(messages)
    return messages[0], None


def unary(state, method, headers, messages, handler):
    """Common path of the four unary methods: headers, one message, decode, handle."""
    call = {"kind": "grpc", "method": method, "headers": _public_headers(headers),
            "token": state.token_index(headers.get("authorization", "")[len("Bearer "):])}
    problems, fatal = header_problems(state, headers)
    msg, count_problem = _one_message(messages)
    if count_problem:
        problems.append(count_problem)
        fatal = fatal or grpc_error(g.INTERNAL, count_problem)
    call["violations"] = problems
    if fatal:
        return _record(state, call, fatal)
    try:
        reply = handler(state, msg, call)
    except ValueError as e:  # the protobuf did not decode
        call["violations"].append("%s request does not decode: %s" % (method, e))
        reply = grpc_error(g.INTERNAL, "bad request message")
    return _record(state, call, reply)


def _record(state, call, reply):
    call["grpc_status"] = reply.code if reply.http is None else None
    call["http_status"] = reply.http or 200
    state.add_call(call)
    return reply


def _check_host_id(call, host_id):
    if not 1 <= len(host_id) <= 256:
        call["violations"].append("host_id has %d characters" % len(host_id))


def _check_task_id(state, call, task_id):
    if not TASK_ID.fullmatch(task_id):
        call["violations"].append("task_id %r is not 27 alphanumerics" % task_id)
    elif not state.known_task(task_id):
        call["violations"].append("task_id %s was never handed out" % task_id)


# ---------------------------------------------------------------- the methods


def hello(state, msg, call):
    req = c1proto.decode_hello(msg)
    call["request"] = req
    _check_host_id(call, req["host_id"])
    if req["task_id"]:
        _check_task_id(state, call, req["task_id"])
    fault = state.pop_hello_fault()
    if fault:
        call["fault"] = fault
        if "http" in fault:
            return http_reply(fault["http"], b"<html>not found</html>", "text/html")
        return grpc_error(fault["code"], "scripted Hello failure")
    invalid = _hello_invalid(req)
    if invalid:
        call["violations"] += invalid
        return grpc_error(g.INVALID_ARGUMENT, "; ".join(invalid))
    return grpc_ok()


def _hello_invalid(req):
    """What C1 would refuse: proto limits and empty OS/build fields (5.1, 5.2)."""
    out = []
    for group in ("build_info", "os_info"):
        for name, value in req[group].items():
            if not 1 <= len(value) <= 256:
                out.append("%s.%s has %d characters" % (group, name, len(value)))
    meta = req["connector_metadata"]
    if meta is None or not 1 <= len(meta["display_name"]) <= 1024:
        return out + ["connector_metadata.display_name missing"]
    if meta["help_url"] and not meta["help_url"].startswith("https://"):
        out.append("help_url %r is not https" % meta["help_url"])
    if len(meta["description"]) > 4096:
        out.append("description longer than 4096")
    for link in c1proto.external_links(meta["annotations"]):
        if not link.startswith("https://"):
            out.append("ExternalLink url %r is not https (5.3)" % link)
    return out


def get_task(state, msg, call):
    req = c1proto.decode_get_task(msg)
    call["request"] = req
    _check_host_id(call, req["host_id"])
    if state.take("get_task_fail"):
        call["fault"] = "get_task_fail"
        return _get_task_fault(state.config)
    if state.take("get_task_stall"):
        call["fault"] = "get_task_stall"
        reply = grpc_ok(c1proto.get_task_response(None, state.config["next_poll"]))
        reply.delay = state.config["get_task_stall_seconds"]
        return reply
    t = state.next_task()
    next_poll = None if state.take("omit_next_poll") else state.config["next_poll"]
    call["task"] = {"id": t["id"], "type": t["type"]} if t else None
    call["next_poll"] = next_poll
    task_bytes = c1proto.task(t) if t else None
    return grpc_ok(c1proto.get_task_response(task_bytes, next_poll, state.config["next_heartbeat"]))


def _get_task_fault(config):
    if config["get_task_fail_http"]:
        return http_reply(config["get_task_fail_http"], b"<html>busy</html>", "text/html")
    kind = config["get_task_fail_kind"]
    if kind == "status":
        return grpc_error(config["get_task_fail_code"], "scripted GetTask failure")
    reply = grpc_ok(c1proto.get_task_response(None, config["next_poll"]))
    reply.no_message = kind == "ok_without_message"
    reply.compressed = kind == "compressed"
    return reply


def heartbeat(state, msg, call):
    req = c1proto.decode_heartbeat(msg)
    call["request"] = req
    _check_host_id(call, req["host_id"])
    _check_task_id(state, call, req["task_id"])
    if req["task_ids"]:
        call["violations"].append("task_ids set (batch path)")
    n, hooks = state.heartbeat(req["task_id"])
    call["n"] = n
    first_fail = hooks.get("fail_from", 0)
    if first_fail and first_fail <= n < first_fail + hooks.get("fail_count", 1):
        call["fault"] = "heartbeat_fail"
        return grpc_error(g.UNAVAILABLE, "scripted heartbeat failure")
    cancelled = hooks.get("cancel_at", 0) and n >= hooks["cancel_at"]
    call["cancelled"] = bool(cancelled)
    return grpc_ok(c1proto.heartbeat_response(state.config["next_heartbeat"], cancelled))


def finish_task(state, msg, call):
    req = c1proto.decode_finish(msg)
    call["request"] = req
    _check_host_id(call, req["host_id"])
    _check_task_id(state, call, req["task_id"])
    seconds = timeout_seconds(call["headers"].get("grpc-timeout"))
    if seconds is None or seconds > 30:
        call["violations"].append("FinishTask grpc-timeout %r is not a deadline of at most 30 s"
                                  % call["headers"].get("grpc-timeout"))
    if req["final_state"] not in ("error", "success"):
        call["violations"].append("final_state is %r" % req["final_state"])
    if req["final_state"] == "success" and req["status"] is not None:
        call["violations"].append("status set on success")
    if req["final_state"] == "error" and req["status"] is None:
        call["violations"].append("error without status")
    if state.finish(req) > 1:
        call["violations"].append("second FinishTask for %s" % req["task_id"])
    reply = grpc_ok()
    if state.take("finish_stall"):
        call["fault"] = "finish_stall"
        reply.delay = state.config["finish_stall_seconds"]
    return reply


UNARY = {"Hello": hello, "GetTask": get_task, "Heartbeat": heartbeat, "FinishTask": finish_task}


# ---------------------------------------------------------------- UploadAsset (streaming)


class Upload:
    """One UploadAsset stream, fed message by message as DATA arrives."""

    def __init__(self, state, headers):
        self.state = state
        self.call = {"kind": "grpc", "method": "UploadAsset", "headers": _public_headers(headers),
                     "token": state.token_index(headers.get("authorization", "")[len("Bearer "):])}
        problems, self.reply = header_problems(state, headers)
        self.call["violations"] = problems
        self.hash = hashlib.sha256()
        self.chunks = []
        self.metadata = None
        self.eof = None
        self.path = None
        self.file = None
        self.failing = False  # a scripted failure answered once the stream ends

    def feed(self, msg):
        """Take one request message; return a Reply to end the stream early, or None."""
        if self.reply is not None:
            return self.reply
        try:
            kind, body = c1proto.decode_upload(msg)
        except ValueError as e:
            return self._fail("upload message does not decode: %s" % e)
        if self.eof is not None:
            return self._fail("message after eof")
        if kind == "metadata":
            return self._metadata(body)
        if self.metadata is None:
            return self._fail("first upload message is %s, not metadata" % kind)
        if kind == "data":
            return self._data(body["data"])
        if kind == "eof":
            self.eof = body
            return None
        return self._fail("upload message with oneof fields %s" % body.get("fields"))

    def _fail(self, problem, code=g.INVALID_ARGUMENT):
        self.call["violations"].append(problem)
        self.reply = grpc_error(code, problem)
        return self.reply

    def _metadata(self, body):
        if self.metadata is not None:
            return self._fail("second metadata")
        self.metadata = body
        _check_host_id(self.call, body["host_id"])
        _check_task_id(self.state, self.call, body["task_id"])
        if body["annotations"] or body["field3"]:
            self.call["violations"].append("metadata carries annotations or field 3")
        self.path = os.path.join(self.state.upload_dir, "%s-%d.c1z" % (
            body["task_id"] or "none", int(time.time() * 1e6)))
        self.file = open(self.path, "wb")
        if self.state.take("upload_fail_first"):
            self.call["fault"] = "upload_fail_first"
            self.failing = True
            if self.state.config["upload_fail_mode"] == "after_metadata":
                self.reply = grpc_error(g.UNAVAILABLE, "scripted upload failure")
                return self.reply
        return None

    def _data(self, data):
        if not 1 <= len(data) <= 1 << 20:
            return self._fail("data chunk of %d bytes" % len(data))
        self.chunks.append(len(data))
        self.hash.update(data)
        self.file.write(data)
        return None

    def finish(self):
        """The client half-closed: check eof and the digest, keep the file."""
        if self.file:
            self.file.close()
        if self.reply is None:
            self.reply = self._verdict()
        self._record()
        return self.reply

    def abort(self, reason):
        if reason:
            self.call["violations"].append(reason)
        if self.file:
            self.file.close()
        self.reply = self.reply or grpc_error(g.CANCELED, "stream reset")
        self._record()

    def _verdict(self):
        if self.metadata is None:
            return self._fail("upload without metadata")
        if self.eof is None:
            return self._fail("upload without eof")
        if len(self.eof["sha256"]) != 64:
            return self._fail("eof checksum of %d bytes" % (len(self.eof["sha256"]) // 2))
        if self.eof["annotations"]:
            self.call["violations"].append("eof carries annotations")
        if self.failing:
            return grpc_error(g.UNAVAILABLE, "scripted upload failure")
        if self.eof["sha256"] != self.hash.hexdigest() or self.state.config["upload_force_mismatch"]:
            self.call["mismatch"] = True
            return grpc_error(g.DATA_LOSS, "checksum mismatch")
        if self.state.take("upload_garbled"):
            self.call["fault"] = "upload_garbled"
            return grpc_ok(b"\x0a\xff")  # field 1, a length running past the end
        return grpc_ok()

    def _record(self):
        meta = self.metadata or {}
        upload = {"task_id": meta.get("task_id"), "path": self.path, "chunks": self.chunks,
                  "size": sum(self.chunks), "sha256": self.hash.hexdigest(),
                  "eof_sha256": (self.eof or {}).get("sha256"), "grpc_status": self.reply.code}
        upload["attempt"] = self.state.add_upload(upload)
        self.call.update(request=upload, grpc_status=self.reply.code, http_status=200)
        self.state.add_call(self.call)
