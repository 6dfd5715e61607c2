"""Tenant changes during a sync, and pages of the wrong shape, for the mock.

A real sync of a large tenant takes minutes and the tenant changes meanwhile;
a hostile or broken server answers pages that break a connection's shape or
never end. Both are scheduled through control endpoints (see README.md):

    POST /_mock/schedule    {"after_requests": N, "query": "mutation ...", "variables": {...}}
        runs the mutation once N GraphQL requests have been executed, just
        before request N+1 (not counted in the stats, never faulted);
    GET  /_mock/schedule    {"executed": n, "pending": k, "done": [{after_requests, ok, errors}]}
    POST /_mock/page-fault  {"path": "users", "kind": K, "times": N}
        breaks the connection at `path` (dot-separated from `data`; a list on
        the way means each of its items: "groups.edges.node.users" is every
        group's nested member page) in the next N answers that hold it.

Kinds: edges_null, edge_null (last edge null), node_null (first node null),
no_id (first node without id), page_info_null, duplicate_conflict (the last
node becomes the first one with a changed string field: one id, two contents),
endless (hasNextPage true with a fresh cursor the server does not know, so the
next request starts over: a walk in place).
Issue 17's damaged answers: ends_early (hasNextPage false on a page that has
more; totalCount unchanged), short (the page cut to its first 40 edges, its
pageInfo kept), data_empty_object / data_empty_list (the whole answer's data
becomes {} / [] when it holds the root field named by path), set_field (the
first node's `field` becomes `value`; value "huge_array" is a list of a
million zeros), surrogate_id (the first node's id gets a lone \uD800).
"""

import copy
import threading

from graphql import execute, parse

KINDS = ("edges_null", "edge_null", "node_null", "no_id", "page_info_null",
         "duplicate_conflict", "endless", "ends_early", "short", "data_empty_object",
         "data_empty_list", "set_field", "surrogate_id")


def _targets(obj, segs):
    """The dicts at path segs under obj; lists on the way fan out."""
    if isinstance(obj, list):
        for item in obj:
            yield from _targets(item, segs)
    elif isinstance(obj, dict):
        if not segs:
            yield obj
        elif obj.get(segs[0]) is not None:
            yield from _targets(obj[segs[0]], segs[1:])


class Changes:
    def __init__(self, app, make_ctx):
        self.app = app
        self.make_ctx = make_ctx  # (tenant, read_only) -> the mock's execution context
        self.lock = threading.Lock()
        self.executed = 0
        self.pending = []   # {"after_requests", "query", "variables"}
        self.done = []
        self.faults = []    # {"path", "kind", "times"}
        self.endless = 0

    # ---- control
    def schedule(self, payload):
        after = payload.get("after_requests")
        query = payload.get("query")
        if not isinstance(after, int) or after < 0 or not isinstance(query, str):
            raise ValueError("schedule needs after_requests (int >= 0) and query (a mutation)")
        with self.lock:
            self.pending.append({"after_requests": after, "query": query,
                                 "variables": payload.get("variables") or {}})
            return {"ok": True, "pending": len(self.pending)}

    def page_fault(self, payload):
        path, kind, times = payload.get("path"), payload.get("kind"), payload.get("times", 1)
        if not isinstance(path, str) or not path or kind not in KINDS or \
                not isinstance(times, int) or times < 1:
            raise ValueError("page-fault needs path, kind (one of %s) and times >= 1"
                             % ", ".join(KINDS))
        if kind == "set_field" and not isinstance(payload.get("field"), str):
            raise ValueError("set_field needs field (and value)")
        with self.lock:
            self.faults.append({"path": path, "kind": kind, "times": times,
                                "field": payload.get("field"), "value": payload.get("value")})
            return {"ok": True, "faults": len(self.faults)}

    def state(self):
        with self.lock:
            return {"executed": self.executed, "pending": len(self.pending),
                    "done": list(self.done)}

    # ---- hooks (called by MockApp under its exec_lock)
    def before_request(self):
        """Count one executed request; first run every change now due."""
        with self.lock:
            due = [c for c in self.pending if c["after_requests"] <= self.executed]
            self.pending = [c for c in self.pending if c["after_requests"] > self.executed]
            self.executed += 1
        for c in due:
            self._apply(c)

    def _apply(self, change):
        app = self.app
        ctx = self.make_ctx(app.tenant, False)
        result = execute(app.schema, parse(change["query"]), context_value=ctx,
                         variable_values=change["variables"])
        app.tenant.version += 1
        errors = [str(e) for e in result.errors or []]
        payloads = list((result.data or {}).values())
        ok = not errors and all(isinstance(p, dict) and p.get("ok") for p in payloads)
        with self.lock:
            self.done.append({"after_requests": change["after_requests"], "ok": ok,
                              "errors": errors, "data": copy.deepcopy(result.data)})

    def mangle(self, data):
        """Apply the page faults due to an answer's data (in place); returns
        the data to send (data_empty_* replace all of it)."""
        with self.lock:
            for fault in self.faults:
                if fault["times"] <= 0:
                    continue
                segs = fault["path"].split(".")
                if fault["kind"] in ("data_empty_object", "data_empty_list"):
                    if isinstance(data, dict) and segs[0] in data:
                        fault["times"] -= 1
                        data = {} if fault["kind"] == "data_empty_object" else []
                    continue
                hit = False
                for conn in _targets(data, segs):
                    hit = self._break(conn, fault) or hit
                if hit:
                    fault["times"] -= 1
        return data

    def _break(self, conn, fault):
        """Break one connection; False when this kind does not apply to it
        (ends_early on a last page), so the fault waits for one it does."""
        kind = fault["kind"]
        edges = conn.get("edges")
        first = edges[0]["node"] if edges and isinstance(edges[0], dict) and \
            isinstance(edges[0].get("node"), dict) else None
        if kind == "edges_null":
            conn["edges"] = None
        elif kind == "edge_null":
            if edges:
                edges[-1] = None
            else:
                conn["edges"] = [None]
        elif kind == "node_null" and edges:
            edges[0]["node"] = None
        elif kind == "no_id" and first is not None:
            first.pop("id", None)
        elif kind == "page_info_null":
            conn["pageInfo"] = None
        elif kind == "duplicate_conflict" and first is not None and len(edges) > 1:
            twin = dict(first)
            for key, value in twin.items():
                if key not in ("id", "__typename") and isinstance(value, str):
                    twin[key] = value + " (changed)"
                    break
            last = dict(edges[-1] or {})
            last["node"] = twin
            edges[-1] = last
        elif kind == "ends_early":
            info = conn.get("pageInfo") or {}
            if not info.get("hasNextPage"):
                return False
            info["hasNextPage"] = False
        elif kind == "short":
            if not edges or len(edges) <= 40:
                return False
            del edges[40:]
        elif kind == "set_field" and first is not None:
            value = fault["value"]
            first[fault["field"]] = [0] * 1000000 if value == "huge_array" else value
        elif kind == "surrogate_id" and first is not None:
            first["id"] = first["id"] + "\ud800"
        elif kind == "endless":
            self.endless += 1
            info = conn.get("pageInfo") or {}
            info["hasNextPage"] = True
            info["endCursor"] = "endless-%d" % self.endless
            conn["pageInfo"] = info
        return True
