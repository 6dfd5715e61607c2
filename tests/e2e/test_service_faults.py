"""Service mode end to end, faults: cancellation, heartbeat failures, GetTask
outages, upload retries, checksum mismatches, a killed task child, SIGTERM
during a sync, and a grant that does not wait behind a sync (document 4.2-4.6,
checklist 11-14, 21, 22). A slow sync comes from the mock Twingate's latency."""

import base64
import os
import shutil
import signal
import tempfile
import time
import unittest

from service_harness import ServiceTest, one_shot_sync, sync_rows
import routes  # tests/c1mock, on the path once service_harness is imported


EMEKA = base64.b64encode(b"User:589707").decode()  # a MANUAL user of the demo tenant


def gone(pid):
    """The process has exited (a zombie left to a non-reaping init counts)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] == "Z"
    except OSError:
        return True


def heartbeats_of(st, tid):
    return [c for c in st["calls"] if c["method"] == "Heartbeat" and c["request"]["task_id"] == tid]


class TaskHelpers:
    requests_per_sync = 2  # the demo tenant; SlowSyncs counts its own

    def slow_sync(self, seconds, **task):
        """Start the daemon, queue a sync made to last about `seconds` by Twingate latency."""
        self.twingate.config(latency_ms=seconds * 1000.0 / self.requests_per_sync)
        d = self.start_polling()
        (tid,) = self.c1.enqueue(dict({"type": "sync_full"}, **task))
        return d, tid

    def wait_children(self, d):
        deadline = time.monotonic() + 30
        while not d.children():
            self.assertLess(time.monotonic(), deadline, "no task child found")
            time.sleep(0.05)
        return d.children()


class SlowSyncs(TaskHelpers, ServiceTest):
    # Many short requests per sync (about 24 with the user-side walk): latency per
    # request sets the sync's length, and a cancelled sync leaves at most one short
    # request in flight for the next test. setUpClass counts them.
    tenant = dict(tenant="synthetic", seed=1, users=2300, groups=10)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        work = tempfile.mkdtemp(prefix="bt-svc-count-")
        try:
            one_shot_sync(cls.twingate, work)
        finally:
            shutil.rmtree(work, ignore_errors=True)
        cls.requests_per_sync = cls.twingate.stats()["requests"]

    def test_11_cancel_at_a_later_heartbeat_stops_the_sync(self):
        d, tid = self.slow_sync(3.5, heartbeat={"cancel_at": 2})
        fin = self.c1.wait_finished(tid, 60)
        self.assert_failed(fin, 1, False)
        self.assertEqual(self.c1.uploads(tid), [])
        self.c1.wait_for(lambda st: not os.listdir(d.temp_dir), 30, "the temp c1z removed")
        self.assertTrue(d.alive())
        self.assertNoViolations()

    def test_13_nine_failed_heartbeats_cancel_the_sync(self):
        d, tid = self.slow_sync(14, heartbeat={"fail_from": 2, "fail_count": 9})
        fin = self.c1.wait_finished(tid, 60)
        self.assert_failed(fin, 1, False)
        beats = heartbeats_of(self.c1.state(), tid)
        self.assertEqual([b.get("fault") is not None for b in beats[:10]], [False] + [True] * 9)
        gaps = [b["time"] - a["time"] for a, b in zip(beats[1:], beats[2:10])]
        self.assertTrue(all(g >= 0.95 for g in gaps), "a failure keeps the 1 s interval: %s" % gaps)
        self.assertEqual(self.c1.uploads(tid), [])
        self.assertTrue(d.alive())

    def test_a_sync_longer_than_the_token_lifetime_still_uploads(self):
        # 1.6: a token is reused until 10 s before it expires, then fetched again; a task
        # process that outlives the token it started with must not upload with it. The
        # mock accepts each token for 3.5 s of its 12: 1.5 s past the client's 2 s.
        self.c1.configure(token_expires_in=12, token_valid_for=3.5)
        d, tid = self.slow_sync(5)
        fin = self.c1.wait_finished(tid, 90)
        self.assertEqual(fin["final_state"], "success", fin)
        self.assertEqual([u["grpc_status"] for u in self.c1.uploads(tid)], [0])
        self.assertGreaterEqual(self.c1.state()["tokens"], 3, "tokens were refreshed meanwhile")
        self.assertNoViolations()

    def test_sigterm_during_a_sync_finishes_it_canceled_and_exits_0(self):
        d, tid = self.slow_sync(3.5)
        self.c1.wait_for(lambda st: heartbeats_of(st, tid), what="the sync to start")
        kids = self.wait_children(d)
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(60), 0)
        fin = self.c1.finish(tid)
        self.assert_failed(fin, 1, False)
        self.assertEqual(os.listdir(d.temp_dir), [], "temporary files removed")
        self.assertTrue(all(gone(pid) for pid in kids), "no task child outlives the daemon")

    def test_without_c1z_temp_dir_the_sync_file_goes_to_tmpdir(self):
        self.twingate.config(latency_ms=2500.0 / self.requests_per_sync)
        tmpdir = tempfile.mkdtemp(prefix="bt-svc-tmpdir-")
        self.addCleanup(shutil.rmtree, tmpdir, True)
        self.start_polling(temp_flag=False, env={"TMPDIR": tmpdir})
        (tid,) = self.c1.enqueue({"type": "sync_full"})
        self.c1.wait_for(lambda st: heartbeats_of(st, tid), what="the sync to start")
        self.assertNotEqual(os.listdir(tmpdir), [], "the sync writes under TMPDIR")
        fin = self.c1.wait_finished(tid, 60)
        self.assertEqual(fin["final_state"], "success")
        self.c1.wait_for(lambda st: not os.listdir(tmpdir), 30, "TMPDIR emptied")

    def test_a_killed_child_is_a_failed_task_and_the_daemon_keeps_polling(self):
        d, tid = self.slow_sync(3.5)
        self.c1.wait_for(lambda st: heartbeats_of(st, tid), what="the sync to start")
        kids = self.wait_children(d)
        for pid in kids:
            os.kill(pid, signal.SIGKILL)
        fin = self.c1.wait_finished(tid, 60)
        self.assertEqual(fin["final_state"], "error")
        self.assertNotEqual(fin["status"]["code"], 0)
        self.assertTrue(d.alive())
        self.twingate.config(latency_ms=0)
        tid2, fin2 = self.run_task({"type": "sync_full"})
        self.assertEqual(fin2["final_state"], "success")
        self.c1.wait_for(lambda st: not os.listdir(d.temp_dir), 30, "the temp files removed")

    def test_another_task_does_not_wait_behind_a_sync(self):
        # Default --task-concurrency 3 (4.3): polling goes on while a sync holds a slot.
        d, tid = self.slow_sync(2.5)
        self.c1.wait_for(lambda st: heartbeats_of(st, tid), what="the sync to start")
        (quick,) = self.c1.enqueue({"type": "case", "case": 106})
        self.c1.wait_finished(quick)
        self.assertEqual(self.c1.finishes(tid), [], "the sync is still running")
        self.c1.wait_finished(tid, 60)

    def test_a_stalled_get_task_does_not_hold_up_heartbeats(self):
        # GetTask's deadline is at most the time to the next heartbeat (1 s here):
        # a server that holds a GetTask for 20 s must not stop the heartbeats.
        d, tid = self.slow_sync(8)
        self.c1.wait_for(lambda st: len(heartbeats_of(st, tid)) >= 2, 30, "two heartbeats")
        self.c1.configure(get_task_stall=1, get_task_stall_seconds=20)
        stalled = self.c1.wait_for(lambda st: [c for c in st["calls"] if c.get("fault") == "get_task_stall"],
                                   30, "the stalled GetTask")[0]
        timeout = routes.timeout_seconds(stalled["headers"].get("grpc-timeout"))
        self.assertIsNotNone(timeout, "GetTask carries a grpc-timeout")
        self.assertLessEqual(timeout, 2, "GetTask's deadline is the time to the next heartbeat")
        self.c1.wait_for(lambda st: len([c for c in heartbeats_of(st, tid) if c["seq"] > stalled["seq"]]) >= 3,
                         8, "heartbeats while the GetTask is stalled")
        self.assertEqual(self.c1.wait_finished(tid, 60)["final_state"], "success")
        for c in self.c1.state()["calls"]:
            if c["method"] in ("Hello", "GetTask", "Heartbeat"):
                limit = 60 if c["method"] == "Hello" else 30
                t = routes.timeout_seconds(c["headers"].get("grpc-timeout"))
                self.assertIsNotNone(t, "%s without grpc-timeout" % c["method"])
                self.assertLessEqual(t, limit, c["method"])


class Lifecycle(TaskHelpers, ServiceTest):
    # The demo tenant: a sync makes 2 requests (the read-budget test counts on it).

    def test_12_cancel_at_the_first_heartbeat_drops_the_task(self):
        self.twingate.config(latency_ms=0)
        self.start_polling()
        (tid,) = self.c1.enqueue({"type": "sync_full", "heartbeat": {"cancel_at": 1}})
        beat = self.c1.wait_for(lambda st: heartbeats_of(st, tid), what="the first heartbeat")[0]
        (marker,) = self.c1.enqueue({"type": "case", "case": 110})
        self.c1.wait_finished(marker)
        self.polls_after(beat["seq"], 5)
        self.assertEqual(self.c1.finishes(tid), [], "no FinishTask (4.4)")
        self.assertEqual(self.c1.uploads(tid), [])
        self.assertEqual(self.twingate.stats()["requests"], 0, "no sync")

    def test_sigint_when_idle_exits_0(self):
        d = self.start_polling()
        d.proc.send_signal(signal.SIGINT)
        self.assertEqual(d.wait(60), 0)
        self.assertEqual(self.c1.state()["finishes"], {})

    def test_sigterm_during_a_provisioning_task_lets_it_finish(self):
        self.twingate.config(latency_ms=1000)
        d = self.start_polling()
        (tid,) = self.c1.enqueue({"type": "delete_resource", "resource_id": {"type": "user", "id": EMEKA}})
        self.c1.wait_for(lambda st: tid in st["handed"], what="the task handed out")
        self.wait_children(d)
        d.proc.send_signal(signal.SIGTERM)
        self.assertEqual(d.wait(60), 0)
        fin = self.c1.finish(tid)
        self.assert_success(fin, "DeleteResourceResponse")
        self.assertNotIn(EMEKA, [u["id"] for u in self.twingate.truth()["users"]])

    def test_a_killed_provisioning_child_is_a_non_retryable_error(self):
        self.twingate.config(latency_ms=1500)
        d = self.start_polling()
        (tid,) = self.c1.enqueue({"type": "delete_resource", "resource_id": {"type": "user", "id": EMEKA}})
        self.c1.wait_for(lambda st: tid in st["handed"], what="the task handed out")
        for pid in self.wait_children(d):
            os.kill(pid, signal.SIGKILL)
        fin = self.c1.wait_finished(tid, 60)
        self.assertEqual(fin["final_state"], "error")
        self.assertTrue(fin["error"]["non_retryable"], "provisioning failures are non-retryable (4.7)")
        self.assertTrue(d.alive())
        self.assertNoViolations()

    def test_a_script_error_is_a_failed_sync_and_the_daemon_keeps_polling(self):
        scripts = tempfile.mkdtemp(prefix="bt-svc-scripts-")
        self.addCleanup(shutil.rmtree, scripts, True)
        os.makedirs(os.path.join(scripts, "twingate"))
        # An override that extends the bundled module and breaks its sync.
        with open(os.path.join(scripts, "twingate", "users.lua"), "w") as f:
            f.write('local users = require "bundled:twingate.users"\n'
                    'function users.sync() error("exploded on purpose") end\n'
                    'return users\n')
        d = self.start_polling("--scripts-dir", scripts)
        tid, fin = self.run_task({"type": "sync_full"})
        self.assert_failed(fin, 2, False, "exploded on purpose")
        self.assertEqual(self.c1.uploads(tid), [])
        _, fin = self.run_task({"type": "case", "case": 106})
        self.assert_failed(fin, 2, False, "unsupported task type")
        self.assertTrue(d.alive())
        self.c1.wait_for(lambda st: not os.listdir(d.temp_dir), 30, "the temp files removed")

    def test_keep_holds_in_service_mode(self):
        # Issue 16 section 1: the service-mode sync runs the same keep hook, full and targeted.
        scripts = tempfile.mkdtemp(prefix="bt-svc-keep-")
        self.addCleanup(shutil.rmtree, scripts, True)
        os.makedirs(os.path.join(scripts, "twingate"))
        with open(os.path.join(scripts, "twingate", "users.lua"), "w") as f:
            f.write('local users = require "bundled:twingate.users"\n'
                    'function users.keep(node) return node.state ~= "DISABLED" end\n'
                    'return users\n')
        truth = self.twingate.truth()
        disabled = {u["id"] for u in truth["users"] if u["state"] == "DISABLED"}
        everyone = truth["groups"][0]
        self.assertEqual(("Everyone", 2), (everyone["name"], len(disabled & set(everyone["members"]))))
        d = self.start_polling("--scripts-dir", scripts)
        for task in ({"type": "sync_full"},
                     {"type": "sync_full",
                      "targeted_sync_resources": [{"type": "group", "id": everyone["id"]}]}):
            with self.subTest(task=task):
                tid, fin = self.run_task(task)
                self.assertEqual(fin["final_state"], "success", fin)
                rows = sync_rows(self.c1.uploads(tid)[0]["path"])
                principals = {p for *_, p, _, _ in rows["grants"]}
                self.assertTrue(principals)
                self.assertFalse(disabled & principals)
                self.assertFalse({i for _, i, *_ in rows["resources"]} & {"user:" + u for u in disabled})
        self.assertIn("2 filtered (user 2)", d.output())
        self.assertNoViolations()

    def test_concurrent_tasks_share_one_read_budget(self):
        # Issue item 6: the children pace together. A demo sync needs k reads; with a
        # budget of k + 1 a minute, one sync finishes and the other waits for the window,
        # however many task processes there are.
        work = tempfile.mkdtemp(prefix="bt-svc-budget-")
        self.addCleanup(shutil.rmtree, work, True)
        one_shot_sync(self.twingate, work)
        k = self.twingate.stats()["reads"]
        self.twingate.reset_stats()
        d = self.start_polling("--reads-per-minute", str(k + 1), pacing=True)
        first, second = self.c1.enqueue({"type": "sync_full"}, {"type": "sync_full"})
        done = self.c1.wait_for(lambda st: [t for t in (first, second) if st["finishes"].get(t)],
                                what="one sync to finish")
        self.assertEqual(len(done), 1, "both syncs finished: %d reads within a minute" % (2 * k))
        deadline = time.monotonic() + 2
        while time.monotonic() < deadline:
            self.assertLessEqual(self.twingate.stats()["reads"], k + 1)
            time.sleep(0.1)
        self.assertEqual(d.terminate(), 0)

class Outages(ServiceTest):
    def test_14_get_task_outage_backs_off_1_then_4_seconds(self):
        self.c1.configure(get_task_fail=2)
        self.start_daemon()
        polls = self.polls_after(0, 4)
        self.assertEqual([p["grpc_status"] for p in polls[:3]], [14, 14, 0])
        gaps = [b["time"] - a["time"] for a, b in zip(polls, polls[1:])]
        self.assertGreaterEqual(gaps[0], 0.95, "1 s after the first failure")
        self.assertGreaterEqual(gaps[1], 3.9, "4 s after the second")
        self.assertLess(gaps[2], 3.0, "normal polling after one success")

    def test_21_failed_first_upload_is_redone_from_metadata(self):
        self.c1.configure(upload_fail_first=1)
        self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success", fin)
        ups = self.c1.uploads(tid)
        self.assertEqual([u["grpc_status"] for u in ups], [14, 0])
        self.assertEqual(ups[1]["eof_sha256"], ups[1]["sha256"])
        self.assertTrue(ups[1]["chunks"])
        self.assertNoViolations()

    def test_22_checksum_mismatch_three_attempts_then_data_loss(self):
        self.c1.configure(upload_force_mismatch=True)
        d = self.start_polling()
        tid, fin = self.run_task({"type": "sync_full"})
        self.assert_failed(fin, 15, False)
        calls = self.calls_of_task("UploadAsset", tid)
        self.assertEqual([c["grpc_status"] for c in calls], [15, 15, 15])
        self.assertGreaterEqual(calls[2]["time"] - calls[1]["time"], 0.9, "1 s before the third attempt")
        self.c1.wait_for(lambda st: not os.listdir(d.temp_dir), 30, "the temp c1z removed")
        self.assertNoViolations()


if __name__ == "__main__":
    unittest.main()
