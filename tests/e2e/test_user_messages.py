"""Messages about the user's input, the network or the server's state say what is
wrong without a script file:line (issue 19 section 2), and what ConductorOne is sent
carries no local file paths (issue 17 section 4); a bug in a script keeps its position."""

import os
import shutil
import socket
import ssl
import sys
import tempfile
import threading
import unittest

from demo_ids import NEW_HIRE, RELEASE
from harness import DemoMockCase, ROOT, run, sync_against
from service_harness import ServiceTest
import tlsca  # tests/c1mock, on the path once service_harness is imported


def no_script_path(test, text):
    test.assertNotIn(".lua", text)
    test.assertNotIn(ROOT, text)


class OneShot(DemoMockCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-msg-")
        self.addCleanup(shutil.rmtree, self.dir, True)
        self.out = os.path.join(self.dir, "sync.c1z")

    def error_line(self, r):
        self.assertNotEqual(r.returncode, 0)
        errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        no_script_path(self, r.stderr)
        return errors[0]

    def test_a_domain_that_is_not_accepted(self):
        r = run(["--domain", "evil.com/x", "-f", self.out, "--log-format", "console"],
                env={"BATON_API_KEY": "an-api-key-0123456789"}, cwd=self.dir)
        self.assertIn('domain "evil.com/x" is not accepted', self.error_line(r))

    def test_an_id_twingate_cannot_parse_is_no_such_user(self):
        r = run(["--api-url", self.mock.url, "--log-format", "console", "--reads-per-minute", "0",
                 "--grant-entitlement", "group:%s:member" % RELEASE, "--grant-principal", "garbage"],
                env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)
        self.assertEqual(self.error_line(r), "error: grant failed: no user with id garbage")
        r = run(["--api-url", self.mock.url, "--log-format", "console", "--reads-per-minute", "0",
                 "--delete-resource", "garbage", "--delete-resource-type", "user"],
                env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)
        self.assertEqual(self.error_line(r), "error: delete_resource failed: no user with id garbage")

    def test_a_wrong_key_and_an_unknown_target(self):
        r = sync_against(self.mock, self.out, env={"BATON_API_KEY": "wrong"})
        self.assertIn("auth:", self.error_line(r))
        r = sync_against(self.mock, self.out, ["--sync-resources", "group:R3JvdXA6OTk5OTk="])
        self.assertIn('no group with id "R3JvdXA6OTk5OTk="', self.error_line(r))

    def test_a_certificate_that_is_not_trusted_names_the_host(self):
        certs = tlsca.make(self.dir)
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(certs["server.pem"], certs["server-key.pem"])
        listener = socket.create_server(("127.0.0.1", 0))
        port = listener.getsockname()[1]

        def serve():
            try:
                conn, _ = listener.accept()
                with conn:
                    try:
                        ctx.wrap_socket(conn, server_side=True).close()
                    except (ssl.SSLError, OSError):
                        pass
            except OSError:
                pass
        t = threading.Thread(target=serve, daemon=True)
        t.start()
        self.addCleanup(listener.close)
        r = run(["--api-url", "https://localhost:%d/api/graphql/" % port, "-f", self.out,
                 "--log-format", "console", "--http-max-attempts", "1"],
                env={"BATON_API_KEY": "an-api-key-0123456789"},  # the system's trust store: the throw-away CA is not in it
                cwd=self.dir)
        self.assertIn("TLS: certificate not trusted for localhost", self.error_line(r))

    def test_a_bug_in_a_script_keeps_its_position(self):
        scripts = os.path.join(self.dir, "scripts")
        os.makedirs(os.path.join(scripts, "twingate"))
        with open(os.path.join(scripts, "twingate", "sync.lua"), "w") as f:
            f.write("local M = {}\nfunction M.run()\n  local t = nil\n  return t.x\nend\nreturn M\n")
        r = sync_against(self.mock, self.out, ["--scripts-dir", scripts])
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("twingate/sync.lua:4:", r.stderr)


class ServiceMode(ServiceTest):
    def test_conductorone_gets_no_local_paths(self):
        self.start_polling(env={"BATON_API_KEY": "wrong"})
        _, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "error", fin)
        self.assertIn("auth:", fin["status"]["message"])
        no_script_path(self, fin["status"]["message"])

    def test_a_script_bug_reaches_conductorone_without_its_directory(self):
        scripts = tempfile.mkdtemp(prefix="bt-msg-scripts-")
        self.addCleanup(shutil.rmtree, scripts, True)
        os.makedirs(os.path.join(scripts, "twingate"))
        with open(os.path.join(scripts, "twingate", "sync.lua"), "w") as f:
            f.write("local M = {}\nfunction M.run()\n  local t = nil\n  return t.x\nend\nreturn M\n")
        self.start_polling("--scripts-dir", scripts)
        _, fin = self.run_task({"type": "sync_full"})
        msg = fin["status"]["message"]
        self.assertIn("twingate/sync.lua:4:", msg)
        self.assertNotIn(scripts, msg)
        self.assertNotIn("/", msg.split("twingate/sync.lua")[0])
        self.assertIn("warn", [l for l in self.daemon.stderr().splitlines() if "failed (code" in l][0])


if __name__ == "__main__":
    sys.exit(unittest.main())
