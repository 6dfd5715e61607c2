"""End to end: the Go connector's documented invocations work unchanged, and
every baton-sdk flag is either implemented or refused (never silently ignored)."""

import json
import os
import re
import shutil
import subprocess
import tempfile
import time
import unittest

from demo_ids import ALICE, NEW_HIRE, RELEASE
from harness import BINARY, C1Z, DemoMockCase, MockServer, run


class GoConnectorInvocations(DemoMockCase):
    def setUp(self):
        self.mock.reset()
        self.mock.reset_stats()
        self.dir = tempfile.mkdtemp(prefix="bt-sdkcli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def env(self, **extra):
        # The Go connector's variables; BATON_API_URL only points the endpoint
        # at the loopback mock instead of https://acme.twingate.com.
        e = {"BATON_API_KEY": self.mock.api_key, "BATON_DOMAIN": "acme.twingate.com",
             "BATON_API_URL": self.mock.url, "BATON_READS_PER_MINUTE": "0",
             "BATON_WRITES_PER_MINUTE": "0", "BATON_LOG_FORMAT": "console"}
        e.update(extra)
        return e

    def test_sync_from_environment(self):
        r = run([], env=self.env(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        with C1Z(os.path.join(self.dir, "sync.c1z")) as f:
            self.assertEqual(len(f.resources("user")), len(self.mock.truth()["users"]))

    def test_one_shot_grant_without_p(self):
        r = run(["--grant-entitlement", "group:%s:member" % RELEASE, "--grant-principal", NEW_HIRE,
                 "--grant-principal-type", "user"], env=self.env(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        members = next(g["members"] for g in self.mock.truth()["groups"] if g["id"] == RELEASE)
        self.assertEqual(members, [NEW_HIRE])

    def test_one_shot_revoke_without_p(self):
        self.test_one_shot_grant_without_p()
        r = run(["--revoke-grant", "group:%s:member:user:%s" % (RELEASE, NEW_HIRE)],
                env=self.env(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        members = next(g["members"] for g in self.mock.truth()["groups"] if g["id"] == RELEASE)
        self.assertEqual(members, [])

    def test_http_timeout_seconds_flag_and_variable(self):
        for args, env in ((["--http-timeout-seconds", "30"], {}),
                          ([], {"BATON_HTTP_TIMEOUT_SECONDS": "30"}),
                          (["--http-timeout", "30"], {})):      # the old name stays an alias
            r = run(args, env=self.env(**env), cwd=self.dir)
            self.assertEqual(r.returncode, 0, (args, env, r.stderr))
        r = run([], env=self.env(BATON_HTTP_TIMEOUT_SECONDS="soon"), cwd=self.dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--http-timeout-seconds", r.stderr)

    def test_capabilities(self):
        r = run(["capabilities"], env=self.env(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        caps = json.loads(r.stdout)
        ids = [c["resourceType"]["id"] for c in caps["resourceTypeCapabilities"]]
        self.assertTrue({"user", "group", "role"} <= set(ids))

    def test_create_account_resource_type_is_honoured(self):
        r = run(["--create-account-email", "x@acme.example", "--create-account-resource-type", "bogus"],
                env=self.env(), cwd=self.dir)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr.count("error:"), 1, r.stderr)
        self.assertIn("types that can be created: user", r.stderr)
        self.assertEqual(self.mock.stats()["requests"], 0)
        r = run(["--create-account-email", "ada@acme.example", "--create-account-resource-type", "user"],
                env=self.env(), cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(any(u["email"] == "ada@acme.example" for u in self.mock.truth()["users"]))


class C1zTempDir(unittest.TestCase):
    """--c1z-temp-dir holds a one-shot sync's working database."""

    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-sdkcli-")
        self.work = os.path.join(self.dir, "work")
        os.mkdir(self.work)

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def test_the_working_database_lives_in_the_temp_dir(self):
        out = os.path.join(self.dir, "out", "sync.c1z")
        os.mkdir(os.path.dirname(out))
        with MockServer(tenant="demo") as m:
            m.config(latency_ms=400)   # a sync of a few seconds, to look inside meanwhile
            env = {"BATON_API_KEY": m.api_key, "BATON_C1Z_TEMP_DIR": self.work}
            base = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            base.update(env)
            proc = subprocess.Popen([BINARY, "--api-url", m.url, "-f", out, "--reads-per-minute", "0"],
                                    env=base, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
            seen = set()
            while proc.poll() is None:
                seen |= set(os.listdir(self.work))
                time.sleep(0.02)
            self.assertEqual(proc.returncode, 0, proc.stderr.read())
        self.assertTrue(any(n.startswith("sync.c1z.tmp-db-") for n in seen), seen)
        self.assertEqual(os.listdir(self.work), [])                  # removed at the end
        self.assertEqual(os.listdir(os.path.dirname(out)), ["sync.c1z"])
        with C1Z(out) as f:
            self.assertGreater(f.count("v1_grants"), 0)

    def test_a_missing_temp_dir_is_refused_before_any_request(self):
        with MockServer(tenant="demo") as m:
            r = run(["--api-url", m.url, "-f", os.path.join(self.dir, "s.c1z"),
                     "--c1z-temp-dir", os.path.join(self.dir, "nope")], env={"BATON_API_KEY": m.api_key})
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("--c1z-temp-dir", r.stderr)
            self.assertEqual(m.stats()["requests"], 0)


class UnsupportedSdkFlags(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-sdkcli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def refused(self, r, what):
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(r.stderr.count("error:"), 1, r.stderr)
        self.assertIn(what, r.stderr)
        self.assertIn("not supported by this connector", r.stderr)

    def unsupported(self):
        """The unsupported flags as --help lists them."""
        r = run(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        tail = r.stdout.split("not supported by this connector", 1)[1]
        return re.findall(r"--([a-z0-9-]+)", tail)

    def test_every_unsupported_flag_is_refused_by_flag_variable_and_file(self):
        flags = self.unsupported()
        self.assertIn("otel-collector-endpoint", flags)
        self.assertIn("ticketing", flags)
        self.assertIn("event-feed", flags)
        for name in flags:
            env_name = "BATON_" + name.upper().replace("-", "_")
            self.refused(run(["--" + name + "=x1"]), "--" + name)
            self.refused(run([], env={env_name: "x1"}), env_name)
            with open(os.path.join(self.dir, ".baton.yaml"), "w") as f:
                f.write("%s: x1\n" % name)
            self.refused(run([], cwd=self.dir), "'%s'" % name)

    def test_values_that_ask_for_nothing_are_accepted(self):
        # false bools and the SDK defaults of a shared config file do not stop a run.
        r = run(["--ticketing=false", "--workers", "0", "--storage-engine", "sqlite", "config"])
        self.assertEqual(r.returncode, 0, r.stderr)

    def test_help_and_completion(self):
        self.assertEqual(run(["help"]).stdout, run(["--help"]).stdout)
        bash = run(["completion", "bash"])
        self.assertEqual(bash.returncode, 0, bash.stderr)
        self.assertIn("--http-timeout-seconds", bash.stdout)
        self.assertIn("--api-key", bash.stdout)     # connector flags too
        check = subprocess.run(["bash", "-n"], input=bash.stdout, text=True, capture_output=True)
        self.assertEqual(check.returncode, 0, check.stderr)
        zsh = run(["completion", "zsh"])
        self.assertEqual(zsh.returncode, 0, zsh.stderr)
        self.assertTrue(zsh.stdout.startswith("#compdef baton-twingate"))
        self.assertIn("'--domain=[", zsh.stdout)
        self.assertNotEqual(run(["completion", "fish"]).returncode, 0)

    def test_log_path_appends_and_refuses_fifos(self):
        log = os.path.join(self.dir, "connector.log")
        with open(log, "w") as f:
            f.write("earlier line\n")
        r = run(["--log-path", log, "--log-level", "debug", "--api-url", "http://127.0.0.1:9/", "--domain",
                 "acme", "capabilities"], env={"BATON_API_KEY": "k-secret-123"})
        self.assertEqual(r.returncode, 0, r.stderr)
        with open(log) as f:
            text = f.read()
        self.assertTrue(text.startswith("earlier line\n"))
        self.assertIn("require", text)                 # debug lines went to the file ...
        self.assertNotIn("require", r.stderr)          # ... not to stderr
        fresh = os.path.join(self.dir, "fresh.log")
        self.assertEqual(run(["--log-path", fresh, "capabilities"]).returncode, 0)
        self.assertEqual(os.stat(fresh).st_mode & 0o777, 0o600)   # logs may name users
        fifo = os.path.join(self.dir, "fifo")
        os.mkfifo(fifo)
        r = run(["--log-path", fifo, "capabilities"])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("--log-path", r.stderr)           # a FIFO nobody reads: refused, no hang
        # A pipe with a reader (/dev/stdout under `| cat`, containers) is fine.
        r = run(["--log-path", "/dev/stdout", "--log-level", "debug", "capabilities"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("require", r.stdout)

    def test_debug_level_expires(self):
        args = ["--log-level", "debug", "--log-format", "console", "capabilities"]
        live = run(args + ["--log-level-debug-expires-at", "2999-01-01T00:00:00Z"])
        self.assertIn("debug", live.stderr)
        expired = run(args + ["--log-level-debug-expires-at", "2001-01-01T00:00:00+02:00"])
        self.assertEqual(expired.returncode, 0, expired.stderr)
        self.assertNotIn("debug", expired.stderr)
        bad = run(args + ["--log-level-debug-expires-at", "tomorrow"])
        self.assertNotEqual(bad.returncode, 0)
        self.assertIn("RFC 3339", bad.stderr)


if __name__ == "__main__":
    unittest.main()
