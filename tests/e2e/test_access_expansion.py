"""`show access` follows grant expansion the way c1z-format.md 3.7 and 5.4
describe it, on a hand-built file (not our writer): transitive expansion
through a group nested in another, `shallow`, `resource_type_ids`, the
GrantExpandable moved into the `expansion` column (HEAD's writer), and a
grant a Go syncer already expanded (sources naming another entitlement),
which must not show up twice."""

import json
import os
import shutil
import sqlite3
import subprocess
import tempfile
import unittest

from harness import run
from pbwire import field, varint  # noqa: E402  (tests/lib, on the path once harness is imported)

SYNC = "2frSFYakMz4OPnd2b3MDHin9cD4"
TS = "2024-01-02 03:04:05"


def rid(t, i):
    return field(1, t) + field(2, i)


def resource(t, i, name):
    return field(1, rid(t, i)) + field(3, name)


def rtype(i, name, trait):
    return field(1, i) + field(2, name) + (field(3, varint(trait)) if trait else b"")


def entitlement(t, i, slug):
    return field(1, resource(t, i, i)) + field(2, "%s:%s:%s" % (t, i, slug)) + field(8, slug)


def expandable(ids, shallow=False, types=()):
    msg = b"".join(field(1, x) for x in ids) + (field(2, True) if shallow else b"")
    return msg + b"".join(field(3, x) for x in types)


def anyof(name, value):
    return field(1, "type.googleapis.com/c1.connector.v2." + name) + field(2, value)


SCHEMA = """
CREATE TABLE v1_resource_types (id integer primary key, external_id text not null,
  data blob not null, sync_id text not null, discovered_at datetime not null);
CREATE TABLE v1_resources (id integer primary key, resource_type_id text not null,
  external_id text not null, parent_resource_type_id text, parent_resource_id text,
  data blob not null, sync_id text not null, discovered_at datetime not null);
CREATE TABLE v1_entitlements (id integer primary key, resource_type_id text not null,
  resource_id text not null, external_id text not null, data blob not null,
  sync_id text not null, discovered_at datetime not null);
CREATE TABLE v1_grants (id integer primary key, resource_type_id text not null,
  resource_id text not null, entitlement_id text not null,
  principal_resource_type_id text not null, principal_resource_id text not null,
  external_id text not null, expansion blob, needs_expansion integer not null default 0,
  data blob not null, sync_id text not null, discovered_at datetime not null);
CREATE TABLE v1_sync_runs (id integer primary key, sync_id text not null,
  started_at datetime not null, ended_at datetime, sync_token text not null,
  sync_type text not null default 'full', parent_sync_id text not null default '');
"""

USERS = [("u1", "Una"), ("u2", "Uwe"), ("u3", "Ute")]
GROUPS = [("eng", "Engineering"), ("platform", "Platform")]
RESOURCES = [("db", "Prod DB"), ("wiki", "Wiki")]


def build(path):
    db = sqlite3.connect(path)
    db.executescript(SCHEMA)
    db.execute("INSERT INTO v1_sync_runs (sync_id, started_at, ended_at, sync_token) "
               "VALUES (?, ?, ?, '')", (SYNC, TS, TS))
    for t, name, trait in [("user", "User", 1), ("group", "Group", 2), ("resource", "Resource", 0)]:
        db.execute("INSERT INTO v1_resource_types (external_id, data, sync_id, discovered_at) "
                   "VALUES (?, ?, ?, ?)", (t, rtype(t, name, trait), SYNC, TS))
    for t, rows in [("user", USERS), ("group", GROUPS), ("resource", RESOURCES)]:
        for i, name in rows:
            db.execute("INSERT INTO v1_resources (resource_type_id, external_id, data, sync_id, "
                       "discovered_at) VALUES (?, ?, ?, ?, ?)",
                       (t, t + ":" + i, resource(t, i, name), SYNC, TS))
    for t, i, slug in [("group", "eng", "member"), ("group", "platform", "member"),
                       ("resource", "db", "access"), ("resource", "wiki", "access"),
                       ("resource", "wiki", "admin")]:
        db.execute("INSERT INTO v1_entitlements (resource_type_id, resource_id, external_id, data, "
                   "sync_id, discovered_at) VALUES (?, ?, ?, ?, ?, ?)",
                   (t, i, "%s:%s:%s" % (t, i, slug), entitlement(t, i, slug), SYNC, TS))

    def grant(t, i, slug, pt, pid, annotations=b"", sources=None, expansion=None):
        ent = "%s:%s:%s" % (t, i, slug)
        gid = "%s:%s:%s" % (ent, pt, pid)
        data = field(1, entitlement(t, i, slug)) + field(2, field(1, rid(pt, pid))) + field(3, gid)
        data += annotations
        if sources:
            data += field(5, b"".join(field(1, field(1, s) + field(2, b"")) for s in sources))
        db.execute("INSERT INTO v1_grants (resource_type_id, resource_id, entitlement_id, "
                   "principal_resource_type_id, principal_resource_id, external_id, expansion, "
                   "data, sync_id, discovered_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
                   (t, i, ent, pt, pid, gid, expansion, data, SYNC, TS))

    def ann(x):
        return field(4, anyof("GrantExpandable", x))

    grant("group", "eng", "member", "user", "u1")
    grant("group", "platform", "member", "user", "u2")
    # platform's members are engineers: the edge lives in the expansion column (HEAD writer)
    grant("group", "eng", "member", "group", "platform",
          expansion=expandable(["group:platform:member"]))
    grant("resource", "db", "access", "group", "eng", ann(expandable(["group:eng:member"])))
    # what a Go syncer would have added for u1: derived, must not be listed twice
    grant("resource", "db", "access", "user", "u1", sources=["group:eng:member"])
    # only direct engineers reach the wiki (u1, not u2 who is one through platform)
    grant("resource", "wiki", "access", "group", "eng",
          ann(expandable(["group:eng:member"], shallow=True)))
    # wiki admin only for service accounts of platform: no user counts
    grant("resource", "wiki", "admin", "group", "platform",
          ann(expandable(["group:platform:member"], types=["service_account"])))
    # u3 holds db directly
    grant("resource", "db", "access", "user", "u3")
    db.commit()
    db.close()


class Expansion(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        raw = os.path.join(cls.tmp, "x.db")
        build(raw)
        cls.f = os.path.join(cls.tmp, "x.c1z")
        with open(cls.f, "wb") as out:
            out.write(b"C1ZF\x00")
            out.write(subprocess.run(["zstd", "-q", "-c", raw], check=True,
                                     capture_output=True).stdout)

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def access(self, *args):
        r = run(["show", "access", self.f, "-o", "json"] + list(args))
        self.assertEqual(r.returncode, 0, r.stderr)
        return json.loads(r.stdout)

    def test_resource_reaches_nested_members_once(self):
        got = self.access("--resource", "resource:db")["principals"]
        paths = {p["id"]: [x["id"] for x in p["path"]] for p in got}
        self.assertEqual(len(got), 3, got)
        self.assertEqual(paths, {"u1": ["eng", "db"], "u2": ["platform", "eng", "db"], "u3": ["db"]})

    def test_shallow_and_principal_types(self):
        got = self.access("--resource", "resource:wiki")["principals"]
        self.assertEqual([(p["id"], [x["id"] for x in p["path"]]) for p in got],
                         [("u1", ["eng", "wiki"])])

    def test_principal_reaches_through_nested_group(self):
        got = self.access("--principal", "user:u2")["access"]
        self.assertEqual({(a["type"], a["id"]): [x["id"] for x in a["path"]] for a in got},
                         {("group", "platform"): ["platform"],
                          ("group", "eng"): ["platform", "eng"],
                          ("resource", "db"): ["platform", "eng", "db"]})
        got = self.access("--principal", "user:u1")["access"]
        self.assertEqual({(a["type"], a["id"], a["entitlement"]) for a in got},
                         {("group", "eng", "group:eng:member"),
                          ("resource", "db", "resource:db:access"),
                          ("resource", "wiki", "resource:wiki:access")})

    def test_table_shows_the_whole_path(self):
        r = run(["show", "access", self.f, "--resource", "resource:db"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("user Uwe \u2192 group Platform \u2192 group Engineering \u2192 resource Prod DB",
                      r.stdout)
