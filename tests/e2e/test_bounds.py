"""Nothing unbounded, end to end: a zero timeout is refused, an unreachable
host fails at once, one request's retries stop at a total time cap, and an
endless loop or a memory bomb in a script is stopped with an error naming the
script. Each failure: one `error:` line, non-zero exit, earlier file intact."""

import os
import shutil
import socket
import tempfile
import unittest

from harness import MockServer, run, sync_against

EARLIER = b"an earlier sync file"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


class BoundsCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-bounds-")
        self.out = os.path.join(self.dir, "sync.c1z")
        with open(self.out, "wb") as f:
            f.write(EARLIER)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_clean_failure(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        self.assertEqual(len(lines), 1, r.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])
        self.assertEqual(sorted(os.listdir(self.dir)), sorted(self.left_alone()))
        with open(self.out, "rb") as f:
            self.assertEqual(f.read(), EARLIER)
        return lines[0]

    def left_alone(self):
        return ["sync.c1z"]


class ZeroMeansForever(BoundsCase):
    FLAGS = ["http-timeout-seconds", "http-timeout", "http-connect-timeout", "http-max-total-time",
             "script-memory-limit", "script-cpu-limit"]

    def test_zero_is_refused_before_any_request(self):
        with MockServer(tenant="demo") as m:
            for flag in self.FLAGS:
                with self.subTest(flag=flag):
                    r = sync_against(m, self.out, ["--" + flag, "0"])
                    self.assert_clean_failure(r, "--" + flag, "at least 1")
            self.assertEqual(m.stats()["requests"], 0)

    def test_zero_from_the_environment_is_refused_too(self):
        with MockServer(tenant="demo") as m:
            for var in ("BATON_HTTP_TIMEOUT_SECONDS", "BATON_HTTP_TIMEOUT"):
                r = sync_against(m, self.out, env={var: "0"})
                self.assert_clean_failure(r, "--http-timeout")
            self.assertEqual(m.stats()["requests"], 0)


class Unreachable(BoundsCase):
    def test_refused_connection_fails_at_once_naming_the_host(self):
        port = closed_port()
        r = run(["--api-url", "http://127.0.0.1:%d/api/graphql/" % port, "-f", self.out,
                 "--log-format", "console"], env={"BATON_API_KEY": "k"})
        self.assert_clean_failure(r, "cannot reach 127.0.0.1:%d" % port, "not retried")
        self.assertNotIn("retrying", r.stderr)

    def test_unknown_name_fails_at_once_naming_the_host(self):
        # .invalid never resolves (RFC 6761)
        r = run(["--api-url", "https://no-such-tenant.invalid/api/graphql/", "-f", self.out,
                 "--log-format", "console"], env={"BATON_API_KEY": "k"})
        self.assert_clean_failure(r, "cannot reach no-such-tenant.invalid", "not retried")
        self.assertNotIn("retrying", r.stderr)


class TotalTimeCap(BoundsCase):
    def test_retries_stop_at_the_total_time_cap(self):
        # Every request answers 503: without the cap, 50 attempts and up to
        # 900 s of waiting would be spent on the first request alone.
        with MockServer(tenant="demo", fail_every=1) as m:
            r = sync_against(m, self.out, ["--http-max-total-time", "3",
                                           "--http-max-attempts", "50"])
            self.assert_clean_failure(r, "server")
            self.assertIn("cap on one request's total time", r.stderr)
            self.assertLess(m.stats()["requests"], 10)


class ScriptLimits(BoundsCase):
    def left_alone(self):
        return ["scripts", "sync.c1z"]

    def override_sync(self, body):
        scripts = os.path.join(self.dir, "scripts")
        os.makedirs(os.path.join(scripts, "twingate"), exist_ok=True)
        with open(os.path.join(scripts, "twingate", "sync.lua"), "w") as f:
            f.write("local M = {}\nfunction M.run()\n%s\nend\nreturn M\n" % body)
        return scripts

    def test_endless_loop_is_stopped_naming_script_and_line(self):
        scripts = self.override_sync("  local n = 0\n  while true do n = n + 1 end")
        with MockServer(tenant="demo") as m:
            r = sync_against(m, self.out, ["--scripts-dir", scripts, "--script-cpu-limit", "1"])
        line = self.assert_clean_failure(r, "--script-cpu-limit")
        self.assertIn("twingate/sync.lua:4:", line)

    def test_memory_bomb_is_stopped_naming_script_and_limit(self):
        scripts = self.override_sync(
            "  local t = {}\n  for i = 1, 1e9 do t[i] = string.rep('x', 1 << 16) .. i end")
        with MockServer(tenant="demo") as m:
            r = sync_against(m, self.out, ["--scripts-dir", scripts],
                             env={"BATON_SCRIPT_MEMORY_LIMIT": "32"})
        line = self.assert_clean_failure(r, "script memory limit of 32 MB", "--script-memory-limit")
        self.assertIn("twingate/sync.lua:4:", line)

    def test_a_real_sync_fits_small_limits(self):
        # The budget is Lua work between two requests, not the run: a whole
        # sync fits in 1 s of CPU per stretch and 16 MB of script memory.
        with MockServer(tenant="demo") as m:
            r = sync_against(m, self.out, ["--script-cpu-limit", "1",
                                           "--script-memory-limit", "16"])
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(self.out, "rb") as f:
            self.assertNotEqual(f.read(), EARLIER)


if __name__ == "__main__":
    unittest.main()
