"""The ConductorOne service messages (document section 3), by field number:
tasks built from test JSON, requests decoded into JSON-able dicts.

Only what the mock needs is declared; everything else is skipped as unknown."""

import base64
import os
import random
import string
import sys

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "lib"))
import pbwire  # noqa: E402  (tests/lib, on the path above)
from pbwire import (boolean, decode, encode, first, packed_varints, string as s,  # noqa: E402
                    sub, subs)

TYPE_PREFIX = "type.googleapis.com/"

TASK_CASES = {
    "none": 100, "hello": 101, "sync_full": 102, "grant": 103, "revoke": 104,
    "create_account": 105, "create_resource": 106, "delete_resource": 107,
    "rotate_credentials": 108, "event_feed": 109,
}


def new_task_id():
    """27 alphanumerics, like a KSUID."""
    alphabet = string.ascii_letters + string.digits
    return "".join(random.choice(alphabet) for _ in range(27))


def oneof(num, message_bytes):
    """A set oneof member: always written, even when empty."""
    return pbwire.field(num, bytes(message_bytes))


def duration(seconds):
    """google.protobuf.Duration from float seconds."""
    whole = int(seconds)
    return encode([(1, whole), (2, int(round((seconds - whole) * 1e9)))])


# ---------------------------------------------------------------- encoding tasks


def resource_id(rid):
    return encode([(1, rid["type"]), (2, rid["id"])])


def resource(res):
    """Resource from {"type", "id", "display_name"?, "parent"?: {"type","id"}}."""
    if "pb" in res:
        return base64.b64decode(res["pb"])
    parent = resource_id(res["parent"]) if res.get("parent") else None
    return encode([(1, resource_id(res)), (2, parent), (3, res.get("display_name", ""))])


def entitlement(ent):
    """Entitlement from {"id", "resource": {...}, "display_name"?, "slug"?, "purpose"?},
    or {"pb": base64 of the bytes} (e.g. the row a sync wrote)."""
    if "pb" in ent:
        return base64.b64decode(ent["pb"])
    return encode([(1, resource(ent["resource"])), (2, ent["id"]), (3, ent.get("display_name", "")),
                   (7, ent.get("purpose", 1)), (8, ent.get("slug", ""))])


def grant(g):
    if "pb" in g:
        return base64.b64decode(g["pb"])
    return encode([(1, entitlement(g["entitlement"])), (2, resource(g["principal"])),
                   (3, g.get("id", ""))])


def struct_value(v):
    if v is None:
        return pbwire.varint(1 << 3) + b"\x00"  # null_value 0, written: a set oneof member
    if isinstance(v, bool):
        return pbwire.varint(4 << 3) + pbwire.varint(int(v))
    if isinstance(v, (int, float)):
        return pbwire.field(2, float(v))
    if isinstance(v, str):
        return oneof(3, v.encode("utf-8"))
    if isinstance(v, dict):
        return oneof(5, struct(v))
    return oneof(6, b"".join(pbwire.field(1, struct_value(x)) for x in v))


def struct(d):
    return b"".join(pbwire.field(1, encode([(1, k)]) + pbwire.field(2, struct_value(v)))
                    for k, v in d.items())


def account_info(info):
    emails = [(1, encode([(1, e["address"]), (2, bool(e.get("is_primary")))]))
              for e in info.get("emails", [])]
    profile = struct(info["profile"]) if "profile" in info else None
    return encode(emails + [(2, info.get("login", "")), (4, profile)])


def _sync_body(t):
    pairs = [(2, bool(t.get("skip_expand_grants"))), (3, bool(t.get("skip_entitlements_and_grants"))),
             (6, bool(t.get("skip_grants"))), (7, t.get("storage_engine", ""))]
    pairs += [(5, rt) for rt in t.get("sync_resource_type_ids", [])]
    # targeted_sync_resources: c1.connector.v2.Resource { 1 id: ResourceId {1 type, 2 id} }
    pairs += [(4, encode([(1, encode([(1, r["type"]), (2, r["id"])]))]))
              for r in t.get("targeted_sync_resources", [])]
    return encode(pairs)


def _grant_body(t):
    pairs = []
    if t.get("entitlement"):
        pairs.append((1, entitlement(t["entitlement"])))
    if t.get("principal"):
        pairs.append((2, resource(t["principal"])))
    if t.get("duration_s"):
        pairs.append((4, duration(t["duration_s"])))
    return encode(pairs)


def _revoke_body(t):
    return encode([(1, grant(t["grant"]))]) if t.get("grant") else b""


def _create_account_body(t):
    options = oneof(101, b"") if t.get("no_password", True) else b""
    info = account_info(t["account_info"]) if t.get("account_info") else None
    return encode([(1, info), (2, options), (4, t.get("resource_type_id", ""))])


def _delete_body(t):
    pairs = []
    if t.get("resource_id"):
        pairs.append((1, resource_id(t["resource_id"])))
    if t.get("parent_resource_id"):
        pairs.append((2, resource_id(t["parent_resource_id"])))
    return encode(pairs)


BODIES = {"sync_full": _sync_body, "grant": _grant_body, "revoke": _revoke_body,
          "create_account": _create_account_body, "delete_resource": _delete_body}


def task(t):
    """Task message from a test's JSON: {"id", "type", ...body fields...}.
    "type" may also be "case" with "case": N (an empty body at field N), or
    "empty" (a Task with no case set)."""
    kind = t["type"]
    head = encode([(1, t["id"]), (2, t.get("status", 1))])
    if kind == "empty":
        return head
    number = t["case"] if kind == "case" else TASK_CASES[kind]
    body = BODIES.get(kind, lambda _t: b"")(t)
    return head + oneof(number, body)


def get_task_response(task_bytes, next_poll, next_heartbeat=1.0):
    pairs = []
    if task_bytes is not None:
        pairs.append((1, task_bytes))
    if next_poll is not None:
        pairs.append((2, duration(next_poll)))
    if next_heartbeat is not None:
        pairs.append((3, duration(next_heartbeat)))
    return encode(pairs)


def heartbeat_response(next_heartbeat, cancelled):
    nh = duration(next_heartbeat) if next_heartbeat is not None else None
    return encode([(1, nh), (2, bool(cancelled))])


# ---------------------------------------------------------------- decoding requests


def any_(f):
    value = first(f, 2, b"")
    return {"type_url": s(f, 1), "value_b64": base64.b64encode(value).decode("ascii")}


def anys(fields, num):
    return [any_(a) for a in subs(fields, num)]


def decode_resource_id(f):
    return {"type": s(f, 1), "id": s(f, 2)} if f is not None else None


def decode_resource(f):
    if f is None:
        return None
    return {"id": decode_resource_id(sub(f, 1)), "parent": decode_resource_id(sub(f, 2)),
            "display_name": s(f, 3), "annotations": [a["type_url"] for a in anys(f, 4)],
            "description": s(f, 5)}


def decode_resource_type(f):
    return {"id": s(f, 1), "display_name": s(f, 2), "traits": packed_varints(f, 3),
            "annotations": [a["type_url"] for a in anys(f, 4)], "description": s(f, 5)}


def decode_hello(buf):
    f = decode(buf)
    build = sub(f, 3) or {}
    osf = sub(f, 4) or {}
    os_names = ["hostname", "os", "platform", "platform_version", "platform_family",
                "kernel_version", "kernel_arch", "virtualization_system"]
    return {"host_id": s(f, 1), "task_id": s(f, 2),
            "build_info": {"lang_version": s(build, 1), "package": s(build, 2),
                           "package_version": s(build, 3)},
            "os_info": {name: s(osf, i + 1) for i, name in enumerate(os_names)},
            "connector_metadata": decode_metadata(sub(f, 5)), "annotations": len(f.get(6, []))}


def decode_metadata(f):
    if f is None:
        return None
    caps = sub(f, 8) or {}
    return {"display_name": s(f, 1), "help_url": s(f, 2), "description": s(f, 7),
            "annotations": anys(f, 6), "capabilities": decode_capabilities(caps),
            "account_creation_schema": decode_schema(sub(f, 9))}


def external_links(annotations):
    """The urls of the ExternalLink annotations among decoded Anys."""
    return [s(decode(base64.b64decode(a["value_b64"])), 1) for a in annotations
            if a["type_url"] == TYPE_PREFIX + "c1.connector.v2.ExternalLink"]


def decode_capabilities(f):
    creds = sub(f, 3)
    prov = sub(creds, 1) if creds else None
    return {"resource_type_capabilities": [
                {"resource_type": decode_resource_type(sub(r, 1) or {}),
                 "capabilities": packed_varints(r, 2)} for r in subs(f, 1)],
            "connector_capabilities": packed_varints(f, 2),
            "credential_details": None if creds is None else {
                "account_provisioning": None if prov is None else {
                    "supported": packed_varints(prov, 1), "preferred": first(prov, 2, 0)}}}


def decode_schema(f):
    if f is None:
        return None
    fields = {}
    for entry in subs(f, 1):
        v = sub(entry, 2) or {}
        kind = next((k for k in (100, 101, 102, 103, 104) if k in v), None)
        fields[s(entry, 1)] = {"display_name": s(v, 1), "required": boolean(v, 2),
                               "order": pbwire.to_signed64(first(v, 5, 0)), "kind": kind}
    return {"field_map": fields}


def decode_get_task(buf):
    return {"host_id": s(decode(buf), 1)}


def decode_heartbeat(buf):
    f = decode(buf)
    return {"host_id": s(f, 1), "task_id": s(f, 2), "annotations": len(f.get(3, [])),
            "task_ids": pbwire.strings(f, 4)}


def decode_upload(buf):
    """One UploadAssetRequest: ("metadata"|"data"|"eof"|None, dict)."""
    f = decode(buf)
    present = [n for n in (100, 101, 102) if n in f]
    if len(present) != 1:
        return None, {"fields": sorted(f)}
    m = sub(f, present[0])
    if present[0] == 100:
        return "metadata", {"host_id": s(m, 1), "task_id": s(m, 2), "annotations": len(m.get(4, [])),
                            "field3": 3 in m}
    if present[0] == 101:
        return "data", {"data": first(m, 1, b"")}
    return "eof", {"sha256": first(m, 1, b"").hex(), "annotations": len(m.get(2, []))}


def decode_status(f):
    if f is None:
        return None
    return {"code": pbwire.to_signed64(first(f, 1, 0)), "message": s(f, 2), "details": anys(f, 3)}


def decode_finish(buf):
    f = decode(buf)
    out = {"host_id": s(f, 1), "task_id": s(f, 2), "status": decode_status(sub(f, 3))}
    if 100 in f and 101 in f:
        out["final_state"] = "both"
    elif 100 in f:
        e = sub(f, 100)
        out["final_state"] = "error"
        out["error"] = {"non_retryable": boolean(e, 1), "annotations": anys(e, 2),
                        "response": any_(sub(e, 3)) if 3 in e else None}
    elif 101 in f:
        ok = sub(f, 101)
        out["final_state"] = "success"
        out["success"] = {"annotations": anys(ok, 1),
                          "response": decode_response(sub(ok, 2)) if 2 in ok else None}
    else:
        out["final_state"] = None
    return out


# ---------------------------------------------------------------- task responses (inside Any)


def decode_grant_entry(f):
    ent = sub(f, 1) or {}
    return {"id": s(f, 3), "entitlement_id": s(ent, 2), "principal": decode_resource(sub(f, 2))}


def decode_create_account(f):
    kinds = {100: "success", 101: "action_required", 102: "already_exists", 103: "in_progress"}
    kind = next((k for k in kinds if k in f), None)
    if kind is None:
        return {"result": None}
    r = sub(f, kind)
    flag_field = 3 if kind == 101 else 2
    return {"result": kinds[kind], "resource": decode_resource(sub(r, 1)),
            "is_create_account_result": boolean(r, flag_field), "annotations": anys(f, 3)}


def decode_response(f):
    """A FinishTask success response Any, with its payload decoded when known."""
    out = any_(f)
    name = out["type_url"][len(TYPE_PREFIX):] if out["type_url"].startswith(TYPE_PREFIX) else None
    inner = decode(base64.b64decode(out["value_b64"]))
    if name == "c1.connector.v2.GrantManagerServiceGrantResponse":
        out["decoded"] = {"annotations": anys(inner, 1),
                          "grants": [decode_grant_entry(g) for g in subs(inner, 2)]}
    elif name in ("c1.connector.v2.GrantManagerServiceRevokeResponse",
                  "c1.connector.v2.DeleteResourceResponse"):
        out["decoded"] = {"annotations": anys(inner, 1)}
    elif name == "c1.connector.v2.CreateAccountResponse":
        out["decoded"] = decode_create_account(inner)
    return out
