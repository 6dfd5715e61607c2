"""Reader compatibility: what the Go baton readers (v0.1.7, v0.7.27, HEAD) do
when they open one of our files, simulated with sqlite3 and the zstd CLI
(shared/c1z-format.md 1.3, 3.4-3.6, 4).

Each reader's open runs on its own copy of the decompressed database: the
schema statements with the SDK's names (CREATE ... IF NOT EXISTS), the
migrations (ALTER TABLE ADD COLUMN, "duplicate column name" ignored), the
pragma_table_info checks and the grant backfill, which unmarshals every grant
with expansion IS NULL. Then the sync selection and the listing queries. Every
data blob is checked with a strict protobuf parser that knows the messages we
write and refuses what Go's unmarshaller refuses (and, being strict, also any
field or wire type we have no business writing).

Its protobuf parser (PbError, _varint, wire_fields, parse) is kept apart from
the tests' shared codec (tests/lib/pbwire.py) on purpose: it is the
independent checker of what we write, so it shares no code, and no bug, with
the codec through which the mocks and the other tests read our output. It is
also stricter than that codec by design (schema-bound, Go's refusals, no
unknown field), which the lenient codec must not be."""

import os
import re
import shutil
import sqlite3
import struct
import subprocess
import tempfile
import unittest

from harness import MAGIC, MockServer, sync_against

# ---------------------------------------------------------------- protobuf


class PbError(ValueError):
    pass


def _varint(buf, i):
    shift = value = 0
    while True:
        if i >= len(buf):
            raise PbError("truncated varint")
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if b < 0x80:
            if shift >= 63 and value >= 1 << 64:
                raise PbError("varint overflows 64 bits")
            return value, i
        shift += 7
        if shift > 63:
            raise PbError("varint longer than 10 bytes")


def wire_fields(buf):
    """[(field number, wire type, value)]; refuses field 0, wire types other
    than 0/1/2/5 and truncation."""
    out, i = [], 0
    while i < len(buf):
        key, i = _varint(buf, i)
        num, wt = key >> 3, key & 7
        if num == 0:
            raise PbError("field number 0")
        if num > (1 << 29) - 1:
            raise PbError("field number out of range")
        if wt == 0:
            v, i = _varint(buf, i)
        elif wt == 1 or wt == 5:
            n = 8 if wt == 1 else 4
            if i + n > len(buf):
                raise PbError("truncated fixed%d" % (n * 8))
            v, i = bytes(buf[i:i + n]), i + n
        elif wt == 2:
            n, i = _varint(buf, i)
            if i + n > len(buf):
                raise PbError("truncated length-delimited field %d" % num)
            v, i = bytes(buf[i:i + n]), i + n
        else:
            raise PbError("wire type %d (field %d)" % (wt, num))
        out.append((num, wt, v))
    return out


# Field kinds: "string", "bytes", "bool", "enum", "int64", "int32", "double",
# "packed_enum" (repeated enum), or a message name. A trailing "*" = repeated.
SCHEMA = {
    "ResourceId": {1: "string", 2: "string", 3: "bool"},
    "ResourceType": {1: "string", 2: "string", 3: "packed_enum", 4: "Any*", 5: "string", 6: "bool"},
    "Resource": {1: "ResourceId", 2: "ResourceId", 3: "string", 4: "Any*", 5: "string", 6: "bool",
                 7: "ExternalId", 8: "enum", 9: "Struct", 10: "AssetRef", 11: "Status",
                 12: "Timestamp"},
    "ExternalId": {1: "string", 2: "string", 3: "string"},
    "AssetRef": {1: "string"},
    "Status": {1: "enum", 2: "string"},
    "Entitlement": {1: "Resource", 2: "string", 3: "string", 4: "string", 5: "ResourceType*",
                    6: "Any*", 7: "enum", 8: "string"},
    "Grant": {1: "Entitlement", 2: "Resource", 3: "string", 4: "Any*", 5: "GrantSources"},
    "GrantSources": {1: "GrantSourcesEntry*"},
    "GrantSourcesEntry": {1: "string", 2: "GrantSource"},
    "GrantSource": {1: "bool"},
    "Any": {1: "string", 2: "bytes"},
    "Struct": {1: "StructEntry*"},
    "StructEntry": {1: "string", 2: "Value"},
    "Value": {1: "enum", 2: "double", 3: "string", 4: "bool", 5: "Struct", 6: "ListValue"},
    "ListValue": {1: "Value*"},
    "Timestamp": {1: "int64", 2: "int32"},
    "UserTrait": {1: "UserTraitEmail*", 2: "UserTraitStatus", 3: "Struct", 4: "AssetRef", 5: "enum",
                  6: "string", 7: "string*", 8: "Timestamp", 9: "Timestamp", 10: "MfaStatus",
                  11: "SsoStatus", 12: "StructuredName", 13: "string*"},
    "UserTraitEmail": {1: "string", 2: "bool"},
    "UserTraitStatus": {1: "enum", 2: "string"},
    "MfaStatus": {1: "bool"},
    "SsoStatus": {1: "bool"},
    "StructuredName": {1: "string", 2: "string", 3: "string*", 4: "string", 5: "string"},
    "GroupTrait": {1: "AssetRef", 2: "Struct", 3: "string", 4: "string"},
    "RoleTrait": {1: "Struct", 2: "RoleScopeConditions"},
    "RoleScopeConditions": {1: "string", 3: "RoleScopeCondition*"},
    "RoleScopeCondition": {1: "string"},
    "AppTrait": {1: "string", 2: "AssetRef", 3: "AssetRef", 4: "Struct", 5: "packed_enum",
                 6: "string", 7: "string"},
    "SkipEntitlementsAndGrants": {},
    "SkipGrants": {},
    "SkipEntitlements": {},
    "ChildResourceType": {1: "string"},
    "ExternalLink": {1: "string"},
    "V1Identifier": {1: "string"},
    "GrantExpandable": {1: "string*", 2: "bool", 3: "string*"},
    "GrantImmutable": {1: "string", 2: "Struct"},
    "GrantMetadata": {1: "Struct"},
    "EntitlementImmutable": {1: "string", 2: "Struct"},
}

ANY_TYPES = {
    "c1.connector.v2." + n: n for n in (
        "UserTrait", "GroupTrait", "RoleTrait", "AppTrait", "SkipEntitlementsAndGrants",
        "SkipGrants", "SkipEntitlements", "ChildResourceType", "ExternalLink", "V1Identifier",
        "GrantExpandable", "GrantImmutable", "GrantMetadata", "EntitlementImmutable")
}

ENUM_RANGES = {  # (message, field): largest value a v0.1.7 reader knows
    ("ResourceType", 3): 4, ("Resource", 8): 2, ("Status", 1): 3, ("Entitlement", 7): 2,
    ("Value", 1): 0, ("UserTrait", 5): 3, ("UserTraitStatus", 1): 3, ("AppTrait", 5): 5,
}

SCALAR_WIRE = {"string": 2, "bytes": 2, "bool": 0, "enum": 0, "int64": 0, "int32": 0,
               "double": 1, "packed_enum": 2}


def _utf8(b, where):
    try:
        return b.decode("utf-8")
    except UnicodeDecodeError as e:
        raise PbError("invalid UTF-8 in %s: %s" % (where, e))


def parse(name, buf, path=None):
    """Strictly parse buf as message `name`; returns {field: value or [values]}
    with strings decoded and sub-messages parsed (Any values too)."""
    path = path or name
    schema = SCHEMA[name]
    out = {}
    for num, wt, v in wire_fields(buf):
        if num not in schema:
            raise PbError("%s: unknown field %d" % (path, num))
        kind = schema[num]
        repeated = kind.endswith("*")
        kind = kind.rstrip("*")
        where = "%s.%d" % (path, num)
        want = SCALAR_WIRE.get(kind, 2)
        if kind == "packed_enum" and wt == 0:
            want = 0  # unpacked form, also accepted by parsers
        if wt != want:
            raise PbError("%s: wire type %d, expected %d" % (where, wt, want))
        if kind == "string":
            val = _utf8(v, where)
        elif kind == "bytes":
            val = v
        elif kind == "bool":
            if v not in (0, 1):
                raise PbError("%s: bool %d" % (where, v))
            val = bool(v)
        elif kind == "enum":
            limit = ENUM_RANGES.get((name, num))
            if v >= 1 << 31 or (limit is not None and v > limit):
                raise PbError("%s: enum value %d" % (where, v))
            val = v
        elif kind == "packed_enum":
            vals = []
            if wt == 0:
                vals.append(v)
            else:
                j = 0
                while j < len(v):
                    x, j = _varint(v, j)
                    vals.append(x)
            limit = ENUM_RANGES.get((name, num), (1 << 31) - 1)
            if any(x > limit for x in vals):
                raise PbError("%s: enum values %r" % (where, vals))
            out.setdefault(num, []).extend(vals)
            continue
        elif kind == "int64":
            val = v - (1 << 64) if v >= 1 << 63 else v
        elif kind == "int32":
            val = v - (1 << 64) if v >= 1 << 63 else v
            if not -(1 << 31) <= val < 1 << 31:
                raise PbError("%s: int32 out of range" % where)
        elif kind == "double":
            val = struct.unpack("<d", v)[0]
        else:
            val = parse(kind, v, where + "(" + kind + ")")
            if kind == "Any":
                url = val.get(1, "")
                full = url.rsplit("/", 1)[-1]
                if not url.startswith("type.googleapis.com/") or full not in ANY_TYPES:
                    raise PbError("%s: Any of unexpected type %r" % (where, url))
                val["message"] = parse(ANY_TYPES[full], val.get(2, b""), where + "<" + full + ">")
                val["type"] = full
        if repeated:
            out.setdefault(num, []).append(val)
        else:
            out[num] = val  # last one wins, as in Go
    if name == "Timestamp":
        if not 0 <= out.get(2, 0) <= 999999999:
            raise PbError("%s: nanos out of range" % path)
    return out


def rid(msg):
    """(type, id) of a ResourceId message dict."""
    return (msg.get(1, ""), msg.get(2, ""))


# ---------------------------------------------------------------- reader SQL

V017_TABLES = [
    """create table if not exists v1_resource_types (
        id integer primary key, external_id text not null, data blob not null,
        sync_id text not null, discovered_at datetime not null);
    create unique index if not exists idx_resource_types_external_sync_v1 on v1_resource_types (external_id, sync_id);""",
    """create table if not exists v1_resources (
        id integer primary key, resource_type_id text not null, external_id text not null,
        parent_resource_type_id text, parent_resource_id text, data blob not null,
        sync_id text not null, discovered_at datetime not null);
    create index if not exists idx_resources_resource_type_id_v1 on v1_resources (resource_type_id);
    create index if not exists idx_resources_external_sync_v1 on v1_resources (parent_resource_type_id, parent_resource_id);
    create unique index if not exists idx_resources_parent_resource_id_v1 on v1_resources (external_id, sync_id);""",
    """create table if not exists v1_entitlements (
        id integer primary key, resource_type_id text not null, resource_id text not null,
        external_id text not null, data blob not null, sync_id text not null,
        discovered_at datetime not null);
    create index if not exists idx_entitlements_resource_id_v1 on v1_entitlements (resource_type_id, resource_id);
    create unique index if not exists idx_entitlements_external_sync_v1 on v1_entitlements (external_id, sync_id);""",
    """create table if not exists v1_grants (
        id integer primary key, resource_type_id text not null, resource_id text not null,
        entitlement_id text not null, principal_resource_type_id text not null,
        principal_resource_id text not null, external_id text not null, data blob not null,
        sync_id text not null, discovered_at datetime not null);
    create index if not exists idx_grants_resource_type_id_resource_id_v1 on v1_grants (resource_type_id, resource_id);
    create index if not exists idx_grants_principal_id_v1 on v1_grants (principal_resource_type_id, principal_resource_id);
    create index if not exists idx_grants_entitlement_id_v1 on v1_grants (entitlement_id);
    create index if not exists idx_resource_types_external_sync_v1 on v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id);
    create unique index if not exists idx_grants_external_sync_v1 on v1_grants (external_id, sync_id);""",
    """create table if not exists v1_sync_runs (
        id integer primary key, sync_id text not null, started_at datetime not null,
        ended_at datetime, sync_token text not null);
    create unique index if not exists idx_sync_runs_sync_id_v1 on v1_sync_runs (sync_id);""",
    """create table if not exists v1_assets (
        id integer primary key, external_id text not null, content_type text not null,
        data blob not null, sync_id text not null, discovered_at datetime not null);
    create unique index if not exists idx_assets_external_sync_v1 on v1_assets (external_id, sync_id);""",
]

SESSIONS_TABLE = """create table if not exists v1_connector_sessions (
        id integer primary key, sync_id text not null, key text not null, value blob not null);
    create unique index if not exists idx_session_store_sync_key_v1 on v1_connector_sessions (sync_id, key);"""

# v0.7.27 and HEAD: the grants table with the expansion columns and the
# (entitlement, principal) index under its own name.
GRANTS_V07 = """create table if not exists v1_grants (
        id integer primary key, resource_type_id text not null, resource_id text not null,
        entitlement_id text not null, principal_resource_type_id text not null,
        principal_resource_id text not null, external_id text not null, expansion blob,
        needs_expansion integer not null default 0, data blob not null,
        sync_id text not null, discovered_at datetime not null);
    create index if not exists idx_grants_resource_type_id_resource_id_v1 on v1_grants (resource_type_id, resource_id);
    create index if not exists idx_grants_principal_id_v1 on v1_grants (principal_resource_type_id, principal_resource_id);
    create index if not exists idx_grants_entitlement_id_principal_id_v1 on v1_grants (entitlement_id, principal_resource_type_id, principal_resource_id);
    create unique index if not exists idx_grants_external_sync_v1 on v1_grants (external_id, sync_id);"""

V07_TABLES = V017_TABLES[:3] + [GRANTS_V07] + V017_TABLES[4:] + [SESSIONS_TABLE]

# sync_runs columns a reader adds after checking pragma_table_info.
CHECKED_COLUMNS = [
    ("sync_type", "text not null default 'full'"),
    ("parent_sync_id", "text not null default ''"),
    ("linked_sync_id", "text not null default ''"),
]
ALTERED_V07 = [("v1_sync_runs", "supports_diff integer not null default 0")]
ALTERED_HEAD = ALTERED_V07 + [
    ("v1_sync_runs", "grants_backfilled integer not null default 0"),
    ("v1_sync_runs", "stats text"),
    ("v1_sync_runs", "ingest_invariant_generation text not null default ''"),
    ("v1_sync_runs", "ingest_invariant_coverage text not null default ''"),
    ("v1_sync_runs", "ingest_invariant_mode text not null default ''"),
]
GRANT_ALTERS = [("v1_grants", "expansion blob"),
                ("v1_grants", "needs_expansion integer not null default 0")]
GRANT_INDEXES_V07 = [
    "create index if not exists idx_grants_sync_expansion_v1 on v1_grants (sync_id) where expansion is not null",
    "create index if not exists idx_grants_sync_needs_expansion_v1 on v1_grants (sync_id) where needs_expansion = 1",
]
GRANT_INDEXES_HEAD = GRANT_INDEXES_V07 + [
    "create index if not exists idx_grants_entitlement_sync_grant_v1 on v1_grants (entitlement_id, sync_id, id)",
]

TIME_RE = re.compile(r"^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}(\.\d{1,9})?$")
KSUID_RE = re.compile(r"^[0-9A-Za-z]{27}$")
B62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"

# Declared columns (name, type, notnull, default, pk) per table, section 3.1.
COLUMNS = {
    "v1_resource_types": [("id", "integer", 0, None, 1), ("external_id", "text", 1, None, 0),
                          ("data", "blob", 1, None, 0), ("sync_id", "text", 1, None, 0),
                          ("discovered_at", "datetime", 1, None, 0)],
    "v1_resources": [("id", "integer", 0, None, 1), ("resource_type_id", "text", 1, None, 0),
                     ("external_id", "text", 1, None, 0),
                     ("parent_resource_type_id", "text", 0, None, 0),
                     ("parent_resource_id", "text", 0, None, 0), ("data", "blob", 1, None, 0),
                     ("sync_id", "text", 1, None, 0), ("discovered_at", "datetime", 1, None, 0)],
    "v1_entitlements": [("id", "integer", 0, None, 1), ("resource_type_id", "text", 1, None, 0),
                        ("resource_id", "text", 1, None, 0), ("external_id", "text", 1, None, 0),
                        ("data", "blob", 1, None, 0), ("sync_id", "text", 1, None, 0),
                        ("discovered_at", "datetime", 1, None, 0)],
    "v1_grants": [("id", "integer", 0, None, 1), ("resource_type_id", "text", 1, None, 0),
                  ("resource_id", "text", 1, None, 0), ("entitlement_id", "text", 1, None, 0),
                  ("principal_resource_type_id", "text", 1, None, 0),
                  ("principal_resource_id", "text", 1, None, 0),
                  ("external_id", "text", 1, None, 0), ("expansion", "blob", 0, None, 0),
                  ("needs_expansion", "integer", 1, "0", 0), ("data", "blob", 1, None, 0),
                  ("sync_id", "text", 1, None, 0), ("discovered_at", "datetime", 1, None, 0)],
    "v1_sync_runs": [("id", "integer", 0, None, 1), ("sync_id", "text", 1, None, 0),
                     ("started_at", "datetime", 1, None, 0), ("ended_at", "datetime", 0, None, 0),
                     ("sync_token", "text", 1, None, 0),
                     ("sync_type", "text", 1, "'full'", 0), ("parent_sync_id", "text", 1, "''", 0),
                     ("linked_sync_id", "text", 1, "''", 0),
                     ("supports_diff", "integer", 1, "0", 0),
                     ("grants_backfilled", "integer", 1, "0", 0), ("stats", "text", 0, None, 0),
                     ("ingest_invariant_generation", "text", 1, "''", 0),
                     ("ingest_invariant_coverage", "text", 1, "''", 0),
                     ("ingest_invariant_mode", "text", 1, "''", 0)],
    "v1_assets": [("id", "integer", 0, None, 1), ("external_id", "text", 1, None, 0),
                  ("content_type", "text", 1, None, 0), ("data", "blob", 1, None, 0),
                  ("sync_id", "text", 1, None, 0), ("discovered_at", "datetime", 1, None, 0)],
    "v1_connector_sessions": [("id", "integer", 0, None, 1), ("sync_id", "text", 1, None, 0),
                              ("key", "text", 1, None, 0), ("value", "blob", 1, None, 0)],
}

# name -> (table, unique, columns, partial)
INDEXES = {
    "idx_resource_types_external_sync_v1": ("v1_resource_types", 1, ["external_id", "sync_id"], 0),
    "idx_resources_resource_type_id_v1": ("v1_resources", 0, ["resource_type_id"], 0),
    "idx_resources_external_sync_v1": ("v1_resources", 0, ["parent_resource_type_id", "parent_resource_id"], 0),
    "idx_resources_parent_resource_id_v1": ("v1_resources", 1, ["external_id", "sync_id"], 0),
    "idx_entitlements_resource_id_v1": ("v1_entitlements", 0, ["resource_type_id", "resource_id"], 0),
    "idx_entitlements_external_sync_v1": ("v1_entitlements", 1, ["external_id", "sync_id"], 0),
    "idx_grants_resource_type_id_resource_id_v1": ("v1_grants", 0, ["resource_type_id", "resource_id"], 0),
    "idx_grants_principal_id_v1": ("v1_grants", 0, ["principal_resource_type_id", "principal_resource_id"], 0),
    "idx_grants_entitlement_id_principal_id_v1": ("v1_grants", 0, ["entitlement_id", "principal_resource_type_id", "principal_resource_id"], 0),
    "idx_grants_external_sync_v1": ("v1_grants", 1, ["external_id", "sync_id"], 0),
    "idx_grants_entitlement_sync_grant_v1": ("v1_grants", 0, ["entitlement_id", "sync_id", "id"], 0),
    "idx_grants_sync_expansion_v1": ("v1_grants", 0, ["sync_id"], 1),
    "idx_grants_sync_needs_expansion_v1": ("v1_grants", 0, ["sync_id"], 1),
    "idx_sync_runs_sync_id_v1": ("v1_sync_runs", 1, ["sync_id"], 0),
    "idx_assets_external_sync_v1": ("v1_assets", 1, ["external_id", "sync_id"], 0),
    "idx_session_store_sync_key_v1": ("v1_connector_sessions", 1, ["sync_id", "key"], 0),
}


def exec_script(db, sql):
    for stmt in sql.split(";"):
        if stmt.strip():
            db.execute(stmt)


def alter_ignoring_duplicates(db, table, coldef):
    try:
        db.execute("alter table %s add column %s" % (table, coldef))
    except sqlite3.OperationalError as e:
        if "duplicate column name" not in str(e):
            raise


def backfill(db, sync_filter):
    """The v0.7/HEAD grant backfill: unmarshal every grant with expansion IS
    NULL, move a GrantExpandable out of data (here: just record it)."""
    while True:
        rows = db.execute(
            "SELECT g.id, g.data FROM v1_grants g JOIN v1_sync_runs sr ON g.sync_id = sr.sync_id "
            "WHERE g.expansion IS NULL AND " + sync_filter + " LIMIT 1000").fetchall()
        if not rows:
            break
        for gid, data in rows:
            g = parse("Grant", data)
            exp = [a for a in g.get(4, []) if a["type"] == "c1.connector.v2.GrantExpandable"]
            value = exp[0][2] if exp else b""
            db.execute("UPDATE v1_grants SET expansion=?, needs_expansion=?, data=? WHERE id=?",
                       (value, 1 if exp else 0, data, gid))
    db.execute("UPDATE v1_grants SET expansion = NULL WHERE expansion = X''")


def open_as(version, path):
    """Run what `version` runs on open against the database at path."""
    db = sqlite3.connect(path, isolation_level=None)
    if version == "v0.1.7":
        for sql in V017_TABLES:
            exec_script(db, sql)
        return db
    for sql in V07_TABLES:
        exec_script(db, sql)
    for col, decl in CHECKED_COLUMNS:
        n = db.execute("SELECT count(*) FROM pragma_table_info('v1_sync_runs') WHERE name = ?",
                       (col,)).fetchone()[0]
        if n == 0:
            db.execute("alter table v1_sync_runs add column %s %s" % (col, decl))
    for table, coldef in (ALTERED_V07 if version == "v0.7.27" else ALTERED_HEAD):
        alter_ignoring_duplicates(db, table, coldef)
    for table, coldef in GRANT_ALTERS:
        alter_ignoring_duplicates(db, table, coldef)
    for stmt in (GRANT_INDEXES_V07 if version == "v0.7.27" else GRANT_INDEXES_HEAD):
        db.execute(stmt)
    if version == "v0.7.27":
        backfill(db, "sr.supports_diff = 0")
    else:
        backfill(db, "sr.grants_backfilled = 0")
        db.execute("UPDATE v1_sync_runs SET grants_backfilled = 1")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("PRAGMA optimize")
        db.execute("PRAGMA journal_mode=OFF")
        db.execute("PRAGMA synchronous=OFF")
        db.execute("PRAGMA locking_mode=EXCLUSIVE")
    return db


SELECT_SYNC = {
    "v0.1.7": "SELECT sync_id, started_at, ended_at, sync_token FROM v1_sync_runs "
              "WHERE ended_at IS NOT NULL ORDER BY ended_at DESC LIMIT 1",
    "v0.7.27": "SELECT sync_id, started_at, ended_at, sync_token FROM v1_sync_runs "
               "WHERE ended_at IS NOT NULL AND sync_type = 'full' ORDER BY ended_at DESC LIMIT 1",
    "HEAD": "SELECT sync_id, started_at, ended_at, sync_token, sync_type, parent_sync_id, "
            "linked_sync_id, supports_diff FROM v1_sync_runs "
            "WHERE ended_at IS NOT NULL AND sync_type = 'full' "
            "ORDER BY ended_at DESC, sync_id DESC LIMIT 1",
}


def page_all(db, sql, args, page=100):
    """Page like the readers: id >= token, ORDER BY id, LIMIT n+1."""
    out, token = [], None
    while True:
        where = sql + (" AND id >= ?" if token is not None else "")
        rows = db.execute(where + " ORDER BY id LIMIT ?",
                          tuple(args) + ((token,) if token is not None else ()) + (page + 1,)).fetchall()
        out.extend(rows[:page])
        if len(rows) <= page:
            return out
        token = rows[page - 1][0] + 1


# ---------------------------------------------------------------- the tests


def decompress(c1z, db_path):
    with open(c1z, "rb", buffering=0) as src:  # unbuffered: zstd reads from offset 5
        if src.read(5) != MAGIC:
            raise AssertionError("bad magic")
        with open(db_path, "wb") as dst:
            subprocess.run(["zstd", "-q", "-d", "-c"], stdin=src, stdout=dst, check=True)


def zstd_frame_header(c1z):
    """(frames, content size or None, window size, checksum flag, dict id flag)."""
    with open(c1z, "rb") as f:
        data = f.read()[5:]
    if struct.unpack("<I", data[:4])[0] != 0xFD2FB528:
        raise AssertionError("not a zstd frame")
    fhd = data[4]
    fcs_flag, single, checksum, dict_flag = fhd >> 6, (fhd >> 5) & 1, (fhd >> 2) & 1, fhd & 3
    i = 5
    window = None
    if not single:
        wd = data[i]
        i += 1
        exp, mant = wd >> 3, wd & 7
        base = 1 << (10 + exp)
        window = base + (base // 8) * mant
    i += (0, 1, 2, 4)[dict_flag]
    size_len = (1 if single else 0, 2, 4, 8)[fcs_flag]
    size = None
    if size_len:
        size = int.from_bytes(data[i:i + size_len], "little") + (256 if size_len == 2 else 0)
    if single:
        window = size
    return size, window, checksum, dict_flag


class ReaderCompat(unittest.TestCase):
    # (mock options, extra flags): the opt-in types add expandable grants
    tenants = [(dict(tenant="demo"), []),
               (dict(tenant="demo"), ["--include-service-accounts", "--include-network-resources"]),
               (dict(tenant="synthetic", seed=5, users=260, groups=40), [])]

    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.mkdtemp(prefix="bt-reader-")
        cls.files = []
        for i, (opts, flags) in enumerate(cls.tenants):
            out = os.path.join(cls.dir, "sync%d.c1z" % i)
            with MockServer(**opts) as m:
                r = sync_against(m, out, flags)
                if r.returncode != 0:
                    raise AssertionError(r.stderr)
            db = os.path.join(cls.dir, "sync%d.db" % i)
            decompress(out, db)
            cls.files.append((out, db))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.dir, ignore_errors=True)

    def copy(self, db, tag):
        path = db + "." + tag
        shutil.copyfile(db, path)
        return path

    # ---- container and layout

    def test_the_opt_in_file_has_expandable_grants(self):
        con = sqlite3.connect(self.files[1][1])
        n = sum(1 for (data,) in con.execute("SELECT data FROM v1_grants")
                if any(a["type"] == "c1.connector.v2.GrantExpandable"
                       for a in parse("Grant", data).get(4, [])))
        con.close()
        self.assertGreater(n, 0)

    def test_zstd_frame(self):
        for c1z, db in self.files:
            size, window, checksum, dict_flag = zstd_frame_header(c1z)
            self.assertEqual(size, os.path.getsize(db), "content size in the frame header")
            self.assertLessEqual(window, 8 << 20)
            self.assertEqual(checksum, 1)
            self.assertEqual(dict_flag, 0)

    def test_sqlite_layout(self):
        for _, db in self.files:
            with open(db, "rb") as f:
                head = f.read(100)
            self.assertEqual(head[:16], b"SQLite format 3\x00")
            self.assertEqual((head[18], head[19]), (1, 1), "rollback journal, not WAL")
            con = sqlite3.connect(db)
            self.assertEqual(con.execute("PRAGMA encoding").fetchone()[0], "UTF-8")
            for name, sql in con.execute("SELECT name, sql FROM sqlite_master WHERE type='table'"):
                self.assertNotRegex(sql.lower(), r"\bstrict\b|without\s+rowid|generated|as\s*\(")
            self.assertEqual(con.execute("PRAGMA integrity_check").fetchone()[0], "ok")
            con.close()

    def test_columns_and_indexes_are_declared_exactly(self):
        for _, db in self.files:
            con = sqlite3.connect(db)
            tables = {r[0] for r in con.execute("SELECT name FROM sqlite_master WHERE type='table'")}
            self.assertEqual(tables, set(COLUMNS))
            for table, cols in COLUMNS.items():
                got = [(r[1], r[2].lower(), r[3], r[4], r[5])
                       for r in con.execute("PRAGMA table_info(%s)" % table)]
                self.assertEqual(got, cols, table)
                for name, _, _, _, _ in got:
                    self.assertRegex(name, r"^[A-Za-z_][A-Za-z0-9_]*$")
            names = {}
            for name, table, sql in con.execute(
                    "SELECT name, tbl_name, sql FROM sqlite_master WHERE type='index' AND sql IS NOT NULL"):
                unique = con.execute("SELECT \"unique\", partial FROM pragma_index_list(?) WHERE name = ?",
                                     (table, name)).fetchone()
                cols = [r[2] for r in con.execute("PRAGMA index_info(%s)" % name)]
                names[name] = (table, unique[0], cols, unique[1])
            self.assertEqual(names, INDEXES)
            con.close()

    # ---- the readers' open

    def test_each_reader_opens_the_file_and_selects_our_sync(self):
        for _, db in self.files:
            con = sqlite3.connect(db)
            (ours,) = con.execute("SELECT sync_id FROM v1_sync_runs").fetchall()
            counts = {t: con.execute("SELECT count(*) FROM %s" % t).fetchone()[0]
                      for t in ("v1_resource_types", "v1_resources", "v1_entitlements", "v1_grants")}
            expandable = sum(
                1 for (data,) in con.execute("SELECT data FROM v1_grants")
                if any(a["type"] == "c1.connector.v2.GrantExpandable" for a in parse("Grant", data).get(4, [])))
            con.close()
            for version in ("v0.1.7", "v0.7.27", "HEAD"):
                with self.subTest(version=version):
                    path = self.copy(db, version)
                    rc = open_as(version, path)
                    row = rc.execute(SELECT_SYNC[version]).fetchone()
                    self.assertIsNotNone(row)
                    self.assertEqual(row[0], ours[0])
                    self.assertRegex(row[1], TIME_RE)
                    self.assertRegex(row[2], TIME_RE)
                    self.assertEqual(row[3], "")
                    if version == "HEAD":
                        self.assertEqual(row[4:], ("full", "", "", 0))
                    if version != "v0.1.7":  # the backfill found every GrantExpandable
                        self.assertEqual(rc.execute("SELECT count(*) FROM v1_grants WHERE needs_expansion = 1 "
                                                    "AND expansion IS NOT NULL").fetchone()[0], expandable)
                    # the open added nothing but what it adds to an SDK file
                    for t, n in counts.items():
                        self.assertEqual(rc.execute("SELECT count(*) FROM %s WHERE sync_id = ?" % t,
                                                    (ours[0],)).fetchone()[0], n)
                    self.assertEqual(rc.execute("PRAGMA integrity_check").fetchone()[0], "ok")
                    rc.close()
                    os.unlink(path)

    def test_sync_run_values(self):
        for _, db in self.files:
            con = sqlite3.connect(db)
            rows = con.execute("SELECT sync_id, started_at, ended_at, typeof(started_at), typeof(ended_at), "
                               "sync_token, sync_type, parent_sync_id, linked_sync_id, supports_diff, "
                               "grants_backfilled, stats FROM v1_sync_runs").fetchall()
            self.assertEqual(len(rows), 1)
            sid, started, ended, t1, t2, token, stype, parent, linked, diff, backfilled, stats = rows[0]
            self.assertRegex(sid, KSUID_RE)
            n = 0
            for ch in sid:
                n = n * 62 + B62.index(ch)
            self.assertLess(n, 1 << 160)
            ts = (n >> 128) + 1400000000
            self.assertLess(abs(ts - __import__("time").time()), 3600)
            self.assertEqual((t1, t2), ("text", "text"))
            self.assertRegex(started, TIME_RE)
            self.assertRegex(ended, TIME_RE)
            self.assertEqual(len(started), len(ended), "one fixed-width layout")
            self.assertLessEqual(started, ended)
            self.assertEqual((token, stype, parent, linked, diff, backfilled, stats),
                             ("", "full", "", "", 0, 0, None))
            for t in ("v1_resource_types", "v1_resources", "v1_entitlements", "v1_grants"):
                for at, kind, sync in con.execute("SELECT discovered_at, typeof(discovered_at), sync_id FROM %s" % t):
                    self.assertEqual(kind, "text")
                    self.assertRegex(at, TIME_RE)
                    self.assertEqual(len(at), len(started))
                    self.assertEqual(sync, sid)
            con.close()

    # ---- the blobs and the listing queries

    def test_blobs_parse_and_match_their_columns(self):
        for _, db in self.files:
            con = sqlite3.connect(db)
            (sid,) = con.execute("SELECT sync_id FROM v1_sync_runs").fetchone()
            types = {}
            for ext, data in con.execute("SELECT external_id, data FROM v1_resource_types"):
                m = parse("ResourceType", data)
                self.assertEqual(m.get(1), ext)
                self.assertTrue(1 <= len(ext.encode()) <= 1024)
                types[ext] = m
            resources = {}
            for rtype, ext, ptype, pid, data in con.execute(
                    "SELECT resource_type_id, external_id, parent_resource_type_id, parent_resource_id, data "
                    "FROM v1_resources"):
                m = parse("Resource", data)
                t, i = rid(m[1])
                self.assertEqual((t, "%s:%s" % (t, i)), (rtype, ext))
                self.assertIn(rtype, types)
                parent = rid(m[2]) if 2 in m else (None, None)
                self.assertEqual(parent, (ptype, pid))
                traits = {a["type"] for a in m.get(4, [])}
                need = {1: "UserTrait", 2: "GroupTrait", 3: "RoleTrait", 4: "AppTrait"}
                for tr in types[rtype].get(3, []):
                    self.assertIn("c1.connector.v2." + need[tr], traits, ext)
                resources[(t, i)] = m
            ents = {}
            for rtype, res, ext, data in con.execute(
                    "SELECT resource_type_id, resource_id, external_id, data FROM v1_entitlements"):
                m = parse("Entitlement", data)
                self.assertIn(1, m, "entitlement embeds its resource")
                self.assertEqual(rid(m[1][1]), (rtype, res))
                self.assertEqual(m.get(2), ext)
                self.assertEqual(m[1], resources[(rtype, res)], "the full resource is embedded")
                ents[ext] = m
            for rtype, res, eid, ptype, pid, ext, data in con.execute(
                    "SELECT resource_type_id, resource_id, entitlement_id, principal_resource_type_id, "
                    "principal_resource_id, external_id, data FROM v1_grants"):
                m = parse("Grant", data)
                self.assertIn(1, m)
                self.assertIn(2, m)
                self.assertEqual(m[1].get(2), eid)
                self.assertEqual(rid(m[1][1][1]), (rtype, res))
                self.assertEqual(rid(m[2][1]), (ptype, pid))
                self.assertEqual(m.get(3), ext)
                self.assertEqual(ext, "%s:%s:%s" % (eid, ptype, pid))
                # every reference resolves (the baton CLI aborts otherwise)
                self.assertIn(eid, ents)
                self.assertIn((ptype, pid), resources)
                self.assertIn((rtype, res), resources)
                # expansion sources are entitlements on this grant's principal (5.4)
                for a in m.get(4, []):
                    if a["type"] == "c1.connector.v2.GrantExpandable":
                        self.assertTrue(a["message"].get(1))
                        for src in a["message"][1]:
                            self.assertIn(src, ents)
                            self.assertEqual(rid(ents[src][1][1]), (ptype, pid))
            con.close()

    def test_listing_queries(self):
        for _, db in self.files:
            path = self.copy(db, "list")
            con = open_as("HEAD", path)
            (sid,) = con.execute(SELECT_SYNC["HEAD"]).fetchone()[:1]
            total = con.execute("SELECT count(*) FROM v1_resources").fetchone()[0]
            seen = []
            for (rtype,) in con.execute("SELECT external_id FROM v1_resource_types").fetchall():
                rows = page_all(con, "SELECT id, data FROM v1_resources WHERE resource_type_id = ? AND sync_id = ?",
                                (rtype, sid), page=7)
                seen += [r[0] for r in rows]
                for _, data in rows:
                    m = parse("Resource", data)
                    t, i = rid(m[1])
                    self.assertEqual(t, rtype)
                    got = con.execute("SELECT data FROM v1_resources WHERE resource_type_id = ? "
                                      "AND external_id = ? AND sync_id = ?",
                                      (t, "%s:%s" % (t, i), sid)).fetchall()
                    self.assertEqual(got, [(data,)])
                    ents = page_all(con, "SELECT id, data FROM v1_entitlements WHERE resource_type_id = ? "
                                    "AND resource_id = ? AND sync_id = ?", (t, i, sid))
                    for _, ed in ents:
                        e = parse("Entitlement", ed)
                        grants = page_all(con, "SELECT id, data FROM v1_grants WHERE entitlement_id = ? "
                                          "AND sync_id = ?", (e[2], sid), page=10)
                        for _, gd in grants:
                            self.assertEqual(parse("Grant", gd)[1][2], e[2])
                    by_principal = page_all(
                        con, "SELECT id, data FROM v1_grants WHERE principal_resource_type_id = ? "
                        "AND principal_resource_id = ? AND sync_id = ?", (t, i, sid))
                    for _, gd in by_principal:
                        self.assertEqual(rid(parse("Grant", gd)[2][1]), (t, i))
            self.assertEqual(sorted(seen), sorted(set(seen)))
            self.assertEqual(len(seen), total)
            children = page_all(con, "SELECT id, data FROM v1_resources WHERE parent_resource_type_id = ? "
                                "AND parent_resource_id = ? AND sync_id = ?", ("group", "x", sid))
            self.assertEqual(children, [])
            type_ids = [t for (t,) in con.execute("SELECT external_id FROM v1_resource_types")]
            in_types = con.execute("SELECT count(*) FROM v1_grants WHERE principal_resource_type_id IN (%s) "
                                   "AND sync_id = ?" % ", ".join("?" * len(type_ids)),
                                   tuple(type_ids) + (sid,)).fetchone()[0]
            self.assertEqual(in_types, con.execute("SELECT count(*) FROM v1_grants").fetchone()[0])
            for t in ("v1_resource_types", "v1_resources", "v1_entitlements", "v1_grants"):
                self.assertGreater(con.execute("SELECT count(*) FROM %s WHERE sync_id = ?" % t,
                                               (sid,)).fetchone()[0], 0)
            for t in ("v1_resources", "v1_entitlements", "v1_grants"):
                con.execute("SELECT resource_type_id, count(*) FROM %s WHERE sync_id = ? "
                            "GROUP BY resource_type_id" % t, (sid,)).fetchall()
            for ext, in con.execute("SELECT external_id FROM v1_grants LIMIT 5").fetchall():
                self.assertEqual(len(con.execute("SELECT data FROM v1_grants WHERE external_id = ? AND sync_id = ?",
                                                 (ext, sid)).fetchall()), 1)
            con.close()
            os.unlink(path)


class StrictParser(unittest.TestCase):
    """The parser refuses what Go refuses."""

    def test_refusals(self):
        for bad in (b"\x02", b"\x0a\x05ab", b"\x03", b"\x07", b"\x00\x01",
                    b"\x0a\x02\xff\xfe", b"\x08\x80", b"\x09\x01\x02"):
            with self.assertRaises(PbError, msg=bad):
                parse("ResourceId", bad)
        self.assertEqual(parse("ResourceId", b"\x0a\x04user\x12\x01x"), {1: "user", 2: "x"})


if __name__ == "__main__":
    unittest.main()
