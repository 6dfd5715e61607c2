"""Self-tests of the mock ConductorOne, driven by the reference client in
refclient.py: the mock must accept what the document describes and flag what
it does not."""

import hashlib
import json
import os
import socket
import ssl
import time
import unittest
import urllib.error
import urllib.request

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import c1proto
import credentials
import pbwire as pb  # tests/lib, on the path once c1proto is imported
import refclient
from c1mockctl import C1Mock
from pbwire import encode

HOST = "bt-selftest"
ANY = "type.googleapis.com/"


def hello_request(task_id="", os_fields=None, display_name="Twingate", link="https://acme.twingate.com"):
    fields = os_fields or ["h", "linux", "debian", "12", "debian", "6.1.0", "x86_64", "none"]
    os_info = encode([(i + 1, v) for i, v in enumerate(fields)])
    build = encode([(1, "C11 gcc-12"), (2, "github.com/conductorone/baton-twingate"), (3, "0.1.0")])
    rt = encode([(1, "user"), (2, "User"), (3, b"\x01")])
    caps = encode([(1, encode([(1, rt), (2, b"\x02\x05\x08")])), (2, b"\x02\x05\x08")])
    ext = encode([(1, ANY + "c1.connector.v2.ExternalLink"), (2, encode([(1, link)]))])
    meta = encode([(1, display_name), (6, ext), (7, "desc"), (8, caps)])
    return encode([(1, HOST), (2, task_id), (3, build), (4, os_info), (5, meta)])


def finish_request(task_id, success=True, response=None, status=None, non_retryable=False):
    pairs = [(1, HOST), (2, task_id)]
    if status:
        pairs.append((3, encode([(1, status[0]), (2, status[1])])))
    if success:
        inner = encode([(2, encode([(1, ANY + response[0]), (2, response[1])]))]) if response else b""
        return encode(pairs) + pb.field(101, inner)
    return encode(pairs) + pb.field(100, encode([(1, non_retryable)]))


def upload_messages(task_id, data, chunk=524288, digest=None):
    out = [pb.field(100, encode([(1, HOST), (2, task_id)]))]
    for i in range(0, len(data), chunk):
        out.append(pb.field(101, encode([(1, data[i:i + chunk])])))
    out.append(pb.field(102, encode([(1, digest or hashlib.sha256(data).digest())])))
    return out


class MockTest(unittest.TestCase):
    config = {}
    tasks = ()

    def setUp(self):
        self.c1 = C1Mock(config=self.config, tasks=self.tasks).start()
        self.addCleanup(self.c1.stop)
        self.client = refclient.H2Client(self.c1.port, self.c1.ca_path)
        self.addCleanup(self.client.close)

    def token_reply(self, jws=None, **kw):
        jws = jws or refclient.assertion(self.c1.client_secret, self.c1.client_id, **kw)
        return self.client.post("/auth/v1/token", "application/x-www-form-urlencoded",
                                refclient.token_form(self.c1.client_id, jws))

    def token(self):
        r = self.token_reply()
        self.assertEqual(r.headers[":status"], "200", bytes(r.data))
        return json.loads(bytes(r.data))["access_token"]

    def call(self, method, message, token=None, extra=()):
        return self.client.call(method, token or self.token(), [message], extra_headers=extra)

    def last_call(self, method):
        return self.c1.calls(method)[-1]

    def take_task(self):
        r = self.call("GetTask", encode([(1, HOST)]))
        return pb.string(pb.sub(pb.decode(r.messages()[0]), 1), 1)


class TokenEndpoint(MockTest):
    def test_good_assertion_gets_a_bearer_token(self):
        r = self.token_reply()
        self.assertEqual(r.headers[":status"], "200")
        body = json.loads(bytes(r.data))
        self.assertEqual((body["token_type"], body["expires_in"]), ("bearer", 3600))
        self.assertEqual(self.c1.violations(), [])

    def test_http1_token_request_is_served(self):
        ctx = ssl.create_default_context(cafile=self.c1.ca_path)
        jws = refclient.assertion(self.c1.client_secret, self.c1.client_id)
        req = urllib.request.Request("https://localhost:%d/auth/v1/token" % self.c1.port,
                                     data=refclient.token_form(self.c1.client_id, jws), headers={
                                         "Content-Type": "application/x-www-form-urlencoded",
                                         "User-Agent": "baton-c1-credential-provider baton-sdk/v0.25.0"})
        with urllib.request.urlopen(req, context=ctx, timeout=10) as r:
            self.assertIn("access_token", json.loads(r.read()))

    def test_v017_array_audience_is_accepted(self):
        r = self.token_reply(claims={"aud": ["localhost"]})
        self.assertEqual(r.headers[":status"], "200")

    def test_each_broken_assertion_is_refused_with_its_reason(self):
        other = Ed25519PrivateKey.generate()
        cases = [
            ({"sign_with": other}, "signature"),
            ({"claims": {"aud": "localhost:443"}}, "aud"),
            ({"claims": {"iss": "someone@localhost/pcc"}}, "iss"),
            ({"claims": {"jti": "x"}}, "jti"),
            ({"claims": {"exp": int(time.time()) + 3600}}, "nbf/iat/exp"),
            ({"now": time.time() - 600}, "outside"),
            ({"header": {"nonce": None}}, "nonce"),
            ({"header": {"nonce": "ABCDEF0123456789ABCDEF0123456789"}}, "nonce"),
            ({"header": {"typ": "JWT"}}, "typ"),
            ({"header": {"alg": "ES256"}}, "alg"),
        ]
        for kw, word in cases:
            r = self.token_reply(**kw)
            self.assertEqual(r.headers[":status"], "401", kw)
            problems = " ".join(self.last_call("token")["violations"])
            self.assertIn(word, problems, kw)

    def test_a_reused_nonce_is_refused(self):
        header = {"nonce": "0123456789abcdef0123456789abcdef"}
        self.assertEqual(self.token_reply(header=header).headers[":status"], "200")
        self.assertEqual(self.token_reply(header=header).headers[":status"], "401")

    def test_padded_base64_and_wrong_form_are_refused(self):
        jws = refclient.assertion(self.c1.client_secret, self.c1.client_id)
        head, rest = jws.split(".", 1)
        r = self.token_reply(jws=head + "==." + rest)
        self.assertEqual(r.headers[":status"], "401")
        r = self.client.post("/auth/v1/token", "application/json", b"{}")
        self.assertEqual(r.headers[":status"], "401")

    def test_401_mode_refuses_good_assertions(self):
        self.c1.configure(token_status=401)
        self.assertEqual(self.token_reply().headers[":status"], "401")


class GrpcHeaders(MockTest):
    def test_missing_te_and_wrong_content_type_are_flagged(self):
        tok = self.token()
        headers = [h for h in self.client.grpc_headers("GetTask", tok) if h[0] != "te"]
        r = self.client.call("GetTask", tok, [encode([(1, HOST)])], headers=headers)
        self.assertEqual(r.grpc_status, 13)
        self.assertIn("te None", self.last_call("GetTask")["violations"])

    def test_unknown_and_expired_tokens_are_unauthenticated(self):
        r = self.call("GetTask", encode([(1, HOST)]), token="not-a-token")
        self.assertEqual(r.grpc_status, 16)
        self.c1.configure(token_expires_in=12, token_valid_for=0.5)
        tok = self.token()
        time.sleep(0.7)
        r = self.call("GetTask", encode([(1, HOST)]), token=tok)
        self.assertEqual(r.grpc_status, 16)
        self.assertIn("expired token", " ".join(self.last_call("GetTask")["violations"]))

    def test_user_agent_must_start_with_client_name(self):
        tok = self.token()
        headers = self.client.grpc_headers("GetTask", tok, agent="curl/8")
        self.client.call("GetTask", tok, [encode([(1, HOST)])], headers=headers)
        self.assertIn("user-agent", " ".join(self.last_call("GetTask")["violations"]))

    def test_unknown_method_is_unimplemented_and_http1_grpc_is_refused(self):
        r = self.call("GetTasks", b"")
        self.assertEqual(r.grpc_status, 12)
        http1 = refclient.H2Client(self.c1.port, self.c1.ca_path, alpn=("http/1.1",))
        self.addCleanup(http1.close)
        self.assertEqual(http1.sock.selected_alpn_protocol(), "http/1.1")

    def test_a_connection_by_ip_without_sni_is_flagged(self):
        ctx = ssl.create_default_context(cafile=self.c1.ca_path)
        ctx.check_hostname = False
        with ctx.wrap_socket(socket.create_connection(("127.0.0.1", self.c1.port)), server_hostname=None):
            pass
        self.c1.wait_for(lambda st: st["violations"], 10, "the SNI violation")
        self.assertIn("SNI None", self.c1.violations()[0]["problem"])

    def test_alpn_without_h2(self):
        self.c1.configure(alpn=["http/1.1"])
        client = refclient.H2Client(self.c1.port, self.c1.ca_path, alpn=("h2", "http/1.1"))
        self.addCleanup(client.close)
        self.assertEqual(client.sock.selected_alpn_protocol(), "http/1.1")

    def test_a_message_split_over_data_frames_is_reassembled(self):
        tok = self.token()
        framed = refclient.g.frame(encode([(1, HOST)]))
        r = self.client.request(self.client.grpc_headers("GetTask", tok), [framed[:3], framed[3:]])
        self.assertEqual(r.grpc_status, 0)
        self.assertEqual(self.c1.violations(), [])

    def test_two_messages_on_a_unary_call_are_flagged(self):
        tok = self.token()
        r = self.client.call("GetTask", tok, [encode([(1, HOST)])] * 2)
        self.assertEqual(r.grpc_status, 13)


class Hello(MockTest):
    def test_hello_is_decoded_and_recorded(self):
        r = self.call("Hello", hello_request())
        self.assertEqual((r.grpc_status, r.messages()), (0, [b""]))
        req = self.last_call("Hello")["request"]
        self.assertEqual(req["host_id"], HOST)
        self.assertEqual(req["os_info"]["kernel_arch"], "x86_64")
        caps = req["connector_metadata"]["capabilities"]
        self.assertEqual(caps["resource_type_capabilities"][0]["resource_type"]["traits"], [1])
        self.assertEqual(caps["connector_capabilities"], [2, 5, 8])

    def test_empty_os_field_is_invalid_argument(self):
        r = self.call("Hello", hello_request(os_fields=["h", "linux", "", "12", "d", "k", "a", "v"]))
        self.assertEqual(r.grpc_status, 3)

    def test_http_external_link_is_invalid_argument(self):
        self.assertEqual(self.call("Hello", hello_request(link="http://acme.twingate.com")).grpc_status, 3)

    def test_scripted_failures_come_first(self):
        self.c1.configure(hello_fail=[{"code": "UNAVAILABLE"}, {"http": 404}])
        self.assertEqual(self.call("Hello", hello_request()).grpc_status, 14)
        r = self.call("Hello", hello_request())
        self.assertEqual((r.headers[":status"], r.grpc_status), ("404", None))
        self.assertEqual(self.call("Hello", hello_request()).grpc_status, 0)


class TaskQueue(MockTest):
    tasks = [{"type": "hello", "id": "A" * 27}, {"type": "sync_full", "skip_grants": True},
             {"type": "case", "case": 999}]

    def test_tasks_come_in_order_then_none_with_next_poll(self):
        ids = []
        for _ in range(4):
            r = self.call("GetTask", encode([(1, HOST)]))
            f = pb.decode(r.messages()[0])
            task = pb.sub(f, 1)
            ids.append(pb.string(task, 1) if task else None)
            self.assertEqual(pb.sub(f, 2), {2: [100000000]})  # next_poll 0.1 s
        self.assertEqual(ids[0], "A" * 27)
        self.assertIsNone(ids[3])
        st = self.c1.state()
        self.assertEqual(st["queue"], [])

    def test_task_bodies_use_the_document_field_numbers(self):
        grant = c1proto.task({"id": "B" * 27, "type": "grant",
                              "entitlement": {"id": "group:G1:member", "resource": {"type": "group", "id": "G1"}},
                              "principal": {"type": "user", "id": "U1"}})
        body = pb.sub(pb.decode(grant), 103)
        ent, principal = pb.sub(body, 1), pb.sub(body, 2)
        self.assertEqual(pb.string(ent, 2), "group:G1:member")
        self.assertEqual(pb.string(pb.sub(pb.sub(ent, 1), 1), 2), "G1")
        self.assertEqual(pb.string(pb.sub(principal, 1), 1), "user")
        create = c1proto.task({"id": "C" * 27, "type": "create_account", "account_info": {
            "emails": [{"address": "a@b.c", "is_primary": True}], "profile": {"first_name": "Ada", "n": 2}}})
        info = pb.sub(pb.sub(pb.decode(create), 105), 1)
        self.assertEqual(pb.string(pb.sub(info, 1), 1), "a@b.c")
        profile = {pb.string(e, 1): pb.sub(e, 2) for e in pb.subs(pb.sub(info, 4), 1)}
        self.assertEqual(pb.string(profile["first_name"], 3), "Ada")
        self.assertEqual(pb.sub(pb.sub(pb.decode(create), 105), 2), {101: [b""]})  # no_password
        empty = pb.decode(c1proto.task({"id": "D" * 27, "type": "empty"}))
        self.assertEqual(sorted(empty), [1, 2])

    def test_outage_and_omitted_next_poll(self):
        self.c1.configure(get_task_fail=1, omit_next_poll=1)
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertEqual((r.grpc_status, r.messages()), (14, []))
        self.assertEqual(r.trailers, {})  # trailers-only
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertNotIn(2, pb.decode(r.messages()[0]))
        self.c1.configure(get_task_fail=1, get_task_fail_http=503)
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertEqual((r.headers[":status"], r.grpc_status), ("503", None))

    def test_broken_ok_answers_and_split_data(self):
        self.c1.configure(get_task_fail=2, get_task_fail_kind="ok_without_message")
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertEqual((r.grpc_status, r.messages()), (0, []))
        self.c1.configure(get_task_fail_kind="compressed")
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertEqual(bytes(r.data[:1]), b"\x01")
        self.c1.configure(data_chunk=1)
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertEqual(r.grpc_status, 0)
        self.assertEqual(len(r.messages()), 1)

    def test_error_with_body_sends_headers_then_trailers(self):
        self.c1.configure(get_task_fail=1, error_with_body=True)
        r = self.call("GetTask", encode([(1, HOST)]))
        self.assertNotIn("grpc-status", r.headers)
        self.assertEqual(r.trailers["grpc-status"], "14")


class Heartbeats(MockTest):
    tasks = [{"type": "sync_full", "id": "H" * 27, "heartbeat": {"fail_from": 2, "fail_count": 2, "cancel_at": 5}}]

    def test_hooks_fail_then_cancel(self):
        tok = self.token()
        self.take_task()
        got = []
        for _ in range(5):
            r = self.call("Heartbeat", encode([(1, HOST), (2, "H" * 27)]), token=tok)
            cancelled = pb.boolean(pb.decode(r.messages()[0]), 2) if r.grpc_status == 0 else None
            got.append((r.grpc_status, cancelled))
        self.assertEqual(got, [(0, False), (14, None), (14, None), (0, False), (0, True)])

    def test_unknown_task_id_is_flagged(self):
        self.call("Heartbeat", encode([(1, HOST), (2, "Z" * 27)]))
        self.assertIn("never handed out", " ".join(self.last_call("Heartbeat")["violations"]))


class Uploads(MockTest):
    tasks = [{"type": "sync_full", "id": "U" * 27}]

    def upload(self, data, **kw):
        return self.client.call("UploadAsset", self.tok, upload_messages("U" * 27, data, **kw))

    def setUp(self):
        super().setUp()
        self.tok = self.token()
        self.take_task()

    def test_good_upload_is_kept_with_its_chunks(self):
        data = os.urandom(524288 * 2 + 100)
        r = self.upload(data)
        self.assertEqual((r.grpc_status, r.messages()), (0, [b""]))
        up = self.c1.uploads("U" * 27)[-1]
        self.assertEqual(up["chunks"], [524288, 524288, 100])
        with open(up["path"], "rb") as f:
            self.assertEqual(f.read(), data)
        self.assertEqual(self.c1.violations(), [])

    def test_mismatch_is_data_loss(self):
        self.assertEqual(self.upload(b"abc", digest=b"\0" * 32).grpc_status, 15)
        self.c1.configure(upload_force_mismatch=True)
        self.assertEqual(self.upload(b"abc").grpc_status, 15)

    def test_fail_first_after_metadata_then_ok(self):
        self.c1.configure(upload_fail_first=1)
        self.assertEqual(self.upload(b"x" * 1000).grpc_status, 14)
        self.assertEqual(self.upload(b"x" * 1000).grpc_status, 0)
        self.assertEqual([u["attempt"] for u in self.c1.uploads()], [1, 2])

    def test_fail_first_at_end(self):
        self.c1.configure(upload_fail_first=1, upload_fail_mode="at_end")
        self.assertEqual(self.upload(os.urandom(600000)).grpc_status, 14)
        self.assertEqual(self.c1.uploads()[0]["chunks"], [524288, 600000 - 524288])

    def test_data_before_metadata_is_invalid(self):
        msgs = upload_messages("U" * 27, b"abc")[1:]
        r = self.client.call("UploadAsset", self.tok, msgs)
        self.assertEqual(r.grpc_status, 3)


class FinishTask(MockTest):
    tasks = [{"type": "grant", "id": "F" * 27}]

    def test_success_response_is_decoded_and_a_second_finish_flagged(self):
        tok = self.token()
        self.take_task()
        grant = encode([(1, encode([(2, "group:G:member")])), (3, "gid")])
        inner = encode([(2, grant)])
        deadline = [("grpc-timeout", "29999870u")]
        req = finish_request("F" * 27, response=("c1.connector.v2.GrantManagerServiceGrantResponse", inner))
        r = self.client.call("FinishTask", tok, [req], extra_headers=deadline)
        self.assertEqual((r.grpc_status, r.messages()), (0, [b""]))
        self.assertEqual(self.c1.violations(), [])
        fin = self.c1.finish("F" * 27)
        self.assertEqual(fin["success"]["response"]["decoded"]["grants"][0]["entitlement_id"], "group:G:member")
        self.client.call("FinishTask", tok, [finish_request("F" * 27, False, status=(2, "x"))])
        problems = " ".join(v["problem"] for v in self.c1.violations())
        self.assertIn("second FinishTask", problems)
        self.assertIn("grpc-timeout", problems)  # the second one carried none


class Credentials(unittest.TestCase):
    def test_generated_secret_has_the_document_shape(self):
        secret, x = credentials.new_secret()
        parts = secret.split(":", 3)
        self.assertEqual(parts[:3], ["secret-token", "conductorone.com", "v1"])
        jwk = json.loads(credentials.b64url_decode(parts[3]))
        self.assertEqual((jwk["kty"], jwk["crv"], jwk["x"]), ("OKP", "Ed25519", x))
        self.assertEqual(len(credentials.b64url_decode(jwk["d"])), 32)

    def test_audience_drops_the_port(self):
        self.assertEqual(credentials.client_id_host("a@acme.conductor.one:8443/pcc"), "acme.conductor.one")


if __name__ == "__main__":
    unittest.main()
