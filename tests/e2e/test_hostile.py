"""Hostile conditions end to end: server faults, rate limits, truncated
answers, a wrong key, signals and bad input. Every run either succeeds with a
file equal to the mock's truth, or fails with exactly one `error:` line, a
non-zero exit, any earlier file byte-identical and no temporary file left."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from harness import BINARY, C1Z, MockServer, run, sync_against, user_display_name

EARLIER = b"an earlier sync file"


class HostileCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-hostile-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def error_lines(self, r):
        return [line for line in r.stderr.splitlines() if line.startswith("error:")]

    def assert_clean_failure(self, r, needle=None, earlier=None):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        if needle:
            self.assertIn(needle, lines[0])
        expected = ["sync.c1z"] if earlier is not None else []
        self.assertEqual(sorted(os.listdir(self.dir)), expected, "no file or temp file left")
        if earlier is not None:
            with open(self.out, "rb") as f:
                self.assertEqual(f.read(), earlier)

    def assert_equals_truth(self, truth):
        with C1Z(self.out) as f:
            self.assertEqual(f.resources("user"),
                             {u["id"]: user_display_name(u) for u in truth["users"]})
            self.assertEqual(f.resources("group"), {g["id"]: g["name"] for g in truth["groups"]})
            self.assertEqual(f.grant_pairs("group"),
                             {(g["id"], m) for g in truth["groups"] for m in g["members"]})
            self.assertEqual(f.grant_pairs("role"),
                             {(u["role"].lower(), u["id"]) for u in truth["users"]})
            self.assertEqual(f.rows("SELECT sync_type, ended_at IS NOT NULL FROM v1_sync_runs"),
                             [("full", 1)])
        self.assertEqual(sorted(os.listdir(self.dir)), ["sync.c1z"])


class Faults(HostileCase):
    # (mock options, flags, expected outcome, needle of the error)
    CASES = [
        (dict(fail_first=1), ["--http-max-attempts", "2"], "ok", None),
        (dict(fail_first=3), ["--http-max-attempts", "2"], "fail", "server"),
        (dict(fail_every=2), ["--http-max-attempts", "2"], "ok", None),
        (dict(fail_every=1), ["--http-max-attempts", "3"], "fail", "server"),
        (dict(truncate_every=2), ["--http-max-attempts", "3"], "ok", None),
        (dict(truncate_every=1), ["--http-max-attempts", "3"], "fail", "decode"),
        (dict(reads_per_minute=1, rate_window_seconds=30, retry_after_date=True),
         ["--http-max-retry-wait", "2"], "fail", "rate_limited"),
        (dict(reads_per_minute=1, rate_window_seconds=30, no_retry_after=True),
         ["--http-max-retry-wait", "2"], "fail", "rate_limited"),
        (dict(reads_per_minute=1, rate_window_seconds=1, retry_after_date=True),
         ["--http-max-retry-wait", "20"], "ok", None),
        (dict(reads_per_minute=1, rate_window_seconds=1), ["--http-max-retry-wait", "20"], "ok", None),
        (dict(reads_per_minute=2, rate_window_seconds=1, no_retry_after=True),
         ["--http-max-retry-wait", "30", "--http-max-attempts", "10"], "ok", None),
    ]

    def test_each_fault_succeeds_exactly_or_fails_cleanly(self):
        for opts, flags, outcome, needle in self.CASES:
            for earlier in (None, EARLIER):
                with self.subTest(opts=opts, earlier=earlier is not None):
                    for name in os.listdir(self.dir):
                        os.unlink(os.path.join(self.dir, name))
                    if earlier is not None:
                        with open(self.out, "wb") as f:
                            f.write(earlier)
                    with MockServer(**opts) as m:
                        r = sync_against(m, self.out, flags)
                        if outcome == "ok":
                            self.assertEqual(r.returncode, 0, r.stderr)
                            self.assertEqual(self.error_lines(r), [])
                            self.assert_equals_truth(m.truth())
                        else:
                            self.assert_clean_failure(r, needle, earlier)


class Secrets(HostileCase):
    WRONG = "wrong-Key-8c1f0e77"

    def test_wrong_key_never_printed(self):
        with MockServer() as m:
            for fmt in ("console", "json"):
                for level in ("debug", "info"):
                    with self.subTest(fmt=fmt, level=level):
                        r = run(["--api-url", m.url, "-f", self.out, "--log-format", fmt,
                                 "--log-level", level, "--reads-per-minute", "0"],
                                env={"BATON_API_KEY": self.WRONG})
                        self.assertNotIn(self.WRONG, r.stdout + r.stderr)
                        self.assert_clean_failure(r, "auth")
                        if level == "debug":
                            self.assertIn("X-API-KEY: [REDACTED]", r.stderr)
            # as a flag and from .baton.yaml too
            with open(os.path.join(self.dir, ".baton.yaml"), "w") as f:
                f.write("api-key: %s\n" % self.WRONG)
            r = run(["--api-url", m.url, "-f", "sync.c1z", "--log-level", "debug"], cwd=self.dir)
            self.assertNotIn(self.WRONG, r.stdout + r.stderr)
            os.unlink(os.path.join(self.dir, ".baton.yaml"))
            r = run(["--api-url", m.url, "-f", self.out, "--log-level", "debug",
                     "--api-key", self.WRONG])
            self.assertNotIn(self.WRONG, r.stdout + r.stderr)
            self.assert_clean_failure(r, "auth")

    def test_key_in_a_bad_config_value_is_not_echoed(self):
        with open(os.path.join(self.dir, ".baton.yaml"), "w") as f:
            f.write("api-key: [%s\n" % self.WRONG)
        with MockServer() as m:
            r = run(["--api-url", m.url, "-f", "sync.c1z"], cwd=self.dir)
        self.assertNotIn(self.WRONG, r.stdout + r.stderr)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.error_lines(r), [
            "error: .baton.yaml:1: unsupported YAML value (quote it; lists, blocks, anchors and "
            "tags are not supported)"])
        self.assertEqual(os.listdir(self.dir), [".baton.yaml"])


class JsonLogs(HostileCase):
    def assert_json_lines(self, r):
        for line in r.stderr.splitlines():
            if line.startswith("error: "):
                continue  # the one final line is plain text in every format
            obj = json.loads(line)
            self.assertEqual(list(obj)[:3], ["level", "ts", "msg"], line)
            if len(obj) > 3:  # the records with fields (issue 19): start, progress, summary
                self.assertIn(obj["msg"], ("sync starting", "progress", "sync complete"), line)
            self.assertIn(obj["level"], ("debug", "info", "warn", "error"))

    def test_every_log_line_is_json(self):
        with MockServer(tenant="synthetic", seed=4, users=300, groups=30,
                        fail_every=4, truncate_every=5) as m:
            r = sync_against(m, self.out, ["--log-format", "json", "--log-level", "debug"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assert_json_lines(r)
            self.assertIn('"level":"warn"', r.stderr)
            r = run(["--api-url", m.url, "-f", self.out, "--log-format", "json", "--log-level", "debug"],
                    env={"BATON_API_KEY": "nope-nope"})
            self.assertNotEqual(r.returncode, 0)
            self.assert_json_lines(r)
            self.assertEqual(len(self.error_lines(r)), 1)


class Signals(HostileCase):
    def test_sigterm_during_a_slow_sync_keeps_the_earlier_file(self):
        with MockServer(tenant="synthetic", seed=3, users=1500, groups=40) as m:
            r = sync_against(m, self.out)
            self.assertEqual(r.returncode, 0, r.stderr)
            with open(self.out, "rb") as f:
                before = f.read()
            m.config(latency_ms=200)
            env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            env["BATON_API_KEY"] = m.api_key
            for sig in (signal.SIGTERM, signal.SIGINT):
                with self.subTest(sig=sig):
                    p = subprocess.Popen([BINARY, "--api-url", m.url, "-f", self.out,
                                          "--reads-per-minute", "0"], env=env,
                                         stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE)
                    deadline = time.monotonic() + 20
                    while not any(".tmp" in n for n in os.listdir(self.dir)):
                        self.assertLess(time.monotonic(), deadline, "the sync never started")
                        time.sleep(0.02)
                    time.sleep(0.5)
                    p.send_signal(sig)
                    p.communicate(timeout=30)
                    self.assertNotEqual(p.returncode, 0)
                    self.assertEqual(os.listdir(self.dir), ["sync.c1z"])
                    with open(self.out, "rb") as f:
                        self.assertEqual(f.read(), before)


class BadInput(HostileCase):
    def bad(self, args, needle, cwd=None):
        with MockServer() as m:
            r = run(["--api-url", m.url] + args, env={"BATON_API_KEY": m.api_key},
                    cwd=cwd or self.dir)
            self.assertEqual(m.stats()["requests"], 0, "refused before any request")
        self.assertNotEqual(r.returncode, 0)
        lines = self.error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn(needle, lines[0])
        self.assertEqual(r.stdout, "")
        return r

    def test_bad_flag_values(self):
        self.bad(["-f", self.out, "--log-level", "loud"], 'invalid --log-level "loud"')
        self.bad(["-f", self.out, "--log-format", "xml"], 'invalid --log-format "xml"')
        self.bad(["-f", self.out, "--http-timeout", "-1"], "--http-timeout")
        self.bad(["-f", self.out, "--http-max-attempts", "many"], "--http-max-attempts")
        self.bad(["-f", self.out, "--http-timeout", "99999999999999999999"], "--http-timeout")
        self.bad(["-f", os.path.join(self.dir, "missing", "sync.c1z")], "does not exist")
        self.bad(["-f", self.dir], "is a directory")
        self.assertEqual(os.listdir(self.dir), [])

    def test_bad_config_file(self):
        path = os.path.join(self.dir, ".baton.yaml")
        for text, needle in [
                ("file: [a.c1z, b.c1z]\n", ".baton.yaml:1: unsupported YAML value"),
                ("file: a.c1z\nfile: b.c1z\n", ".baton.yaml:2: duplicate key 'file'"),
                ("log-level: 'debug\n", ".baton.yaml:1: unterminated quote"),
                ("  file: a.c1z\n", ".baton.yaml:1: expected a flat `key: value` line")]:
            with self.subTest(text=text):
                with open(path, "w") as f:
                    f.write(text)
                self.bad([], needle)
                self.assertEqual(os.listdir(self.dir), [".baton.yaml"])

    def test_create_account_profile_must_be_a_json_object(self):
        for profile, needle in [
                ("{not json", "--create-account-profile is not valid JSON"),
                ("[1, 2]", "--create-account-profile must be a JSON object"),
                ('"text"', "--create-account-profile must be a JSON object"),
                ("null", "--create-account-profile must be a JSON object")]:
            with self.subTest(profile=profile):
                self.bad(["-f", self.out, "-p", "--create-account-login", "new@example.com",
                          "--create-account-profile", profile], needle)


if __name__ == "__main__":
    unittest.main()
