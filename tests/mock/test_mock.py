"""Tests of the mock Twingate server.

    cd tests/mock && /usr/bin/python3 -m unittest -v test_mock
"""

import base64
import collections
import email.utils
import json
import re
import socket
import time
import unittest

from mockctl import MockServer, http

ROLES = {"ADMIN", "DEVOPS", "SUPPORT", "MEMBER", "ACCESS_REVIEWER", "HELPDESK", "BILLING"}
TS_RE = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}\+00:00$")

USERS_PAGE = """query Users($first: Int, $after: String) {
  users(first: $first, after: $after) {
    pageInfo { hasNextPage hasPreviousPage startCursor endCursor }
    totalCount
    edges { cursor node { id firstName lastName email role state type isAdmin createdAt } }
  }
}"""

GROUP_MEMBERS = """query Members($id: ID!, $after: String) {
  group(id: $id) {
    id
    users(first: 100, after: $after) {
      pageInfo { hasNextPage endCursor }
      totalCount
      edges { cursor node { id } }
    }
  }
}"""

GROUPS_PAGE = """query Groups($after: String, $filter: GroupFilterInput) {
  groups(first: 100, after: $after, filter: $filter) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name type isActive originId createdAt
      users(first: 100) { pageInfo { hasNextPage endCursor } edges { node { id } } } } }
  }
}"""

GROUP_UPDATE = """mutation Update($id: ID!, $added: [ID], $removed: [ID], $userIds: [ID], $name: String) {
  groupUpdate(id: $id, addedUserIds: $added, removedUserIds: $removed, userIds: $userIds, name: $name) {
    ok error entity { id name users(first: 100) { edges { node { id } } } }
  }
}"""


def cursor(n):
    return base64.b64encode(("arrayconnection:%d" % n).encode()).decode()


def gid(type_name, n):
    return base64.b64encode(("%s:%d" % (type_name, n)).encode()).decode()


def page_all(m, query, variables, path, api_key=None):
    """Follow pageInfo for a connection at `path` (list of keys); return nodes."""
    nodes, after, pages = [], None, 0
    while True:
        v = dict(variables, after=after)
        r = m.graphql(query, v, api_key=api_key)
        assert r.status == 200 and not r.errors, r
        conn = r.data
        for k in path:
            conn = conn[k]
        nodes += [e["node"] for e in conn["edges"]]
        pages += 1
        if not conn["pageInfo"]["hasNextPage"]:
            return nodes, pages
        after = conn["pageInfo"]["endCursor"]


class DemoReadTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = MockServer(tenant="demo", read_only_key="ro-key").start()

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()

    def test_listening_line_and_port(self):
        self.assertIn("LISTENING %d" % self.m.port, self.m.log_text())

    def test_auth(self):
        q = "{ users { totalCount } }"
        for key in (False, "", "wrong"):
            r = self.m.graphql(q, api_key=key)
            self.assertEqual(r.status, 401, key)
            self.assertIsInstance(r.json, dict)
        r = self.m.graphql(q, headers={"x-api-key": "demo-key"})
        self.assertEqual(r.status, 200)
        r = self.m.graphql(q, api_key="ro-key")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data["users"]["totalCount"], 12)

    def test_paths_and_methods(self):
        r = self.m.post_raw({"query": "{ users { totalCount } }"}, path="/api/graphql")
        self.assertEqual(r.status, 200)
        self.assertEqual(self.m.post_raw({"query": "{ __typename }"}, path="/api/other/").status, 404)
        self.assertEqual(http("GET", self.m.base + "/").status, 404)
        self.assertEqual(http("GET", self.m.url).status, 405)

    def assert_400(self, r):
        self.assertEqual(r.status, 400, r)
        self.assertNotIn("data", r.json)
        self.assertTrue(r.json["errors"][0]["message"])

    def test_invalid_requests_are_400(self):
        m = self.m
        self.assert_400(m.graphql("{ users { "))                          # syntax
        self.assert_400(m.graphql("{ users { edges { node { password } } } }"))  # unknown field
        self.assert_400(m.graphql("{ connectors { totalCount } }"))       # not in schema
        self.assert_400(m.graphql("{ users(first: \"x\") { totalCount } }"))
        self.assert_400(m.graphql("query($id: ID!) { user(id: $id) { id } }"))  # missing var
        self.assert_400(m.graphql("query($n: Int) { users(first: $n) { totalCount } }",
                                  {"n": "many"}))                         # bad var type
        self.assert_400(m.graphql("query A { users { totalCount } } query B { groups { totalCount } }"))
        self.assert_400(m.post_raw(b"{not json"))
        self.assert_400(m.post_raw({"variables": {}}))
        r = m.graphql("query A { users { totalCount } } query B { groups { totalCount } }",
                      operation_name="B")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data, {"groups": {"totalCount": 7}})

    def test_demo_contents(self):
        t = self.m.truth()
        users = t["users"]
        self.assertEqual(len(users), 12)
        self.assertEqual({u["role"] for u in users}, ROLES)
        self.assertEqual({u["state"] for u in users}, {"ACTIVE", "PENDING", "DISABLED"})
        self.assertEqual({u["type"] for u in users}, {"MANUAL", "SYNCED"})
        self.assertTrue(any(u["firstName"] is None and u["lastName"] is None for u in users))
        self.assertTrue(any(u["firstName"] == "Zoë" and u["lastName"] == "Ångström" for u in users))
        for u in users:
            self.assertEqual(u["isAdmin"], u["role"] == "ADMIN")
            self.assertRegex(u["createdAt"], TS_RE)
        groups = t["groups"]
        self.assertGreaterEqual(len(groups), 6)
        everyone = [g for g in groups if g["name"] == "Everyone"]
        self.assertEqual(len(everyone), 1)
        self.assertEqual(everyone[0]["type"], "SYSTEM")
        self.assertEqual(everyone[0]["members"], [u["id"] for u in users])
        self.assertEqual({g["type"] for g in groups}, {"MANUAL", "SYNCED", "SYSTEM"})
        names = collections.Counter(g["name"] for g in groups)
        self.assertTrue(any(c > 1 for c in names.values()))
        self.assertTrue(any(not g["isActive"] for g in groups))
        self.assertTrue(any(g["originId"] for g in groups if g["type"] == "SYNCED"))
        self.assertEqual(len(t["serviceAccounts"]), 2)
        self.assertTrue(all(sa["keys"] for sa in t["serviceAccounts"]))
        self.assertEqual(len(t["remoteNetworks"]), 2)
        self.assertEqual(len(t["resources"]), 3)
        kinds = {a["principalType"] for r in t["resources"] for a in r["access"]}
        self.assertEqual(kinds, {"Group", "ServiceAccount"})

    def test_ascii_json_and_timestamps(self):
        r = self.m.graphql(USERS_PAGE, {"first": 100})
        self.assertTrue(all(b < 128 for b in r.body))
        self.assertIn(b"Zo\\u00eb", r.body)
        for e in r.data["users"]["edges"]:
            self.assertRegex(e["node"]["createdAt"], TS_RE)

    def test_ids_and_lookups(self):
        t = self.m.truth()
        u = t["users"][3]
        raw = base64.b64decode(u["id"]).decode()
        self.assertRegex(raw, r"^User:\d+$")
        q = "query($id: ID!) { user(id: $id) { id email groups { totalCount } } }"
        r = self.m.graphql(q, {"id": u["id"]})
        self.assertEqual(r.data["user"]["email"], u["email"])
        # unknown but well-formed, and a Group id given to user(): null, no error
        for other in (gid("User", 1), t["groups"][0]["id"]):
            r = self.m.graphql(q, {"id": other})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.json, {"data": {"user": None}})
        # malformed
        for bad in ("nope", "VXNlcjphYmM=", base64.b64encode(b"User").decode()):
            r = self.m.graphql(q, {"id": bad})
            self.assertEqual(r.status, 200)
            self.assertEqual(r.data, {"user": None})
            self.assertEqual(r.errors[0]["message"], "{'id': ['Unable to parse global ID']}")
            self.assertEqual(r.errors[0]["path"], ["user"])
        for root, kind in (("group", "groups"), ("serviceAccount", "serviceAccounts"),
                           ("resource", "resources")):
            obj = t[kind][0]
            r = self.m.graphql("query($id: ID!) { %s(id: $id) { id name } }" % root,
                               {"id": obj["id"]})
            self.assertEqual(r.data[root], {"id": obj["id"], "name": obj["name"]})

    def test_truth_matches_queries(self):
        t = self.m.truth()
        users, _ = page_all(self.m, USERS_PAGE, {"first": 5}, ["users"])
        fields = ["id", "firstName", "lastName", "email", "role", "state", "type",
                  "isAdmin", "createdAt"]
        self.assertEqual(users, [{k: u[k] for k in fields} for u in t["users"]])
        groups, _ = page_all(self.m, GROUPS_PAGE, {}, ["groups"])
        self.assertEqual([g["id"] for g in groups], [g["id"] for g in t["groups"]])
        for g, tg in zip(groups, t["groups"]):
            for k in ("name", "type", "isActive", "originId", "createdAt"):
                self.assertEqual(g[k], tg[k])
            self.assertEqual([e["node"]["id"] for e in g["users"]["edges"]], tg["members"])

    def test_filters(self):
        t = self.m.truth()
        q = "query($f: UserFilterInput) { users(filter: $f) { totalCount edges { node { email role } } } }"
        r = self.m.graphql(q, {"f": {"email": {"eq": "ZOE.angstrom@acme.example"}}})
        self.assertEqual(r.data["users"]["totalCount"], 1)
        r = self.m.graphql(q, {"f": {"role": {"in": ["ADMIN", "BILLING"]}}})
        self.assertEqual(r.data["users"]["totalCount"],
                         sum(1 for u in t["users"] if u["role"] in ("ADMIN", "BILLING")))
        gq = "query($f: GroupFilterInput) { groups(filter: $f) { totalCount edges { node { name type isActive } } } }"
        r = self.m.graphql(gq, {"f": {"name": {"eq": "Engineering"}}})
        self.assertEqual(r.data["groups"]["totalCount"], 2)
        r = self.m.graphql(gq, {"f": {"type": {"in": ["MANUAL"]}, "isActive": {"eq": True}}})
        self.assertTrue(all(e["node"]["type"] == "MANUAL" and e["node"]["isActive"]
                            for e in r.data["groups"]["edges"]))
        r = self.m.graphql(gq, {"f": {"name": {"contains": "ance"}}})
        self.assertEqual([e["node"]["name"] for e in r.data["groups"]["edges"]], ["Finance"])

    def test_resources_and_access_union(self):
        q = """{ resources { totalCount edges { node { __typename id name address { type value }
                 remoteNetwork { name location }
                 access { totalCount edges { cursor expiresAt node { __typename
                   ... on Group { id name type } ... on ServiceAccount { id name } } } } } } } }"""
        r = self.m.graphql(q)
        self.assertEqual(r.status, 200, r)
        kinds = [e["node"]["__typename"] for e in r.data["resources"]["edges"]]
        self.assertEqual(kinds, ["NetworkResource", "SSHResource", "KubernetesResource"])
        typenames = {a["node"]["__typename"] for e in r.data["resources"]["edges"]
                     for a in e["node"]["access"]["edges"]}
        self.assertEqual(typenames, {"Group", "ServiceAccount"})
        q2 = "{ serviceAccounts { edges { node { name keys { edges { node { name status serviceAccount { name } } } } resources { totalCount } } } } }"
        r = self.m.graphql(q2)
        self.assertEqual(r.status, 200, r)
        sa = r.data["serviceAccounts"]["edges"][0]["node"]
        self.assertEqual(sa["keys"]["edges"][0]["node"]["serviceAccount"]["name"], sa["name"])
        r = self.m.graphql("{ remoteNetworks { totalCount } securityPolicies { totalCount } "
                           "remoteNetwork(name: \"Office LAN\") { location } }")
        self.assertEqual(r.data, {"remoteNetworks": {"totalCount": 2},
                                  "securityPolicies": {"totalCount": 2},
                                  "remoteNetwork": {"location": "ON_PREMISE"}})


class MutationTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = MockServer(tenant="demo", read_only_key="ro-key").start()

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()

    def setUp(self):
        self.m.reset()
        self.m.reset_stats()
        self.t = self.m.truth()
        self.g = {(g["name"], g["type"]): g for g in self.t["groups"]}
        self.u = {u["email"].split("@")[0]: u for u in self.t["users"]}

    def members(self, group_id):
        for g in self.m.truth()["groups"]:
            if g["id"] == group_id:
                return g["members"]
        return None

    def test_group_update_add_remove_replace(self):
        eng = self.g[("Engineering", "MANUAL")]
        ivan = self.u["ivan.petrov"]["id"]
        r = self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "added": [ivan], "name": eng["name"]})
        p = r.data["groupUpdate"]
        self.assertTrue(p["ok"], p)
        self.assertIsNone(p["error"])
        self.assertEqual([e["node"]["id"] for e in p["entity"]["users"]["edges"]],
                         eng["members"] + [ivan])
        self.assertEqual(self.members(eng["id"]), eng["members"] + [ivan])
        q = "query($id: ID!) { user(id: $id) { groups { edges { node { id } } } } }"
        gids = [e["node"]["id"] for e in self.m.graphql(q, {"id": ivan}).data["user"]["groups"]["edges"]]
        self.assertIn(eng["id"], gids)
        # adding again is a no-op, removing works
        self.assertTrue(self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "added": [ivan]}).data["groupUpdate"]["ok"])
        r = self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "removed": [ivan, eng["members"][0]]})
        self.assertTrue(r.data["groupUpdate"]["ok"])
        self.assertEqual(self.members(eng["id"]), eng["members"][1:])
        r = self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "userIds": [ivan]})
        self.assertTrue(r.data["groupUpdate"]["ok"])
        self.assertEqual(self.members(eng["id"]), [ivan])
        self.assertEqual(self.m.stats()["mutations"]["groupUpdate"], 4)
        self.assertEqual(self.m.stats()["writes"], 4)

    def test_group_update_refusals(self):
        ivan = self.u["ivan.petrov"]["id"]
        for key, word in ((("Engineering", "SYNCED"), "identity provider"),
                          (("Everyone", "SYSTEM"), "Twingate")):
            g = self.g[key]
            r = self.m.graphql(GROUP_UPDATE, {"id": g["id"], "added": [ivan]})
            p = r.data["groupUpdate"]
            self.assertFalse(p["ok"])
            self.assertIsNone(p["entity"])
            self.assertTrue(p["error"].startswith("Group membership is managed by"), p)
            self.assertIn(word, p["error"])
            self.assertEqual(self.members(g["id"]), g["members"])
        r = self.m.graphql(GROUP_UPDATE, {"id": gid("Group", 999999), "added": [ivan]})
        self.assertFalse(r.data["groupUpdate"]["ok"])
        self.assertTrue(r.data["groupUpdate"]["error"].endswith("not found"))
        eng = self.g[("Engineering", "MANUAL")]
        r = self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "added": [ivan, gid("User", 42)]})
        self.assertFalse(r.data["groupUpdate"]["ok"])
        self.assertIn("not found", r.data["groupUpdate"]["error"])
        self.assertEqual(self.members(eng["id"]), eng["members"])      # nothing applied
        r = self.m.graphql(GROUP_UPDATE, {"id": "garbage", "added": [ivan]})
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data, {"groupUpdate": None})
        self.assertEqual(r.errors[0]["message"], "{'id': ['Unable to parse global ID']}")

    def test_group_create_delete(self):
        alice, bob = self.u["alice.nguyen"]["id"], self.u["bob.okafor"]["id"]
        q = """mutation($name: String!, $ids: [ID]) { groupCreate(name: $name, userIds: $ids) {
               ok error entity { id name type isActive users { totalCount } } } }"""
        p = self.m.graphql(q, {"name": "New Team \u2713", "ids": [alice, bob]}).data["groupCreate"]
        self.assertTrue(p["ok"], p)
        self.assertEqual(p["entity"]["type"], "MANUAL")
        self.assertEqual(p["entity"]["users"]["totalCount"], 2)
        self.assertEqual(self.members(p["entity"]["id"]), [alice, bob])
        d = "mutation($id: ID!) { groupDelete(id: $id) { ok error } }"
        self.assertEqual(self.m.graphql(d, {"id": p["entity"]["id"]}).data["groupDelete"],
                         {"ok": True, "error": None})
        self.assertIsNone(self.members(p["entity"]["id"]))
        q2 = "query($id: ID!) { user(id: $id) { groups { totalCount } } }"
        self.assertEqual(self.m.graphql(q2, {"id": bob}).data["user"]["groups"]["totalCount"], 3)
        for key in (("Everyone", "SYSTEM"), ("Finance", "SYNCED")):
            r = self.m.graphql(d, {"id": self.g[key]["id"]}).data["groupDelete"]
            self.assertFalse(r["ok"])
            self.assertTrue(r["error"])

    def test_user_create(self):
        q = """mutation($email: String!, $first: String, $role: UserRole) {
               userCreate(email: $email, firstName: $first, role: $role) {
               ok error entity { id email firstName lastName role state type
                                 groups { edges { node { name type } } } } } }"""
        p = self.m.graphql(q, {"email": "new.person@acme.example", "first": "Nö"}).data["userCreate"]
        self.assertTrue(p["ok"], p)
        e = p["entity"]
        self.assertEqual((e["role"], e["state"], e["type"], e["lastName"]),
                         ("MEMBER", "PENDING", "MANUAL", None))
        self.assertEqual(e["groups"]["edges"], [{"node": {"name": "Everyone", "type": "SYSTEM"}}])
        everyone = self.g[("Everyone", "SYSTEM")]
        self.assertEqual(self.members(everyone["id"])[-1], e["id"])
        p = self.m.graphql(q, {"email": "NEW.person@acme.example", "role": "ADMIN"}).data["userCreate"]
        self.assertFalse(p["ok"])
        self.assertIn("already exists", p["error"])
        self.assertIsNone(p["entity"])
        p = self.m.graphql(q, {"email": "x", "role": "DEVOPS"}).data["userCreate"]
        self.assertFalse(p["ok"])
        p = self.m.graphql(q, {"email": "dev@acme.example", "role": "DEVOPS"}).data["userCreate"]
        self.assertEqual(p["entity"]["role"], "DEVOPS")

    def test_user_updates_and_delete(self):
        emeka, bob = self.u["emeka.eze"], self.u["bob.okafor"]
        upd = """mutation($id: ID!, $first: String, $state: UserStateUpdateInput) {
                 userDetailsUpdate(id: $id, firstName: $first, state: $state) {
                 ok error entity { firstName state } } }"""
        p = self.m.graphql(upd, {"id": emeka["id"], "first": "Emeka2", "state": "DISABLED"}).data["userDetailsUpdate"]
        self.assertEqual(p, {"ok": True, "error": None,
                             "entity": {"firstName": "Emeka2", "state": "DISABLED"}})
        p = self.m.graphql(upd, {"id": bob["id"], "first": "X"}).data["userDetailsUpdate"]
        self.assertFalse(p["ok"])
        self.assertTrue(p["error"])
        role = """mutation($id: ID!, $role: UserRole!) { userRoleUpdate(id: $id, role: $role) {
                  ok error entity { role isAdmin } } }"""
        p = self.m.graphql(role, {"id": bob["id"], "role": "ADMIN"}).data["userRoleUpdate"]
        self.assertEqual(p["entity"], {"role": "ADMIN", "isAdmin": True})
        mfa = "mutation($id: ID!) { userResetMfa(id: $id) { ok error entity { id } } }"
        self.assertTrue(self.m.graphql(mfa, {"id": bob["id"]}).data["userResetMfa"]["ok"])
        dele = "mutation($id: ID!) { userDelete(id: $id) { ok error } }"
        p = self.m.graphql(dele, {"id": bob["id"]}).data["userDelete"]
        self.assertFalse(p["ok"])                                        # SYNCED
        p = self.m.graphql(dele, {"id": emeka["id"]}).data["userDelete"]
        self.assertEqual(p, {"ok": True, "error": None})
        t = self.m.truth()
        self.assertNotIn(emeka["id"], [u["id"] for u in t["users"]])
        self.assertFalse(any(emeka["id"] in g["members"] for g in t["groups"]))
        r = self.m.graphql("query($id: ID!) { user(id: $id) { id } }", {"id": emeka["id"]})
        self.assertEqual(r.json, {"data": {"user": None}})
        p = self.m.graphql(dele, {"id": emeka["id"]}).data["userDelete"]
        self.assertFalse(p["ok"])
        self.assertIn("not found", p["error"])
        st = self.m.stats()
        self.assertEqual(st["mutations"]["userDelete"], 3)
        self.assertEqual(st["mutations_ok"]["userDelete"], 1)

    def test_read_only_key(self):
        eng = self.g[("Engineering", "MANUAL")]
        r = self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "added": [self.u["ivan.petrov"]["id"]]},
                           api_key="ro-key")
        self.assertEqual(r.status, 200)
        self.assertEqual(r.data, {"groupUpdate": None})
        self.assertEqual(r.errors[0]["message"], "You do not have permission to perform this action")
        self.assertEqual(r.errors[0]["path"], ["groupUpdate"])
        self.assertEqual(self.members(eng["id"]), eng["members"])


class LimitAndFaultTests(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.m = MockServer(tenant="demo").start()

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()

    def setUp(self):
        self.m.config(fail_every=0, truncate_every=0, fail_first=0, reads_per_minute=0,
                      writes_per_minute=0, rate_window_seconds=60, retry_after_seconds=None,
                      retry_after_date=False, latency_ms=0, cut_mutations=0, fail_after_cut=0)
        self.m.reset()
        self.m.reset_stats()

    def add_ivan(self):
        t = self.m.truth()
        eng = [g for g in t["groups"] if g["name"] == "Engineering" and g["type"] == "MANUAL"][0]
        ivan = [u for u in t["users"] if u["email"].startswith("ivan.")][0]
        return self.m.graphql(GROUP_UPDATE, {"id": eng["id"], "added": [ivan["id"]]}), eng, ivan

    def eng_members(self):
        t = self.m.truth()
        return [g for g in t["groups"] if g["name"] == "Engineering" and g["type"] == "MANUAL"][0]["members"]

    def test_rate_limit_reads(self):
        self.m.config(reads_per_minute=3, rate_window_seconds=1.5)
        q = "{ users { totalCount } }"
        for _ in range(3):
            self.assertEqual(self.m.graphql(q).status, 200)
        r = self.m.graphql(q)
        self.assertEqual(r.status, 429)
        self.assertEqual(r.json, {"errors": [{"message": "429 Too Many Requests"}]})
        self.assertRegex(r.headers["retry-after"], r"^\d+$")
        self.assertGreaterEqual(int(r.headers["retry-after"]), 1)
        # writes are a separate class
        self.assertEqual(self.add_ivan()[0].status, 200)
        time.sleep(1.6)
        self.assertEqual(self.m.graphql(q).status, 200)
        st = self.m.stats()
        self.assertEqual(st["rate_limited"], 1)
        self.assertEqual(st["by_status"]["429"], 1)

    def test_rate_limit_writes_not_applied(self):
        self.m.config(writes_per_minute=1, retry_after_seconds=1)
        before = self.eng_members()
        r, eng, ivan = self.add_ivan()
        self.assertTrue(r.data["groupUpdate"]["ok"])
        self.m.reset()
        r, eng, ivan = self.add_ivan()
        self.assertEqual(r.status, 429)
        self.assertEqual(r.headers["retry-after"], "1")
        self.assertEqual(self.eng_members(), before)                    # not applied
        self.assertEqual(self.m.graphql("{ users { totalCount } }").status, 200)
        self.m.config(retry_after_date=True)
        r, _, _ = self.add_ivan()
        self.assertEqual(r.status, 429)
        when = email.utils.parsedate_to_datetime(r.headers["retry-after"])
        self.assertLess(abs(when.timestamp() - time.time()), 5)

    def test_fail_first_and_every(self):
        q = "{ users { totalCount } }"
        self.m.config(fail_first=2)
        for _ in range(2):
            r = self.m.graphql(q)
            self.assertEqual(r.status, 502)
            self.assertIn(b"<html", r.body)
        self.assertEqual(self.m.graphql(q).status, 200)
        self.m.config(fail_every=3)
        statuses = [self.m.graphql(q).status for _ in range(6)]
        self.assertEqual(statuses, [200, 200, 503, 200, 200, 503])
        self.m.config(fail_every=2)
        self.m.graphql(q)
        before = self.eng_members()
        r, _, _ = self.add_ivan()
        self.assertEqual(r.status, 503)
        self.assertEqual(self.eng_members(), before)
        self.assertEqual(self.m.stats()["faults"], 5)

    def test_truncate(self):
        self.m.config(truncate_every=2)
        before = self.eng_members()
        r1, _, _ = self.add_ivan()          # answer 1: intact, applied
        self.assertTrue(r1.data["groupUpdate"]["ok"])
        self.m.reset()
        r2, _, _ = self.add_ivan()          # answer 2: truncated, not applied
        self.assertEqual(r2.status, 200)
        self.assertIsNone(r2.json)
        self.assertEqual(len(r2.body), int(r2.headers["content-length"]))
        full = len(r1.body)
        self.assertEqual(len(r2.body), full // 2)
        self.assertEqual(self.eng_members(), before)
        st = self.m.stats()
        self.assertEqual(st["mutations"].get("groupUpdate"), 1)
        self.assertEqual(st["faults"], 1)

    def test_cut_mutation_is_applied_and_its_answer_lost(self):
        self.m.config(cut_mutations=1, fail_after_cut=1)
        t = self.m.truth()
        eng = [g for g in t["groups"] if g["name"] == "Engineering" and g["type"] == "MANUAL"][0]
        ivan = [u for u in t["users"] if u["email"].startswith("ivan.")][0]
        body = json.dumps({"query": GROUP_UPDATE,
                           "variables": {"id": eng["id"], "added": [ivan["id"]]}}).encode()
        with socket.create_connection(("127.0.0.1", self.m.port), timeout=10) as s:
            s.sendall(b"POST /api/graphql/ HTTP/1.1\r\nHost: x\r\nX-API-KEY: %s\r\n"
                      b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s"
                      % (self.m.api_key.encode(), len(body), body))
            raw = b""
            while True:
                chunk = s.recv(65536)
                if not chunk:
                    break  # the server closed the connection mid-body
                raw += chunk
        head, _, got = raw.partition(b"\r\n\r\n")
        length = int(re.search(rb"Content-Length: (\d+)", head).group(1))
        self.assertEqual(len(got), length // 2)
        self.assertIn(ivan["id"], self.eng_members())      # applied all the same
        self.assertEqual(self.m.graphql("{ users { totalCount } }").status, 502)  # fail_after_cut
        r, _, _ = self.add_ivan()                          # only the next one was cut
        self.assertEqual(r.status, 200)
        self.assertEqual(self.m.stats()["mutations"].get("groupUpdate"), 2)

    def test_config_and_concurrency(self):
        r = http("POST", self.m.base + "/_mock/config", {"no_such_option": 1})
        self.assertEqual(r.status, 400)
        cfg = self.m.config(latency_ms=40)
        self.assertEqual(cfg["latency_ms"], 40)
        import threading
        threads = [threading.Thread(target=self.m.graphql, args=("{ users { totalCount } }",))
                   for _ in range(3)]
        for th in threads:
            th.start()
        for th in threads:
            th.join()
        self.m.config(latency_ms=0)
        self.assertEqual(self.m.stats()["max_in_flight"], 3)

    def test_raw_socket_keepalive_and_content_length(self):
        body = json.dumps({"query": "{ users(first: 2) { edges { node { id } } } }"}).encode()
        req = (b"POST /api/graphql/ HTTP/1.1\r\nHost: x\r\nX-Api-Key: demo-key\r\n"
               b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body)) + body
        with socket.create_connection(("127.0.0.1", self.m.port), timeout=5) as s:
            f = s.makefile("rb")
            for _ in range(2):
                s.sendall(req)
                status = f.readline()
                self.assertIn(b" 200 ", status)
                length = None
                while True:
                    line = f.readline()
                    if line in (b"\r\n", b""):
                        break
                    k, _, v = line.decode().partition(":")
                    if k.lower() == "content-length":
                        length = int(v)
                data = json.loads(f.read(length))
                self.assertEqual(len(data["data"]["users"]["edges"]), 2)


class SyntheticTests(unittest.TestCase):
    ARGS = dict(tenant="synthetic", seed=11, users=700, groups=130)

    @classmethod
    def setUpClass(cls):
        cls.m = MockServer(**cls.ARGS).start()
        cls.t = cls.m.truth()

    @classmethod
    def tearDownClass(cls):
        cls.m.stop()

    def test_default_and_max_page(self):
        r = self.m.graphql(USERS_PAGE)
        c = r.data["users"]
        self.assertEqual(len(c["edges"]), 50)
        self.assertEqual(c["totalCount"], 700)
        self.assertTrue(c["pageInfo"]["hasNextPage"])
        self.assertFalse(c["pageInfo"]["hasPreviousPage"])
        self.assertEqual(c["pageInfo"]["startCursor"], cursor(0))
        self.assertEqual(c["pageInfo"]["endCursor"], cursor(49))
        self.assertEqual([e["cursor"] for e in c["edges"]], [cursor(i) for i in range(50)])
        r = self.m.graphql(USERS_PAGE, {"first": 100})
        self.assertEqual(len(r.data["users"]["edges"]), 100)
        r = self.m.graphql(USERS_PAGE, {"first": 101})
        self.assertEqual(r.status, 200)
        self.assertIsNone(r.data)                 # users is non-null: error propagates
        self.assertEqual(r.errors[0]["message"], "Requesting 101 records on the `users` "
                         "connection exceeds the `first` limit of 100 records.")
        self.assertEqual(r.errors[0]["path"], ["users"])
        r = self.m.graphql("{ group(id: \"%s\") { id users(first: 500) { totalCount } } }"
                           % self.t["groups"][0]["id"])
        self.assertEqual(r.data, {"group": None})
        self.assertIn("`users` connection", r.errors[0]["message"])

    def test_cursors(self):
        r = self.m.graphql(USERS_PAGE, {"first": 100, "after": cursor(649)})
        c = r.data["users"]
        self.assertEqual(len(c["edges"]), 50)
        self.assertEqual(c["edges"][0]["cursor"], cursor(650))
        self.assertFalse(c["pageInfo"]["hasNextPage"])
        r = self.m.graphql(USERS_PAGE, {"first": 10, "after": cursor(699)})
        c = r.data["users"]
        self.assertEqual(c["edges"], [])
        self.assertIsNone(c["pageInfo"]["endCursor"])
        self.assertIsNone(c["pageInfo"]["startCursor"])
        self.assertFalse(c["pageInfo"]["hasNextPage"])
        for junk in ("<nil>", "0", "!!!"):
            r = self.m.graphql(USERS_PAGE, {"first": 3, "after": junk})
            self.assertEqual(r.data["users"]["edges"][0]["cursor"], cursor(0))
        r = self.m.graphql("{ users(last: 3) { pageInfo { hasPreviousPage } edges { cursor } } }")
        self.assertEqual([e["cursor"] for e in r.data["users"]["edges"]],
                         [cursor(697), cursor(698), cursor(699)])
        self.assertTrue(r.data["users"]["pageInfo"]["hasPreviousPage"])

    def test_all_users_pages(self):
        users, pages = page_all(self.m, USERS_PAGE, {"first": 100}, ["users"])
        self.assertEqual(pages, 7)
        self.assertEqual([u["id"] for u in users], [u["id"] for u in self.t["users"]])
        self.assertEqual(len(set(u["id"] for u in users)), 700)

    def test_nested_group_users_paging(self):
        big = [g for g in self.t["groups"] if len(g["members"]) > 250]
        self.assertTrue(big)
        for g in big[:2] + [x for x in self.t["groups"] if x["name"] in
                            ("Boundary 100", "Boundary 101", "Empty Group")]:
            nodes, pages = page_all(self.m, GROUP_MEMBERS, {"id": g["id"]}, ["group", "users"])
            self.assertEqual([n["id"] for n in nodes], g["members"], g["name"])
            self.assertEqual(pages, max(1, -(-len(g["members"]) // 100)))

    def test_user_in_many_groups(self):
        counts = collections.Counter(m for g in self.t["groups"] for m in g["members"])
        uid, n = counts.most_common(1)[0]
        self.assertGreater(n, 100)
        q = """query($id: ID!, $after: String) { user(id: $id) {
               groups(first: 100, after: $after) { pageInfo { hasNextPage endCursor } totalCount
               edges { node { id } } } } }"""
        nodes, pages = page_all(self.m, q, {"id": uid}, ["user", "groups"])
        expect = [g["id"] for g in self.t["groups"] if uid in g["members"]]
        self.assertEqual([x["id"] for x in nodes], expect)
        self.assertEqual(pages, 2)
        r = self.m.graphql("query($id: ID!) { user(id: $id) { groups { edges { node { id } } } } }",
                           {"id": uid})
        self.assertEqual(len(r.data["user"]["groups"]["edges"]), 50)   # default page

    def test_resource_access_paging(self):
        res = max(self.t["resources"], key=lambda r: len(r["access"]))
        self.assertGreater(len(res["access"]), 100)
        q = """query($id: ID!, $after: String) { resource(id: $id) { __typename
               access(first: 100, after: $after) { pageInfo { hasNextPage endCursor }
               edges { node { ... on Group { id } ... on ServiceAccount { id } } } } } }"""
        nodes, pages = page_all(self.m, q, {"id": res["id"]}, ["resource", "access"])
        self.assertEqual([x["id"] for x in nodes], [a["principalId"] for a in res["access"]])

    def test_synthetic_variety(self):
        users, groups = self.t["users"], self.t["groups"]
        self.assertEqual({u["role"] for u in users}, ROLES)
        self.assertEqual({u["state"] for u in users}, {"ACTIVE", "PENDING", "DISABLED"})
        self.assertEqual({u["type"] for u in users}, {"MANUAL", "SYNCED"})
        self.assertEqual({g["type"] for g in groups}, {"MANUAL", "SYNCED", "SYSTEM"})
        self.assertEqual(groups[0]["name"], "Everyone")
        self.assertEqual(groups[0]["members"], [u["id"] for u in users])
        self.assertTrue(any(u["firstName"] is None for u in users))
        names = [u["firstName"] or "" for u in users] + [u["lastName"] or "" for u in users]
        self.assertTrue(any(ord(c) > 127 for n in names for c in n))
        self.assertTrue(any(ord(c) > 0xFFFF for n in names for c in n))  # emoji
        self.assertTrue(any(len(g["name"]) >= 300 for g in groups))
        self.assertTrue(any(":" in g["name"] and '"' in g["name"] for g in groups))
        dup = collections.Counter(g["name"] for g in groups)
        self.assertTrue(any(v > 1 for v in dup.values()))
        self.assertTrue(any(not g["isActive"] for g in groups))
        self.assertEqual(len({u["email"].lower() for u in users}), len(users))

    def test_determinism(self):
        with MockServer(**self.ARGS) as again:
            self.assertEqual(again.truth(), self.t)
        with MockServer(**dict(self.ARGS, seed=12)) as other:
            self.assertNotEqual(other.truth()["users"], self.t["users"])


class ChangeAndPageFaultTests(unittest.TestCase):
    """mock_changes.py: a mutation scheduled after N executed requests, and
    connections broken in the next N answers that hold them."""
    USERS = "{ users(first: 2) { pageInfo { hasNextPage endCursor } edges { node { id } } } }"

    def test_a_scheduled_change_runs_before_the_next_request(self):
        with MockServer(tenant="demo") as m:
            n = len(m.truth()["users"])
            m.schedule(1, "mutation($e: String!) { userCreate(email: $e) { ok } }",
                       {"e": "new@example.com"})
            m.graphql(self.USERS)
            self.assertEqual(len(m.truth()["users"]), n)
            self.assertEqual(m.schedule_state()["pending"], 1)
            m.graphql(self.USERS)
            self.assertEqual(len(m.truth()["users"]), n + 1)
            state = m.schedule_state()
            self.assertEqual((state["executed"], state["pending"]), (2, 0))
            self.assertTrue(state["done"][0]["ok"])
            self.assertEqual(m.stats()["mutations"], {}, "not counted as a client mutation")
            with self.assertRaises(ValueError):
                m.schedule(-1, "mutation { x }")

    def test_page_faults_break_the_next_answers_only(self):
        with MockServer(tenant="demo") as m:
            m.page_fault("users", "edges_null", times=2)
            for _ in range(2):
                self.assertIsNone(m.graphql(self.USERS).data["users"]["edges"])
            self.assertEqual(len(m.graphql(self.USERS).data["users"]["edges"]), 2)
            m.page_fault("groups.edges.node.users", "no_id")
            data = m.graphql("{ groups(first: 2) { edges { node { id users(first: 1) {"
                             " edges { node { id } } } } } } }").data
            for edge in data["groups"]["edges"]:
                self.assertEqual(edge["node"]["users"]["edges"], [{"node": {}}])
            m.page_fault("users", "endless")
            info = m.graphql(self.USERS).data["users"]["pageInfo"]
            self.assertEqual((info["hasNextPage"], info["endCursor"]), (True, "endless-1"))
            m.page_fault("users", "duplicate_conflict")
            edges = m.graphql("{ users(first: 3) { edges { node { id firstName } } } }").data[
                "users"]["edges"]
            self.assertEqual(edges[0]["node"]["id"], edges[2]["node"]["id"])
            self.assertNotEqual(edges[0]["node"]["firstName"], edges[2]["node"]["firstName"])
            with self.assertRaises(ValueError):
                m.page_fault("users", "sideways")


class LifecycleTests(unittest.TestCase):
    def test_sigterm_clean_exit(self):
        m = MockServer(tenant="demo").start()
        proc = m.proc
        self.assertEqual(m.graphql("{ users { totalCount } }").status, 200)
        m.stop()
        self.assertEqual(proc.returncode, 0)


if __name__ == "__main__":
    unittest.main()
