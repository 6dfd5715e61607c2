"""What an operator meets around the sync itself (issue 19, section 3): the
health-check subcommand and HEAD /live, the refused SDK flags, a shared
.baton.yaml, --help and `help COMMAND`, and the bash completion."""

import http.client
import os
import re
import socket
import stat
import subprocess
import tempfile
import threading
import unittest

from harness import BINARY, MockServer, run
from service_harness import ServiceTest


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def error_lines(r):
    return [l for l in r.stderr.splitlines() if l.startswith("error:")]


class HealthCheckCommand(ServiceTest):
    def test_healthy_daemon_exits_0_and_head_live_is_answered(self):
        port = free_port()
        self.start_polling("--health-check", "--health-check-port", str(port))
        r = run(["health-check", "--health-check-port", str(port)], timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("healthy", r.stdout)
        # The probe's side reads the same BATON_* variables as the daemon.
        r = run(["health-check"], env={"BATON_HEALTH_CHECK_PORT": str(port),
                                       "BATON_HEALTH_CHECK_BIND_ADDRESS": "0.0.0.0"}, timeout=60)
        self.assertEqual(r.returncode, 0, r.stderr)
        for path, code in (("/live", 200), ("/ready", 200), ("/nope", 404)):
            c = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
            c.request("HEAD", path)
            resp = c.getresponse()
            self.assertEqual(resp.status, code, path)
            self.assertEqual(resp.read(), b"", "HEAD has no body")
            self.assertGreater(int(resp.getheader("Content-Length")), 0, "the GET's length")
            c.close()

    def test_unhealthy_daemon_exits_1_with_the_reason(self):
        port = free_port()
        self.start_polling("--health-check", "--health-check-port", str(port),
                           env={"BATON_API_KEY": "not-the-key"})
        r = run(["health-check", "--health-check-port", str(port)], timeout=60)
        self.assertEqual(r.returncode, 1)
        lines = error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("HTTP 503", lines[0])
        self.assertIn("unhealthy", lines[0])
        self.assertNotIn("not-the-key", r.stderr + r.stdout)


class HealthCheckWithoutDaemon(unittest.TestCase):
    def test_no_daemon_is_one_clear_line(self):
        port = free_port()
        r = run(["health-check", "--health-check-port", str(port)], timeout=60)
        self.assertEqual(r.returncode, 1)
        lines = error_lines(r)
        self.assertEqual(len(lines), 1, r.stderr)
        self.assertIn("no answer from http://127.0.0.1:%d/health" % port, lines[0])
        self.assertIn("--health-check", lines[0])
        r = run(["health-check", "--health-check-port", "70000"])
        self.assertEqual(r.returncode, 2)

    def test_another_server_answering_200_is_not_healthy(self):
        server = socket.socket()
        server.bind(("127.0.0.1", 0))
        server.listen(1)
        port = server.getsockname()[1]

        def answer():
            conn, _ = server.accept()
            conn.recv(4096)
            conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Length: 5\r\nConnection: close\r\n\r\nhello")
            conn.close()

        t = threading.Thread(target=answer, daemon=True)
        t.start()
        try:
            r = run(["health-check", "--health-check-port", str(port)], timeout=60)
        finally:
            t.join(10)
            server.close()
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("not as this connector's health endpoint does", r.stderr)


class RefusedSdkFlags(unittest.TestCase):
    def test_parallel_sync_and_keep_previous_sync_c1z_are_refused(self):
        for flag in ("parallel-sync", "keep-previous-sync-c1z"):
            with self.subTest(flag=flag):
                r = run(["--" + flag, "capabilities"])
                self.assertNotEqual(r.returncode, 0)
                self.assertIn("a baton-sdk setting) is not supported", r.stderr)
                self.assertNotIn("unknown flag", r.stderr)
                self.assertEqual(run(["--%s=false" % flag, "capabilities"]).returncode, 0)


class SharedConfigFile(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-op-")
        self.path = os.path.join(self.dir, ".baton.yaml")

    def write(self, text, mode):
        with open(self.path, "w") as f:
            f.write(text)
        os.chmod(self.path, mode)

    def test_unknown_keys_warn_once_and_the_run_goes_on(self):
        self.write("log-format: console\nokta-domain: x\nreads-per-minut: 10\n", 0o600)
        r = run(["capabilities"], cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn('"CAPABILITY_SYNC"', r.stdout)
        self.assertEqual(r.stderr.count("unknown key 'okta-domain' ignored"), 1, r.stderr)
        self.assertIn(".baton.yaml:3: unknown key 'reads-per-minut' ignored (did you mean "
                      "'reads-per-minute'?)", r.stderr)
        self.assertNotIn("did you mean", [l for l in r.stderr.splitlines() if "okta" in l][0])

    def test_a_readable_secret_warns_and_a_private_one_does_not(self):
        with MockServer() as m:
            for mode, warned in ((0o644, True), (0o640, True), (0o600, False)):
                with self.subTest(mode=oct(mode)):
                    self.write("api-key: %s\nlog-format: console\n" % m.api_key, mode)
                    r = run(["--api-url", m.url, "-f", os.path.join(self.dir, "s.c1z"),
                             "--reads-per-minute", "0"], cwd=self.dir)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    line = "holds api-key but is readable by group/others (mode %04o)" % mode
                    self.assertEqual(line in r.stderr, warned, r.stderr)
                    self.assertNotIn(m.api_key, r.stderr + r.stdout)


class HelpText(unittest.TestCase):
    def test_int_defaults_are_unquoted_and_the_columns_line_up(self):
        text = run(["--help"]).stdout
        self.assertIn("(default 60)", text)
        self.assertNotIn('(default "60")', text)
        self.assertIn('(default "sync.c1z")', text)
        flag_lines = [l for l in text.splitlines() if re.match(r"^  (-\w,|   ) --", l)]
        self.assertGreater(len(flag_lines), 30)
        starts = {re.search(r"\S", l[re.search(r"--\S+( \w+)?", l).end():]).start()
                  + re.search(r"--\S+( \w+)?", l).end() for l in flag_lines}
        self.assertEqual(len(starts), 1, "every help text starts in one column")

    def test_help_of_a_command(self):
        main = run(["--help"]).stdout
        for cmd, want in (("capabilities", "baton-twingate capabilities [flags]"),
                          ("health-check", "--health-check-port int"),
                          ("config", "baton-twingate config [flags]")):
            with self.subTest(cmd=cmd):
                r = run(["help", cmd])
                self.assertEqual(r.returncode, 0, r.stderr)
                self.assertNotEqual(r.stdout, main)
                self.assertIn(want, r.stdout)
                self.assertEqual(run([cmd, "--help"]).stdout, r.stdout)
        self.assertIn("Usage: baton-twingate show", run(["help", "show"]).stdout)
        self.assertIn("health-check", main)


class BashCompletion(unittest.TestCase):
    def complete(self, *words):
        """COMPREPLY of the generated bash completion for the command line `words`
        (the last one being completed), run in a directory with two files."""
        script = run(["completion", "bash"]).stdout
        d = tempfile.mkdtemp(prefix="bt-comp-")
        for name in ("alpha.c1z", "beta.txt"):
            open(os.path.join(d, name), "w").close()
        line = " ".join(("baton-twingate",) + words)
        # bash's own word splitting: COMP_WORDBREAKS puts "=" in a word of its own.
        split = []
        for w in ("baton-twingate",) + words:
            if w.startswith("--") and "=" in w:
                name, _, value = w.partition("=")
                split += [name, "=", value]
            else:
                split.append(w)
        prog = script + "\nCOMP_WORDS=(%s)\nCOMP_CWORD=%d\nCOMP_LINE=%r\n" \
            "_baton_connector_complete\nprintf '%%s\\n' \"${COMPREPLY[@]}\"\n" % (
                " ".join("'%s'" % w for w in split), len(split) - 1, line)
        r = subprocess.run(["bash", "-c", prog], cwd=d, capture_output=True, text=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        return set(r.stdout.split())

    def test_files_after_f_and_file_equals(self):
        self.assertEqual(self.complete("-f", ""), {"alpha.c1z", "beta.txt"})
        self.assertEqual(self.complete("--file", "a"), {"alpha.c1z"})
        self.assertEqual(self.complete("--file="), {"alpha.c1z", "beta.txt"})
        self.assertEqual(self.complete("--file=b"), {"beta.txt"})

    def test_show_offers_its_flags_and_subcommands(self):
        got = self.complete("show", "--")
        self.assertTrue({"--stats", "--grants", "--json", "--sync-id"} <= got, got)
        self.assertNotIn("--api-key", got)
        self.assertIn("grants", self.complete("show", "gr"))
        self.assertIn("health-check", self.complete("hea"))


if __name__ == "__main__":
    unittest.main()
