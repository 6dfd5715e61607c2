"""Shared helpers for the end-to-end tests: run the binary, read a .c1z with
nothing but the standard library, the zstd CLI and the tests' protobuf codec
(tests/lib/pbwire.py)."""

import json
import os
import sqlite3
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.environ.get("BT_SOURCE_DIR") or os.path.dirname(os.path.dirname(HERE))
BINARY = os.environ.get("BT_BINARY") or os.path.join(ROOT, "build", "baton-twingate")
sys.path.insert(0, os.path.join(ROOT, "tests", "mock"))
sys.path.insert(0, os.path.join(ROOT, "tests", "lib"))

from mockctl import MockServer  # noqa: E402  (path set above)
from pbwire import decode as pb_fields, string as pb_str  # noqa: E402,F401  (path set above)

MAGIC = b"C1ZF\x00"


class DemoMockCase(unittest.TestCase):
    """A test class sharing one mock Twingate server (the demo tenant unless
    MOCK_OPTIONS says otherwise), started once for the class."""
    MOCK_OPTIONS = {"tenant": "demo"}

    @classmethod
    def setUpClass(cls):
        cls.mock = MockServer(**cls.MOCK_OPTIONS).start()

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()


def run(args, env=None, cwd=None, timeout=600):
    """Run the binary with a clean BATON_* environment; returns CompletedProcess."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
    base.update(env or {})
    return subprocess.run([BINARY] + list(args), env=base, cwd=cwd, timeout=timeout,
                          stdin=subprocess.DEVNULL, capture_output=True, text=True)


def sync_against(mock, out_path, extra=(), env=None, cwd=None, timeout=600):
    e = {"BATON_API_KEY": mock.api_key}
    e.update(env or {})
    # Client-side pacing off: the mock enforces its own limits where a test wants them.
    return run(["--api-url", mock.url, "-f", out_path, "--log-format", "console",
                "--reads-per-minute", "0"] + list(extra),
               env=e, cwd=cwd, timeout=timeout)


# ---------------------------------------------------------------- c1z


class C1Z:
    """A decompressed .c1z opened with sqlite3 (read-only, temp copy)."""

    def __init__(self, path):
        with open(path, "rb") as f:
            head = f.read(5)
        if head != MAGIC:
            raise ValueError("not a v1 c1z: %r" % head)
        self.tmp = tempfile.NamedTemporaryFile(suffix=".db", delete=False)
        with open(path, "rb") as src:
            src.seek(5)
            subprocess.run(["zstd", "-q", "-d", "-c"], stdin=src, stdout=self.tmp, check=True)
        self.tmp.close()
        self.db = sqlite3.connect(self.tmp.name)

    def close(self):
        self.db.close()
        os.unlink(self.tmp.name)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def rows(self, sql, *args):
        return self.db.execute(sql, args).fetchall()

    def resources(self, rtype):
        """{resource id: display name} of one type."""
        out = {}
        for ext, data in self.rows("SELECT external_id, data FROM v1_resources WHERE resource_type_id = ?", rtype):
            out[ext.split(":", 1)[1]] = pb_str(pb_fields(data), 3)
        return out

    def grant_pairs(self, rtype):
        """{(resource id, principal id)} of the grants on one resource type."""
        return {(r, p) for r, p in self.rows(
            "SELECT resource_id, principal_resource_id FROM v1_grants WHERE resource_type_id = ?", rtype)}

    def count(self, table):
        return self.rows("SELECT COUNT(*) FROM %s" % table)[0][0]


def user_display_name(u):
    """The mapping's rule: first and last name each trimmed (ASCII white space),
    joined by one space; the email when both are blank."""
    ws = " \t\n\r\f\v"
    parts = [p.strip(ws) for p in (u.get("firstName") or "", u.get("lastName") or "")]
    return " ".join(p for p in parts if p) or u["email"]


def fake_api_names():
    """The function names the busted fake runtime exports, via lua5.4."""
    code = ("package.path = '%s/tests/lua/?.lua;%s/scripts/?.lua;' .. package.path\n"
            "local fr = require 'helpers.fake_runtime'\n"
            "print(require('cjson').encode(fr.API_NAMES))") % (ROOT, ROOT)
    out = subprocess.run(["lua5.4", "-e", code], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


# ---------------------------------------------------------------- request floors


def _extra(n):
    """Pages after the first: each overlaps the one before by a node (issue
    17: the shift check), so it brings 99 new nodes."""
    return 0 if n <= 100 else (n - 2) // 99


def _pages(n):
    return 1 + _extra(n)


def request_floors(truth):
    """(user side, group side): the requests each way of reading memberships
    needs at 100 per page (README, Cost). Both list every user and group; the
    user side adds a page per further 100 groups of a user, the group side a
    page per further 100 members of a group."""
    users, groups = truth["users"], truth["groups"]
    base = _pages(len(users)) + _pages(len(groups))
    per_user = {}
    for g in groups:
        for m in g["members"]:
            per_user[m] = per_user.get(m, 0) + 1
    user_side = base + sum(_extra(k) for k in per_user.values())
    group_side = base + sum(_extra(len(g["members"])) for g in groups)
    return user_side, group_side
