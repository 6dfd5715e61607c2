"""Service mode end to end, start-up and the main path: the real daemon against
the mock ConductorOne (tests/c1mock) and the mock Twingate. Numbers in the test
names refer to the checklist of the service-mode document (section 8)."""

import json
import os
import platform
import shutil
import socket
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, C1Z
from service_harness import (CAPABILITY, TRAIT, Daemon, ServiceTest, clean_env, is_c1z,
                             one_shot_sync, sync_rows)
import c1proto  # tests/c1mock, on the path once service_harness is imported
import credentials
import pbwire as pb  # tests/lib, on the path once harness is imported
from test_reader_compat import SELECT_SYNC, decompress, open_as

# 3000 users make a c1z of about 800 KB: two upload chunks.
BIG_TENANT = dict(tenant="synthetic", seed=3, users=3000, groups=60)


def os_release_id():
    try:
        with open("/etc/os-release") as f:
            for line in f:
                if line.startswith("ID="):
                    return line.split("=", 1)[1].strip().strip('"')
    except OSError:
        pass
    return None


class StartUp(ServiceTest):
    def test_01_02_one_token_then_hello_with_metadata(self):
        self.start_polling()
        st = self.c1.state()
        self.assertEqual(self.c1.calls("token", st)[0]["seq"], 1, "the token comes first")
        self.assertEqual(len(self.c1.calls("token", st)), 1)
        grpc = [c for c in st["calls"] if c["kind"] == "grpc"]
        self.assertEqual(grpc[0]["method"], "Hello", "no task is fetched before Hello (4.1)")
        self.assertTrue(all(c["token"] == 1 for c in grpc))
        hello = grpc[0]["request"]
        self.assertEqual((hello["host_id"], hello["task_id"]), (self.c1.host_id, ""))
        osinfo = hello["os_info"]
        self.assertEqual(osinfo["os"], "linux")
        self.assertEqual(osinfo["hostname"], socket.gethostname() or "unknown")
        self.assertEqual(osinfo["kernel_version"], platform.release())
        self.assertEqual(osinfo["kernel_arch"], platform.machine())
        if os_release_id():
            self.assertEqual(osinfo["platform"], os_release_id())
        self.assertEqual(hello["build_info"]["package"], "github.com/conductorone/baton-twingate")
        self.assertNoViolations()

    def test_02_hello_capabilities_are_what_the_capabilities_command_prints(self):
        self.start_polling()
        meta = self.c1.calls("Hello")[0]["request"]["connector_metadata"]
        self.assertEqual(meta["display_name"], "Twingate")
        printed = json.loads(subprocess.run([BINARY, "capabilities"], capture_output=True, text=True,
                                            env=clean_env({}), check=True).stdout)
        caps = meta["capabilities"]
        want = [(r["resourceType"]["id"], [TRAIT[t] for t in r["resourceType"]["traits"]],
                 [CAPABILITY[c] for c in r["capabilities"]]) for r in printed["resourceTypeCapabilities"]]
        got = [(r["resource_type"]["id"], r["resource_type"]["traits"], r["capabilities"])
               for r in caps["resource_type_capabilities"]]
        self.assertEqual(got, want)
        self.assertEqual([g[0] for g in got], sorted(g[0] for g in got), "sorted by type id (5.3)")
        self.assertEqual(caps["connector_capabilities"],
                         [CAPABILITY[c] for c in printed["connectorCapabilities"]])
        self.assertEqual(caps["credential_details"]["account_provisioning"],
                         {"supported": [1], "preferred": 1})
        user = next(r for r in caps["resource_type_capabilities"] if r["resource_type"]["id"] == "user")
        self.assertEqual(user["resource_type"]["annotations"],
                         ["type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants"])
        schema = meta["account_creation_schema"]["field_map"]
        self.assertTrue(schema["email"]["required"])
        self.assertEqual(schema["email"]["kind"], 100)  # string_field

    def test_02_host_id_defaults_to_the_hostname(self):
        self.start_polling(env={"BATON_HOST_ID": None})
        self.assertEqual(self.c1.calls("Hello")[0]["request"]["host_id"], socket.gethostname() or "baton-sdk")
        self.assertEqual(self.c1.calls("GetTask")[0]["request"]["host_id"], socket.gethostname() or "baton-sdk")

    def test_01_credentials_from_baton_yaml(self):
        d = Daemon(self.c1, self.twingate, env={"BATON_CLIENT_ID": None, "BATON_CLIENT_SECRET": None})
        with open(os.path.join(d.out_dir, ".baton.yaml"), "w") as f:
            f.write("client-id: %s\nclient-secret: %s\n" % (self.c1.client_id, self.c1.client_secret))
        self.daemon = d.start()
        self.addCleanup(d.close)
        self.addCleanup(self.check_output, d)
        self.polls_after(0)
        self.assertEqual(len(self.c1.calls("token")), 1)
        self.assertNoViolations()

    def test_01_token_type_is_normalised_to_bearer(self):
        for token_type in ("BEARER", ""):
            with self.subTest(token_type=token_type):
                self.c1.configure(token_type=token_type)
                d = Daemon(self.c1, self.twingate).start()
                self.addCleanup(d.close)
                before = len(self.c1.calls("GetTask"))
                self.c1.wait_for(lambda st: len([c for c in st["calls"] if c["method"] == "GetTask"]) > before,
                                 what="polling")
                d.terminate()
        self.assertNoViolations()  # the mock only accepts "Bearer <token>"

    def test_01_no_grpc_without_http2(self):
        # 2.2: ALPN must pick h2 for gRPC; a server offering only HTTP/1.1 is a failed call.
        self.c1.configure(alpn=["http/1.1"])
        d = self.start_daemon()
        grpc_over_http1 = lambda st: [c for c in st["calls"] if c["kind"] == "http1"]  # noqa: E731
        self.c1.wait_for(lambda st: st["connections"] >= 3 or len(grpc_over_http1(st)) >= 2,
                         what="two Hello attempts")
        self.assertEqual(self.c1.calls("GetTask"), [])
        self.assertTrue(d.alive(), "not a permanent failure: Hello is retried")
        self.c1.configure(alpn=["h2", "http/1.1"])
        self.polls_after(0, timeout=20)  # the next attempts come 4 and 8 s later
        self.assertEqual(grpc_over_http1(self.c1.state()), [], "no gRPC request sent over HTTP/1.1")

    def test_01_ssl_cert_file_also_applies_to_twingate(self):
        # Issue item 3: SSL_CERT_FILE applies to every connection. Point the Twingate URL at
        # the mock C1's TLS port: the sync's request must get through the TLS handshake
        # (trusting the test CA) and reach the mock, which answers 404.
        self.start_polling(api_url="https://localhost:%d/api/graphql/" % self.c1.port)
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "error")
        st = self.c1.state()
        self.assertEqual([c for c in st["calls"] if c["kind"] == "tls_error"], [], "no failed handshake")
        self.assertIn("/api/graphql/", [c["method"] for c in st["calls"] if c["kind"] in ("http", "http1")])

    def test_16_token_401_at_start_exits_non_zero(self):
        self.c1.configure(token_status=401)
        d = self.start_daemon()
        self.assertNotEqual(d.wait(60), 0)
        self.assertOneErrorLine(d.stderr())
        st = self.c1.state()
        self.assertEqual(len(self.c1.calls("token", st)), 1)
        self.assertEqual(self.c1.calls("GetTask", st), [])

    def test_token_503_at_start_is_retried(self):
        # Only 400/401/403 from the token endpoint are a refusal; a busy endpoint is retried
        # like a failed Hello (after 1 s, then 2 s).
        self.c1.configure(token_fail=2, token_fail_status=503)
        d = self.start_polling()
        self.assertTrue(d.alive())
        tokens = self.c1.calls("token")
        self.assertEqual([t["http_status"] for t in tokens[:3]], [503, 503, 200])
        self.assertNoViolations()

    def test_17_hello_failures_are_retried_after_1_then_2_seconds(self):
        # 4.1: anything but the permanent codes is retried, waiting 1 s, doubling.
        self.c1.configure(hello_fail=[{"code": "INTERNAL"}, {"http": 503}])
        self.start_polling()
        hellos = self.c1.calls("Hello")
        self.assertEqual([(h["http_status"], h["grpc_status"]) for h in hellos],
                         [(200, 13), (503, None), (200, 0)])
        gaps = [b["time"] - a["time"] for a, b in zip(hellos, hellos[1:])]
        for gap, floor in zip(gaps, (0.95, 1.95)):
            self.assertGreaterEqual(gap, floor, gaps)

    def test_18_permanent_hello_codes_exit_non_zero(self):
        for fault in ({"code": "PERMISSION_DENIED"}, {"code": "UNIMPLEMENTED"}, {"http": 404},
                      {"code": "INVALID_ARGUMENT"}, {"code": "FAILED_PRECONDITION"}, {"code": "NOT_FOUND"},
                      {"code": "UNAUTHENTICATED"}, {"http": 401}, {"http": 403}):
            with self.subTest(fault=fault):
                self.c1.configure(hello_fail=[fault])
                before = len(self.c1.calls("Hello"))
                d = Daemon(self.c1, self.twingate).start()
                self.addCleanup(d.close)
                self.assertNotEqual(d.wait(60), 0)
                self.assertOneErrorLine(d.stderr())
                self.assertEqual(len(self.c1.calls("Hello")), before + 1)
        self.assertEqual(self.c1.calls("GetTask"), [])

    def test_19_bad_credentials_exit_before_any_traffic(self):
        good_id = self.c1.client_id
        jwk = json.loads(credentials.b64url_decode(self.c1.client_secret.split(":", 3)[3]))
        other = credentials.jwk_json(credentials.Ed25519PrivateKey.generate())
        prefix = "secret-token:conductorone.com:"
        bad = [
            ("no-at-sign.localhost/pcc", self.c1.client_secret),
            ("name@localhost-without-slash", self.c1.client_secret),
            (good_id, "secret-token:conductorone.com:v1"),                       # 3 parts
            (good_id, prefix + "v2:" + credentials.b64url(json.dumps(jwk).encode())),
            (good_id, self.c1.client_secret + "="),                                # padded
            (good_id, self.c1.client_secret + ":extra"),                           # 5th part
            (good_id, credentials.secret_for_jwk({k: v for k, v in jwk.items() if k != "d"})),
            (good_id, credentials.secret_for_jwk(dict(jwk, crv="X25519"))),
            (good_id, credentials.secret_for_jwk(dict(jwk, kty="EC"))),
            (good_id, credentials.secret_for_jwk(dict(jwk, x=other["x"]))),        # x does not match d
            (good_id, credentials.secret_for_jwk(dict(jwk, d=credentials.b64url(b"\1" * 31)))),
            (good_id, ""),                                                         # id without secret
        ]
        for client_id, secret in bad:
            with self.subTest(client_id=client_id, secret=secret[-12:]):
                d = Daemon(self.c1, self.twingate, env={"BATON_CLIENT_ID": client_id,
                                                        "BATON_CLIENT_SECRET": secret or None})
                d.start()
                self.addCleanup(d.close)
                self.assertNotEqual(d.wait(60), 0)
                self.assertOneErrorLine(d.stderr())
                if secret:
                    self.assertNotIn(secret.split(":")[-1], d.output())
                self.assertNotIn(jwk["d"], d.output())
        self.assertEqual(self.c1.state()["connections"], 0, "no network traffic (1.3)")
        self.assertEqual(self.twingate.stats()["requests"], 0)

    def test_19_flags_work_like_the_environment(self):
        d = self.start_daemon("--client-id", self.c1.client_id, "--client-secret", self.c1.client_secret,
                              env={"BATON_CLIENT_ID": None, "BATON_CLIENT_SECRET": None})
        self.polls_after(0)
        self.assertTrue(d.alive())


class MainPath(ServiceTest):
    tenant = BIG_TENANT

    def test_04_sync_upload_finish_and_the_file_equals_a_one_shot_sync(self):
        d = self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"}, timeout=120)
        self.assertEqual(fin["final_state"], "success", fin)
        self.assertIsNone(fin["status"])
        self.assertEqual(fin["success"], {"annotations": [], "response": None}, "success {} (4.5)")
        beats = self.calls_of_task("Heartbeat", tid)
        uploads = self.c1.uploads(tid)
        self.assertEqual(len(uploads), 1)
        self.assertLess(beats[0]["seq"], self.calls_of_task("UploadAsset", tid)[0]["seq"])
        up = uploads[0]
        self.assertEqual(up["grpc_status"], 0)
        self.assertGreaterEqual(len(up["chunks"]), 2)
        self.assertTrue(all(n == 524288 for n in up["chunks"][:-1]))
        self.assertTrue(0 < up["chunks"][-1] <= 524288)
        self.assertEqual(up["eof_sha256"], up["sha256"])
        self.assertTrue(is_c1z(up["path"]))
        work = tempfile.mkdtemp(prefix="bt-svc-cmp-")
        self.addCleanup(shutil.rmtree, work, True)
        self.assertSameSync(up["path"], one_shot_sync(self.twingate, work))
        self.c1.wait_for(lambda st: not os.listdir(d.temp_dir), 30, "the temp c1z removed")
        finished = self.calls_of_task("FinishTask", tid)[0]["seq"]
        self.polls_after(finished, 15)
        self.assertEqual([b for b in self.calls_of_task("Heartbeat", tid) if b["seq"] > finished], [],
                         "heartbeats stop once FinishTask returned (4.4)")
        self.assertNoViolations()

    def test_04_skip_options_are_honoured(self):
        # The issue asks for the SyncFullTask skip flags (document 3.5: fields 3 and 6).
        self.start_polling()
        tid, fin = self.run_task({"type": "sync_full", "skip_grants": True}, timeout=120)
        self.assertEqual(fin["final_state"], "success", fin)
        rows = sync_rows(self.c1.uploads(tid)[0]["path"])
        self.assertEqual(len(rows["grants"]), 0, "skip_grants")
        self.assertGreater(len(rows["entitlements"]), 0)
        tid, fin = self.run_task({"type": "sync_full", "skip_entitlements_and_grants": True}, timeout=120)
        self.assertEqual(fin["final_state"], "success", fin)
        rows = sync_rows(self.c1.uploads(tid)[0]["path"])
        self.assertEqual((len(rows["entitlements"]), len(rows["grants"])), (0, 0), "skip_entitlements_and_grants")
        self.assertGreater(len(rows["resources"]), 0)

    def test_04_options_give_the_same_file_as_the_one_shot_flags(self):
        # SyncFullTask options (3.5) and the one-shot flags are one sync: same rows.
        self.start_polling()
        work = tempfile.mkdtemp(prefix="bt-svc-opts-")
        self.addCleanup(shutil.rmtree, work, True)
        cases = [({"sync_resource_type_ids": ["group", "role"]}, ["--sync-resource-types", "group,role"]),
                 ({"skip_entitlements_and_grants": True}, ["--skip-entitlements-and-grants"])]
        for task, flags in cases:
            with self.subTest(task=task):
                tid, fin = self.run_task(dict({"type": "sync_full"}, **task), timeout=120)
                self.assertEqual(fin["final_state"], "success", fin)
                self.assertSameSync(self.c1.uploads(tid)[0]["path"], one_shot_sync(self.twingate, work, flags))

    def test_targeted_sync_task_and_skip_full_sync(self):
        # A SyncFullTask's targeted_sync_resources run the targeted sync of the
        # one-shot --sync-resources; --skip-full-sync refuses only untargeted ones.
        self.start_polling("--skip-full-sync")
        _, fin = self.run_task({"type": "sync_full"})
        self.assert_failed(fin, 9, True, "--skip-full-sync")
        group = max(self.twingate.truth()["groups"], key=lambda g: len(g["members"]))
        tid, fin = self.run_task({"type": "sync_full",
                                  "targeted_sync_resources": [{"type": "group", "id": group["id"]}]},
                                 timeout=120)
        self.assertEqual(fin["final_state"], "success", fin)
        rows = sync_rows(self.c1.uploads(tid)[0]["path"])
        self.assertEqual(rows["syncs"], [("partial", 1)])
        self.assertEqual({(t, i) for t, i, *_ in rows["resources"]}, {("group", "group:" + group["id"])})
        self.assertEqual({p for *_, p, _, _ in rows["grants"]}, set(group["members"]))


class Tasks(ServiceTest):
    def test_04_the_uploaded_file_opens_in_every_reader(self):
        # The demo tenant: the readers' grant backfill is slow on big files.
        self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success", fin)
        work = tempfile.mkdtemp(prefix="bt-svc-readers-")
        self.addCleanup(shutil.rmtree, work, True)
        path = self.c1.uploads(tid)[0]["path"]
        self.assertSameSync(path, one_shot_sync(self.twingate, work))
        self.assert_readers_open(path, work)
        # 5.3: the Hello's resource types equal the ones written into the c1z.
        hello_types = {r["resource_type"]["id"]: r["resource_type"] for r in
                       self.c1.calls("Hello")[0]["request"]["connector_metadata"]["capabilities"][
                           "resource_type_capabilities"]}
        with C1Z(path) as f:
            for ext, data in f.rows("SELECT external_id, data FROM v1_resource_types"):
                self.assertEqual(c1proto.decode_resource_type(pb.decode(data)), hello_types[ext], ext)

    def assert_readers_open(self, path, work):
        db = os.path.join(work, "uploaded.db")
        decompress(path, db)
        for version, sql in SELECT_SYNC.items():
            copy = db + "." + version.replace(".", "_")
            shutil.copyfile(db, copy)
            con = open_as(version, copy)
            self.assertIsNotNone(con.execute(sql).fetchone(), version)
            con.close()

    def test_03_hello_task_is_answered_with_hello_and_no_finish(self):
        self.start_polling()
        (tid,) = self.c1.enqueue({"type": "hello"})
        hello = self.c1.wait_for(lambda st: [c for c in st["calls"] if c["method"] == "Hello"
                                             and c["request"]["task_id"] == tid], what="Hello(task)")[0]
        first = self.c1.calls("Hello")[0]["request"]
        again = dict(hello["request"], task_id="")
        self.assertEqual(again, first, "same content as at start-up (4.7)")
        (marker,) = self.c1.enqueue({"type": "case", "case": 109})
        self.c1.wait_finished(marker)
        self.assertEqual(self.c1.finishes(tid), [])
        self.assertNoViolations()

    def test_10_unsupported_tasks(self):
        self.start_polling()
        ids = self.c1.enqueue({"type": "case", "case": 106}, {"type": "case", "case": 109},
                              {"type": "case", "case": 999}, {"type": "empty"})
        for tid in ids:
            fin = self.c1.wait_finished(tid)
            self.assert_failed(fin, 2, False)
            self.assertEqual(fin["status"]["message"], "unsupported task type")
        self.assertEqual(self.twingate.stats()["requests"], 0)
        self.assertNoViolations()

    def test_a_task_id_too_long_to_keep_is_refused_whole(self):
        # The daemon keeps 63 bytes of a running task's id: a longer one is refused
        # (INVALID_ARGUMENT, not retryable) under its full id, never run under a cut one.
        self.start_polling()
        long_id = "L" * 27 + "x" * 53
        (tid,) = self.c1.enqueue({"type": "sync_full", "id": long_id})
        fin = self.c1.wait_finished(tid)
        self.assertEqual(fin["task_id"], long_id)
        self.assert_failed(fin, 3, True, "task id longer than 63 bytes")
        self.assertEqual(self.c1.calls("Heartbeat"), [])
        self.assertEqual(self.twingate.stats()["requests"], 0)
        # The mock names only the id's form (not 27 alphanumerics); nothing else is wrong.
        self.assertEqual([v for v in self.c1.violations() if "27 alphanumerics" not in v["problem"]], [])

    def test_15_next_poll_is_honoured_and_a_missing_one_repolls_at_once(self):
        self.c1.configure(next_poll=1.0)
        self.start_polling()
        self.polls_after(0, 3)
        self.c1.configure(omit_next_poll=1)
        polls = self.polls_after(0, 6)
        self.assertIn(None, [p["next_poll"] for p in polls[:-1]])
        for a, b in zip(polls, polls[1:]):
            gap, asked = b["time"] - a["time"], a["next_poll"]
            if asked is None:
                self.assertLess(gap, 0.9, "no next_poll: poll again at once (4.2)")
            else:
                self.assertGreaterEqual(gap, 0.95, "next_poll 1 s")

    def test_20_token_expiry_fetches_a_new_token(self):
        self.c1.configure(token_expires_in=12, token_valid_for=3.5, next_poll=0.2)
        self.start_polling()
        st = self.c1.wait_for(lambda st: st if st["tokens"] >= 3 else None, 60, "a third token")
        tokens = self.c1.calls("token", st)
        self.assertGreaterEqual(tokens[1]["time"] - tokens[0]["time"], 1.9, "reused until expiry - 10 s")
        after = [c for c in st["calls"] if c["kind"] == "grpc" and c["seq"] > tokens[1]["seq"]]
        self.assertTrue(after and all(c["token"] >= 2 for c in after))
        self.assertNoViolations()  # an expired token would be flagged

    def test_23_non_200_trailers_and_broken_answers_are_errors(self):
        self.start_polling()
        for change in ({"get_task_fail_http": 503}, {"get_task_fail_http": 0, "error_with_body": True},
                       {"error_with_body": False, "get_task_fail_kind": "ok_without_message"},
                       {"get_task_fail_kind": "compressed"}):
            with self.subTest(change=change):
                self.c1.configure(get_task_fail=1, **change)
                polls = self.polls_after(self.c1.calls("GetTask")[-1]["seq"], 2)
                failed = next(p for p in polls if p.get("fault"))
                nxt = self.polls_after(failed["seq"])[0]
                self.assertGreaterEqual(nxt["time"] - failed["time"], 0.9, "an error: backoff 1 s (4.2)")

    def test_24_answers_split_into_one_byte_data_frames(self):
        # 2.4: a message may span several DATA frames.
        self.c1.configure(data_chunk=1)
        self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success", fin)
        self.assertEqual([c["grpc_status"] for c in self.calls_of_task("Heartbeat", tid)][:1], [0])
        self.assertNoViolations()

    def test_secrets_stay_out_of_debug_logs(self):
        self.c1.configure(token_expires_in=11)  # a new token every second, each logged at debug
        d = self.start_polling("--log-level", "debug")
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success")
        self.c1.wait_for(lambda st: st["tokens"] >= 3, 30, "two more tokens")
        self.assertEqual(d.terminate(), 0)
        self.assertIn("debug", d.output())
        self.check_no_secrets(d)

    def test_task_concurrency_1_stops_polling_while_a_task_runs(self):
        # 4.3: the slot is taken before GetTask, so one busy slot means no polling.
        self.twingate.config(latency_ms=1500)
        self.start_polling("--task-concurrency", "1")
        (sync,) = self.c1.enqueue({"type": "sync_full"})
        handed = self.c1.wait_for(lambda st: [c for c in st["calls"] if c["method"] == "GetTask"
                                              and (c.get("task") or {}).get("id") == sync], what="the sync")[0]
        fin = self.c1.wait_finished(sync)
        finished = self.c1.calls("FinishTask")[-1]
        self.assertEqual(fin["final_state"], "success")
        between = [c for c in self.c1.calls("GetTask") if handed["seq"] < c["seq"] < finished["seq"]]
        self.assertEqual(between, [], "no GetTask while the only slot is busy")

    def test_24_empty_answers_and_the_daemon_keeps_polling(self):
        # Hello, Heartbeat with defaults and FinishTask answers are 0-length frames.
        self.c1.configure(next_heartbeat=None)
        self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success")
        (tid2,) = self.c1.enqueue({"type": "case", "case": 110})
        self.c1.wait_finished(tid2)
        self.assertNoViolations()


class HealthCheck(ServiceTest):
    def test_not_ready_until_hello_and_unhealthy_with_a_bad_twingate_key(self):
        port = free_port()
        self.c1.configure(hello_fail=[{"code": "UNAVAILABLE"}] * 2)  # retried after 1 and 2 s
        self.start_daemon("--health-check", "--health-check-port", str(port),
                          env={"BATON_API_KEY": "not-the-key"})
        self.assertEqual(http_get(port, "/live")[0], 200)
        code, body = http_get(port, "/ready")
        self.assertEqual(self.c1.calls("GetTask"), [], "still not logged in")
        self.assertEqual((code, body["status"]), (503, "not_ready"))
        self.polls_after(0)
        self.assertEqual(http_get(port, "/ready")[0], 200)
        code, body = http_get(port, "/health")
        self.assertEqual((code, body["status"]), (503, "unhealthy"))
        self.assertNotIn("not-the-key", json.dumps(body))

    def test_live_ready_health_and_the_health_cache(self):
        port = free_port()
        self.start_polling("--health-check", "--health-check-port", str(port))
        for path, status in (("/live", "alive"), ("/ready", "ready"), ("/health", "healthy")):
            code, body = http_get(port, path)
            self.assertEqual((code, body["status"]), (200, status), path)
            self.assertIn("timestamp", body)
        reads = self.twingate.stats()["requests"]
        for _ in range(3):
            self.assertEqual(http_get(port, "/health")[0], 200)
        self.assertEqual(self.twingate.stats()["requests"], reads, "/health is cached")

    def test_a_trickling_client_does_not_hold_up_the_daemon(self):
        # One deadline (0.5 s) for a request head, not 1 s per read: a client sending
        # a byte every 0.3 s must not keep other probes and the polls waiting.
        import threading
        port = free_port()
        self.start_polling("--health-check", "--health-check-port", str(port))
        slow = socket.create_connection(("127.0.0.1", port))
        self.addCleanup(slow.close)
        stop = threading.Event()
        self.addCleanup(stop.set)

        def trickle():
            for byte in b"GET /live HTTP/1.1\r\nX-Slow: " + b"a" * 60:
                if stop.wait(0.3):
                    return
                try:
                    slow.send(bytes([byte]))
                except OSError:
                    return
        threading.Thread(target=trickle, daemon=True).start()
        time.sleep(0.1)
        seq = self.c1.state()["calls"][-1]["seq"]
        started = time.monotonic()
        self.assertEqual(http_get(port, "/live")[0], 200)
        self.assertLess(time.monotonic() - started, 1.5, "/live waited behind the slow client")
        self.polls_after(seq, 3, timeout=3)  # polling (every 0.1 s) goes on meanwhile
        stop.set()


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def http_get(port, path):
    import urllib.error
    import urllib.request
    deadline = time.monotonic() + 30
    while True:
        try:
            with urllib.request.urlopen("http://127.0.0.1:%d%s" % (port, path), timeout=30) as r:
                return r.status, json.loads(r.read())
        except urllib.error.HTTPError as e:
            return e.code, json.loads(e.read())
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.05)


if __name__ == "__main__":
    unittest.main()
