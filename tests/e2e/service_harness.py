"""Helpers for the service-mode end-to-end tests: the daemon as a child process
next to the mock ConductorOne (tests/c1mock) and the mock Twingate, plus the
checks every test repeats (no secret in any output, no protocol violation)."""

import base64
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import unittest

from harness import BINARY, C1Z, MAGIC, ROOT, MockServer, sync_against

sys.path.insert(0, os.path.join(ROOT, "tests", "c1mock"))

from c1mockctl import C1Mock  # noqa: E402  (path set above)
import credentials  # noqa: E402

ANY = "type.googleapis.com/c1.connector.v2."
CAPABILITY = {"CAPABILITY_PROVISION": 1, "CAPABILITY_SYNC": 2, "CAPABILITY_EVENT_FEED": 3,
              "CAPABILITY_TICKETING": 4, "CAPABILITY_ACCOUNT_PROVISIONING": 5,
              "CAPABILITY_CREDENTIAL_ROTATION": 6, "CAPABILITY_RESOURCE_CREATE": 7,
              "CAPABILITY_RESOURCE_DELETE": 8, "CAPABILITY_TARGETED_SYNC": 11,
              "CAPABILITY_SERVICE_MODE_TARGETED_SYNC": 13}
TRAIT = {"TRAIT_USER": 1, "TRAIT_GROUP": 2, "TRAIT_ROLE": 3, "TRAIT_APP": 4}


def clean_env(extra):
    """The environment without BATON_* variables, plus extra (a None value removes)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


class Daemon:
    """baton-twingate in service mode; stdout/stderr go to files."""

    def __init__(self, c1, twingate, args=(), env=None, temp_dir=None, provisioning=True, pacing=False,
                 api_url=None, temp_flag=True):
        self.temp_dir = temp_dir or tempfile.mkdtemp(prefix="bt-svc-tmp-")
        self.out_dir = tempfile.mkdtemp(prefix="bt-svc-out-")
        argv = [BINARY, "--api-url", api_url or twingate.url, "--log-format", "json"]
        if temp_flag:
            argv += ["--c1z-temp-dir", self.temp_dir]
        if not pacing:  # the script's pacing (60 reads a minute) would slow every test down
            argv += ["--reads-per-minute", "0", "--writes-per-minute", "0"]
        argv += (["-p"] if provisioning else []) + list(args)
        e = c1.env(BATON_API_KEY=twingate.api_key)
        e.update(env or {})
        self.argv, self.env = argv, clean_env(e)
        self.proc = None
        self.rc = None

    def start(self):
        self._out = open(os.path.join(self.out_dir, "stdout"), "wb")
        self._err = open(os.path.join(self.out_dir, "stderr"), "wb")
        self.proc = subprocess.Popen(self.argv, env=self.env, stdout=self._out, stderr=self._err,
                                     stdin=subprocess.DEVNULL, cwd=self.out_dir)
        return self

    def wait(self, timeout=60):
        self.rc = self.proc.wait(timeout)
        return self.rc

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def terminate(self, timeout=60):
        """SIGTERM and wait (the timeout only guards a hang); returns the exit code."""
        if self.alive():
            self.proc.send_signal(signal.SIGTERM)
            try:
                return self.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.wait()
                raise AssertionError("the daemon did not exit within %ss of SIGTERM" % timeout)
        self.rc = self.proc.poll() if self.proc else None
        return self.rc

    def close(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()
        for f in (getattr(self, "_out", None), getattr(self, "_err", None)):
            if f:
                f.close()
        shutil.rmtree(self.out_dir, ignore_errors=True)
        shutil.rmtree(self.temp_dir, ignore_errors=True)

    def output(self):
        text = ""
        for name in ("stdout", "stderr"):
            with open(os.path.join(self.out_dir, name), "rb") as f:
                text += f.read().decode("utf-8", "replace")
        return text

    def stderr(self):
        with open(os.path.join(self.out_dir, "stderr"), "rb") as f:
            return f.read().decode("utf-8", "replace")

    def children(self):
        """Pids of the daemon's direct child processes."""
        pid = self.proc.pid
        out = set()
        try:
            for tid in os.listdir("/proc/%d/task" % pid):
                with open("/proc/%d/task/%s/children" % (pid, tid)) as f:
                    out.update(int(p) for p in f.read().split())
        except OSError:
            pass
        return sorted(out)

    def temp_files(self):
        return sorted(os.listdir(self.temp_dir))


def secret_parts(c1):
    """Every string that must never appear in the daemon's output."""
    payload = c1.client_secret.split(":", 3)[3]
    jwk = json.loads(credentials.b64url_decode(payload))
    return [c1.client_secret, payload, jwk["d"]]


class ServiceTest(unittest.TestCase):
    """Starts a mock Twingate per class and a mock C1 per test; the daemon on demand."""

    tenant = dict(tenant="demo")
    c1_config = {}

    @classmethod
    def setUpClass(cls):
        cls.twingate = MockServer(**cls.tenant).start()

    @classmethod
    def tearDownClass(cls):
        cls.twingate.stop()

    def setUp(self):
        self.drain_twingate()
        self.twingate.reset()
        self.twingate.reset_stats()
        self.twingate.config(latency_ms=0, fail_first=0)  # faults an earlier test set
        self.c1 = C1Mock(config=dict({"next_poll": 0.1}, **self.c1_config)).start()
        self.addCleanup(self.c1.stop)
        self.daemon = None

    def drain_twingate(self, timeout=60):
        """Wait until the mock Twingate has no request in flight: a slow request of an
        earlier test's killed task must not land in this test's state or stats."""
        deadline = time.monotonic() + timeout
        while self.twingate.stats()["in_flight"]:
            if time.monotonic() > deadline:
                raise AssertionError("the mock Twingate still has requests in flight")
            time.sleep(0.05)

    def start_daemon(self, *args, **kw):
        self.daemon = Daemon(self.c1, self.twingate, args, **kw).start()
        self.addCleanup(self.daemon.close)
        self.addCleanup(self.check_output, self.daemon)
        return self.daemon

    def start_polling(self, *args, **kw):
        """Start the daemon and wait until it polls (Hello done)."""
        d = self.start_daemon(*args, **kw)
        self.c1.wait_for(lambda st: any(c["method"] == "GetTask" for c in st["calls"]),
                         what="the first GetTask")
        return d

    def check_output(self, daemon):
        self.check_no_secrets(daemon)
        text = daemon.output()
        for word in ("AddressSanitizer", "LeakSanitizer", "runtime error:"):
            self.assertNotIn(word, text, "a sanitizer report (with a sanitizer build)")

    def check_no_secrets(self, daemon):
        text = daemon.output()
        st = self.c1.state()
        for secret in secret_parts(self.c1) + st["token_values"] + [self.twingate.api_key]:
            self.assertNotIn(secret, text, "a secret appears in the daemon's output")

    def assertNoViolations(self):
        self.assertEqual(self.c1.violations(), [])

    def assertOneErrorLine(self, text):
        lines = [l for l in text.splitlines() if l.strip()]
        errors = [l for l in lines if l.startswith("error:")]
        self.assertEqual(len(errors), 1, text)

    # ---- task helpers

    def run_task(self, task, timeout=60):
        (tid,) = self.c1.enqueue(task)
        return tid, self.c1.wait_finished(tid, timeout)

    def assert_failed(self, fin, code, non_retryable, text=None):
        self.assertEqual(fin["final_state"], "error", fin)
        self.assertEqual(fin["status"]["code"], code, fin)
        self.assertEqual(fin["error"]["non_retryable"], non_retryable, fin)
        self.assertIsNone(fin["error"]["response"])
        if text is not None:
            self.assertIn(text, fin["status"]["message"])

    def assert_success(self, fin, message_name):
        self.assertEqual(fin["final_state"], "success", fin)
        self.assertIsNone(fin["status"])
        response = fin["success"]["response"]
        self.assertEqual(response["type_url"], ANY + message_name)
        self.assertEqual(fin["success"]["annotations"], response["decoded"]["annotations"],
                         "success.annotations is a copy of the response's (4.7)")
        return response["decoded"]

    def polls_after(self, seq, count=1, timeout=60):
        """Wait for `count` GetTasks recorded after seq; returns them."""
        def later(st):
            got = [c for c in st["calls"] if c["method"] == "GetTask" and c["seq"] > seq]
            return got if len(got) >= count else None
        return self.c1.wait_for(later, timeout, "%d GetTask(s) after #%d" % (count, seq))

    def assertSameSync(self, got_path, want_path):
        """Same rows in every table; on a difference, name a few rows, not all."""
        got, want = sync_rows(got_path), sync_rows(want_path)
        for table in want:
            extra, missing = got[table] - want[table] if table != "syncs" else [], \
                want[table] - got[table] if table != "syncs" else []
            if table == "syncs":
                self.assertEqual(got[table], want[table], "sync runs")
                continue
            if extra or missing:
                self.fail("%s: %d rows only in %s, %d only in %s; e.g. %s / %s" % (
                    table, len(extra), got_path, len(missing), want_path,
                    [r[:-1] for r in sorted(extra)[:3]], [r[:-1] for r in sorted(missing)[:3]]))

    def calls_of_task(self, method, task_id):
        out = []
        for c in self.c1.calls(method):
            req = c.get("request") or {}
            if req.get("task_id") == task_id:
                out.append(c)
        return out


# ---------------------------------------------------------------- c1z content


def sync_rows(path):
    """The content of a c1z without ids, sync ids and times: one set per table."""
    with C1Z(path) as f:
        return {
            "resource_types": set(f.rows("SELECT external_id, data FROM v1_resource_types")),
            "resources": set(f.rows("SELECT resource_type_id, external_id, parent_resource_type_id, "
                                    "parent_resource_id, data FROM v1_resources")),
            "entitlements": set(f.rows("SELECT resource_type_id, resource_id, external_id, data "
                                       "FROM v1_entitlements")),
            "grants": set(f.rows("SELECT resource_type_id, resource_id, entitlement_id, "
                                 "principal_resource_type_id, principal_resource_id, external_id, data "
                                 "FROM v1_grants")),
            "syncs": f.rows("SELECT sync_type, ended_at IS NOT NULL FROM v1_sync_runs"),
        }


def one_shot_sync(twingate, directory, extra=()):
    out = os.path.join(directory, "one-shot.c1z")
    r = sync_against(twingate, out, extra)
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return out


def blob(path, sql, *args):
    """One data blob of a c1z as base64 (to send back in a task, as C1 would)."""
    with C1Z(path) as f:
        rows = f.rows(sql, *args)
    if len(rows) != 1:
        raise AssertionError("%d rows for %s %s" % (len(rows), sql, args))
    return base64.b64encode(rows[0][0]).decode("ascii")


def is_c1z(path):
    with open(path, "rb") as f:
        return f.read(5) == MAGIC
