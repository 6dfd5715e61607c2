"""End to end: one list of deliberate script mistakes, each an override
directory, run through the binary (a sync against the mock's demo tenant)
and through the fake runtime (`./dev test-scripts DIR` with a spec that runs
the same sync on a small tenant). Both must fail, with the same message and,
where the runtime names one, the same file:line. A mistake the runtime does
not catch yet is listed with binary=False and checked in the fake only."""

import os
import re
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, MockServer, sync_against

SPEC = """-- the sync the binary runs, on a small synthetic tenant (user 2 DISABLED)
local fake = require "helpers.fake_runtime"
local tenant = require "helpers.tenant"
describe("parity", function()
  after_each(fake.uninstall)
  it("syncs", function()
    local rt = fake.install{ config = { domain = "acme" } }
    local t = tenant.build{ users = 3, groups = { { members = 3, type = "SYSTEM", name = "Everyone" } } }
    t.users[2].state = "DISABLED"
    rt.handler = tenant.handler(t)
    local ok, err = require("twingate").sync()
    assert(ok, tostring(err))
  end)
end)
"""

USERS = 'local users = require "bundled:twingate.users"\n'

# name, override files, the message both print, the author's position (file:line)
# both name, whether the binary catches it today.
CASES = [
    ("a contract typo in init.lua",
     {"twingate/init.lua": 'local c = require "bundled:twingate"\n'
                           'c.config[1].secrte = true\nreturn c\n'},
     "init.lua: unknown field 'config[1].secrte' (did you mean 'secret'?)", None, True),
    ("os.getenv in an override",
     {"twingate/users.lua": USERS + 'function users.keep(node)\n'
                                    '  return os.getenv("HOME") ~= nil and node ~= nil\nend\n'
                                    'return users\n'},
     "os.getenv is not available in the connector sandbox", "twingate/users.lua:3", True),
    ("a new global",
     {"twingate/users.lua": USERS + 'seen = {}\nreturn users\n'},
     "assignment to undeclared global 'seen' (declare it local)", "twingate/users.lua:2", True),
    ("an undeclared global read",
     {"twingate/users.lua": USERS + 'local x = undefined_name\nreturn users, x\n'},
     "undeclared global 'undefined_name' (scripts use locals and require)",
     "twingate/users.lua:2", True),
    ("a syntax error",
     {"twingate/users.lua": USERS + 'function users.keep(node) return node.state ~= end\n'
                                    'return users\n'},
     "unexpected symbol near 'end'", "twingate/users.lua:2", True),
    ("skipping users in users.emit alone",
     {"twingate/users.lua": USERS + 'local emit_user = users.emit\n'
                                    'function users.emit(node, registry)\n'
                                    '  if node.state == "DISABLED" then return end\n'
                                    '  return emit_user(node, registry)\nend\nreturn users\n'},
     "was never emitted", None, True),
    ("keep returning nil",
     {"twingate/users.lua": USERS + 'function users.keep() end\nreturn users\n'},
     "twingate.users.keep(node) must return true or false, not nil", None, True),
    ("an unknown field in an emitted row",
     {"twingate/users.lua": USERS + 'local map = users.map\nfunction users.map(node)\n'
                                    '  local r = map(node)\n  r.user.emial = "x"\n  return r\n'
                                    'end\nreturn users\n'},
     "unknown field 'user.emial'", "scripts/twingate/users.lua:@emit", True),
    # The runtime names the bundled caller (twingate/sync.lua): the tail call
    # replaced the override's frame. The fake names the override's line.
    ("a misuse behind a tail call",
     {"twingate/users.lua": USERS + 'local page = require "lib.page"\n'
                                    'local Q = require "twingate.queries"\n'
                                    'function users.sync()\n'
                                    '  return page.walk{ query = Q.USERS, path = "users", label = 42,\n'
                                    '    each = function() end }\nend\nreturn users\n'},
     "lib.page.walk: opts.label must be a string (got number)", "twingate/users.lua:5", False),
    ("a package.cpath write",
     {"twingate/users.lua": USERS + 'package.cpath = "/tmp/x/?.so"\nreturn users\n'},
     "package.cpath is read-only in the connector sandbox", "twingate/users.lua:2", True),
]


def emit_line():
    """The line of bundled users.lua that calls emit.resource for a user."""
    with open(os.path.join(ROOT, "scripts", "twingate", "users.lua"), encoding="utf-8") as f:
        for n, line in enumerate(f, 1):
            if "emit.resource(row)" in line:
                return n
    raise AssertionError("no emit.resource(row) in users.lua")


class ScriptParity(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mock = MockServer(tenant="demo").__enter__()
        cls.tmp = tempfile.mkdtemp(prefix="bt-parity-")

    @classmethod
    def tearDownClass(cls):
        cls.mock.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def override(self, i, files):
        d = os.path.join(self.tmp, "case%d" % i)
        os.makedirs(os.path.join(d, "spec"))
        with open(os.path.join(d, "spec", "sync_spec.lua"), "w", encoding="utf-8") as f:
            f.write(SPEC)
        for rel, text in files.items():
            os.makedirs(os.path.dirname(os.path.join(d, rel)), exist_ok=True)
            with open(os.path.join(d, rel), "w", encoding="utf-8") as f:
                f.write(text)
        return d

    def fake(self, d):
        r = subprocess.run([os.path.join(ROOT, "dev"), "test-scripts", d], capture_output=True,
                           text=True, timeout=600)
        return r.returncode, r.stdout + r.stderr

    def binary(self, d, i):
        out = os.path.join(self.tmp, "case%d.jsonl" % i)
        r = sync_against(self.mock, out, ["--scripts-dir", d])
        self.assertFalse(os.path.exists(out), "a failed sync writes no file")
        return r.returncode, r.stderr

    def test_the_same_mistakes_fail_the_same_way(self):
        for i, (name, files, message, where, in_binary) in enumerate(CASES):
            if where and where.endswith(":@emit"):
                where = where.replace("@emit", str(emit_line()))
            with self.subTest(case=name):
                d = self.override(i, files)
                rc, text = self.fake(d)
                self.assertNotEqual(0, rc, text)
                self.assertIn(message, text)
                if where:
                    self.assertRegex(text, re.escape(where) + r":? ", text)
                if not in_binary:
                    continue
                rc, text = self.binary(d, i)
                self.assertNotEqual(0, rc, text)
                self.assertIn(message, text)
                if where:
                    self.assertRegex(text, re.escape(where) + r":? ", text)

    def test_the_fake_prints_the_real_load_error(self):
        d = self.override(99, dict(CASES[4][1]))
        rc, text = self.fake(d)
        self.assertNotEqual(0, rc)
        self.assertRegex(text, r"error: cannot load the scripts: .*twingate/users\.lua:2: "
                               r"unexpected symbol near 'end'")
        self.assertNotIn("[C]: in ?", text)

    def test_a_correct_override_passes_both(self):
        files = {"twingate/users.lua": USERS + 'function users.keep(node) return node.state ~= '
                                               '"DISABLED" end\nprint("loaded")\nreturn users\n'}
        d = self.override(100, files)
        rc, text = self.fake(d)
        self.assertEqual(0, rc, text)
        rc, text = self.binary_ok(d)
        self.assertEqual(0, rc, text)

    def binary_ok(self, d):
        out = os.path.join(self.tmp, "ok.jsonl")
        r = sync_against(self.mock, out, ["--scripts-dir", d])
        return r.returncode, r.stderr


if __name__ == "__main__":
    unittest.main()
