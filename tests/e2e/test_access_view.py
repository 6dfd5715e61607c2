"""End to end: the inspection commands on a sync of the demo tenant with the
opt-in types on (--include-service-accounts --include-network-resources),
checked against the mock's ground truth: show's baton commands and flags,
`show access` (grant expansion through groups, with the path), `show diff`
(two full syncs, a partial against a full one, exit codes) and `report`,
loaded in headless Chromium."""

import csv
import io
import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import MockServer, run, sync_against

BOTH = ["--include-service-accounts", "--include-network-resources"]


def show(*args):
    return run(["show"] + list(args))


def show_json(*args):
    r = show(*args, "-o", "json")
    if r.returncode != 0:
        raise AssertionError(r.stderr)
    return json.loads(r.stdout)


def role_id(role):
    return role.lower()


class Truth:
    """What the file must say, from the mock's truth."""

    def __init__(self, t):
        self.t = t
        self.group = {g["id"]: g for g in t["groups"]}
        self.resource = {r["id"]: r for r in t["resources"]}

    def groups_of(self, uid):
        return {g["id"] for g in self.t["groups"] if uid in g["members"]}

    def holders(self, rid):
        """{(principal type, id, group id or None)} that reach the resource."""
        out = set()
        for a in self.resource[rid]["access"]:
            if a["principalType"] == "Group":
                out |= {("user", u, a["principalId"]) for u in self.group[a["principalId"]]["members"]}
            else:
                out.add(("service_account", a["principalId"], None))
        return out

    def reach(self, uid):
        """{(type, id)} a user holds: groups, its role, resources via groups."""
        groups = self.groups_of(uid)
        role = [u["role"] for u in self.t["users"] if u["id"] == uid][0]
        out = {("group", g) for g in groups} | {("role", role_id(role))}
        for r in self.t["resources"]:
            if any(a["principalId"] in groups for a in r["access"]):
                out.add(("resource", r["id"]))
        return out


class ShowCommands(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.f = os.path.join(cls.tmp, "sync.c1z")
        cls.plain = os.path.join(cls.tmp, "plain.c1z")
        with MockServer(tenant="demo") as m:
            r = sync_against(m, cls.f, BOTH)
            assert r.returncode == 0, r.stderr
            r = sync_against(m, cls.plain, [])
            assert r.returncode == 0, r.stderr
            cls.truth = Truth(m.truth())

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    # ---- listings ----------------------------------------------------------------

    def test_resources_are_the_tenants(self):
        got = show_json("resources", self.f)["resources"]
        ids = {}
        for row in got:
            rid = row["resource"]["id"]
            ids.setdefault(rid["resourceType"], set()).add(rid["resource"])
            self.assertEqual(row["resourceType"]["id"], rid["resourceType"])
        t = self.truth.t
        self.assertEqual(ids["user"], {u["id"] for u in t["users"]})
        self.assertEqual(ids["group"], {g["id"] for g in t["groups"]})
        self.assertEqual(ids["service_account"], {s["id"] for s in t["serviceAccounts"]})
        self.assertEqual(ids["resource"], {r["id"] for r in t["resources"]})
        self.assertTrue({role_id(u["role"]) for u in t["users"]} <= ids["role"])

    def test_principals_are_users_and_service_accounts(self):
        got = show_json("principals", self.f)["principals"]
        ids = {(r["resource"]["id"]["resourceType"], r["resource"]["id"]["resource"]) for r in got}
        t = self.truth.t
        want = {("user", u["id"]) for u in t["users"]} | \
            {("service_account", s["id"]) for s in t["serviceAccounts"]}
        self.assertEqual(ids, want)
        table = show("principals", self.f, "-t", "service_account")
        self.assertEqual(table.returncode, 0, table.stderr)
        self.assertEqual(len(table.stdout.splitlines()), 1 + len(t["serviceAccounts"]))

    def test_grants_filters(self):
        g = max(self.truth.t["groups"], key=lambda g: len(g["members"]))
        got = show_json("grants", self.f, "-e", "group:%s:member" % g["id"])["grants"]
        self.assertEqual({x["principal"]["id"]["resource"] for x in got}, set(g["members"]))
        u = g["members"][0]
        got = show_json("grants", self.f, "--principal", "user:" + u)["grants"]
        want = {"group:%s:member" % x for x in self.truth.groups_of(u)}
        role = [x["role"] for x in self.truth.t["users"] if x["id"] == u][0]
        want.add("role:%s:member" % role_id(role))
        self.assertEqual({x["grant"]["entitlement"]["id"] for x in got}, want)
        r = self.truth.t["resources"][0]
        got = show_json("grants", self.f, "--resource", "resource:" + r["id"])["grants"]
        self.assertEqual({x["principal"]["id"]["resource"] for x in got},
                         {a["principalId"] for a in r["access"]})

    def test_csv_has_a_row_per_grant(self):
        r = show("grants", self.f, "-o", "csv")
        self.assertEqual(r.returncode, 0, r.stderr)
        rows = list(csv.reader(io.StringIO(r.stdout)))
        self.assertEqual(rows[0], ["ID", "Resource Type", "Resource", "Entitlement", "Principal"])
        stats = show_json("stats", self.f)
        self.assertEqual(len(rows) - 1, stats["stats"]["grants"])

    def test_stats_show_the_sync(self):
        syncs = show_json("syncs", self.f)["syncs"]
        self.assertEqual(len(syncs), 1)
        r = show("stats", self.f)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertTrue(r.stdout.startswith("Sync: %s (full, started " % syncs[0]["id"]), r.stdout)
        j = show_json("stats", self.f)
        self.assertEqual(j["sync"]["id"], syncs[0]["id"])
        self.assertEqual(j["stats"]["user"], len(self.truth.t["users"]))
        self.assertEqual(j["stats"]["resource"], len(self.truth.t["resources"]))

    def test_old_flags_are_aliases(self):
        new = show("grants", self.f, "-o", "json")
        old = show(self.f, "--grants", "--json")
        self.assertEqual(new.returncode, 0)
        self.assertEqual(new.stdout, old.stdout)
        self.assertEqual(show("resources", "-f", self.f).stdout, show("--resources", self.f).stdout)

    def test_disagreeing_arguments_are_errors(self):
        for args, msg in [(["-f", self.f, self.plain], "two files given"),
                          ([self.f, self.plain], "two files given"),
                          (["resources", self.f, "--grants"], "--grants disagrees with the command resources"),
                          (["grants", self.f, "--json", "-o", "table"], "-o disagrees with --json"),
                          (["resources", self.f, "-e", "x"], "--entitlement does not apply")]:
            r = show(*args)
            self.assertEqual(r.returncode, 2, args)
            self.assertIn(msg, r.stderr)
            self.assertEqual(r.stdout, "")

    # ---- access --------------------------------------------------------------------

    def test_access_by_resource_expands_groups(self):
        for res in self.truth.t["resources"]:
            got = show_json("access", self.f, "--resource", "resource:" + res["id"])
            self.assertNotIn("note", got)
            have = set()
            for p in got["principals"]:
                path = p["path"]
                self.assertEqual(path[-1]["id"], res["id"])
                via = path[0]["id"] if len(path) == 2 and path[0]["type"] == "group" else None
                have.add((p["type"], p["id"], via))
            self.assertEqual(have, self.truth.holders(res["id"]), res["name"])

    def test_access_by_principal_lists_groups_role_and_resources(self):
        for u in self.truth.t["users"]:
            got = show_json("access", self.f, "--principal", "user:" + u["id"])
            self.assertEqual({(a["type"], a["id"]) for a in got["access"]}, self.truth.reach(u["id"]),
                             u["email"])
            for a in got["access"]:
                if a["type"] == "resource":
                    self.assertEqual(a["path"][0]["type"], "group")
                    self.assertIn(u["id"], self.truth.group[a["path"][0]["id"]]["members"])

    def test_access_table_prints_the_path(self):
        res = self.truth.t["resources"][0]
        a = [x for x in res["access"] if x["principalType"] == "Group"][0]
        g = self.truth.group[a["principalId"]]
        r = show("access", self.f, "--resource", "resource:" + res["id"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("\u2192 group %s \u2192 resource %s" % (g["name"], res["name"]), r.stdout)

    def test_access_without_network_resources_says_so(self):
        u = self.truth.t["users"][0]["id"]
        r = show("access", self.plain, "--principal", "user:" + u)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("--include-network-resources", r.stdout.splitlines()[0])
        r = show("access", self.f, "--resource", "resource:nope")
        self.assertEqual(r.returncode, 1)
        self.assertIn("resource:nope is not in the sync", r.stderr)
        self.assertEqual(show("access", self.f).returncode, 2)


class Diff(unittest.TestCase):
    """Two syncs around three changes: a new user, a member leaving a group, a
    user disabled; then a targeted sync of that group against the first."""

    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        p = lambda n: os.path.join(cls.tmp, n)  # noqa: E731
        cls.old, cls.new, cls.part = p("old.c1z"), p("new.c1z"), p("part.c1z")
        with MockServer(tenant="demo") as m:
            assert sync_against(m, cls.old, BOTH).returncode == 0
            t = m.truth()
            cls.group = max(t["groups"], key=lambda g: len(g["members"]) if g["name"] != "Everyone" else 0)
            cls.left = cls.group["members"][0]
            r = m.graphql("mutation($id: ID!, $u: [ID]) { groupUpdate(id: $id, removedUserIds: $u) "
                          "{ ok error } }", {"id": cls.group["id"], "u": [cls.left]})
            assert r.data["groupUpdate"]["ok"], r.data
            r = m.graphql('mutation { userCreate(email: "jane@acme.test", firstName: "Jane", '
                          'lastName: "Doe") { ok error entity { id } } }')
            cls.jane = r.data["userCreate"]["entity"]["id"]
            cls.disabled = None
            for u in t["users"]:
                if u["state"] != "ACTIVE":
                    continue
                r = m.graphql("mutation($id: ID!) { userDetailsUpdate(id: $id, state: DISABLED) "
                              "{ ok error } }", {"id": u["id"]})
                if r.data["userDetailsUpdate"]["ok"]:
                    cls.disabled = u
                    break
            assert cls.disabled
            assert sync_against(m, cls.new, BOTH).returncode == 0
            r = sync_against(m, cls.part, BOTH + ["--sync-resources", "group:" + cls.group["id"]])
            assert r.returncode == 0, r.stderr

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def test_changes_between_two_full_syncs(self):
        r = show("diff", self.old, self.new)
        self.assertEqual(r.returncode, 1, r.stderr)
        out = r.stdout
        self.assertIn("+ user Jane Doe (user:%s)" % self.jane, out)
        self.assertIn("- grant group:%s:member \u2192 user:%s" % (self.group["id"], self.left), out)
        self.assertIn(": status enabled \u2192 disabled", out)
        j = run(["show", "diff", self.old, self.new, "-o", "json"])
        self.assertEqual(j.returncode, 1)
        changes = json.loads(j.stdout)["changes"]
        status = [c for c in changes if c["op"] == "~" and c["field"] == "status"]
        self.assertEqual([c["id"] for c in status], ["user:" + self.disabled["id"]])
        self.assertEqual((status[0]["old"], status[0]["new"]), ("enabled", "disabled"))

    def test_same_content_exits_0(self):
        r = show("diff", self.old, self.old)
        self.assertEqual((r.returncode, r.stdout), (0, ""))

    def test_errors_exit_2(self):
        r = show("diff", self.old, os.path.join(self.tmp, "missing.c1z"))
        self.assertEqual(r.returncode, 2)
        self.assertIn("missing.c1z", r.stderr)
        self.assertEqual(show("diff", self.old).returncode, 2)

    def test_partial_compares_only_what_it_covers(self):
        r = show("diff", self.old, self.part)
        self.assertEqual(r.returncode, 1, r.stderr)
        self.assertIn("only what the partial sync covers", r.stdout)
        self.assertIn("- grant group:%s:member \u2192 user:%s" % (self.group["id"], self.left), r.stdout)
        self.assertNotIn("Jane", r.stdout)  # a user outside the targeted group
        self.assertNotIn("status", r.stdout)
        self.assertNotIn("- user", r.stdout)  # users the partial does not hold are not removed


HOSTILE = "</script><script>document.title='owned'</script><!--"
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


def rendered(page, fragment, profile):
    """The DOM of page#fragment once its script ran, from headless Chromium."""
    r = subprocess.run([CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
                        "--no-first-run", "--disable-background-networking",
                        "--disable-component-update", "--disable-sync",
                        "--user-data-dir=" + profile, "--virtual-time-budget=5000",
                        "--dump-dom", "file://" + page + "#" + fragment],
                       capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stderr[-2000:]
    return r.stdout


def detail(dom):
    """The text of the detail panel (tags removed)."""
    import re
    start = dom.index('id="detail"')
    end = dom.index("</section>", start)
    return re.sub(r"<[^>]+>", "\n", dom[start:end])


class Report(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.mkdtemp()
        cls.f = os.path.join(cls.tmp, "sync.c1z")
        cls.old = os.path.join(cls.tmp, "old.c1z")
        with MockServer(tenant="demo") as m:
            assert sync_against(m, cls.old, BOTH).returncode == 0
            m.graphql('mutation { userCreate(email: "jane@acme.test", firstName: "Jane", '
                      'lastName: "Doe") { ok } }')
            r = m.graphql("mutation($n: String!) { groupCreate(name: $n) { ok entity { id } } }",
                          {"n": HOSTILE})
            cls.hostile = r.data["groupCreate"]["entity"]["id"]
            assert sync_against(m, cls.f, BOTH).returncode == 0
            cls.truth = Truth(m.truth())
        cls.page = os.path.join(cls.tmp, "access.html")
        r = run(["report", cls.f, "--against", cls.old, "-o", cls.page])
        assert r.returncode == 0, r.stderr
        cls.names = {(x["resource"]["id"]["resourceType"], x["resource"]["id"]["resource"]):
                     x["resource"]["displayName"] for x in show_json("resources", cls.f)["resources"]}

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp)

    def setUp(self):
        if not CHROMIUM:
            self.fail("chromium is not installed (./dev deps installs it)")
        self.profile = tempfile.mkdtemp(dir=self.tmp)

    def test_page_is_self_contained(self):
        with open(self.page, encoding="utf-8") as f:
            html = f.read()
        for ref in ("<script src", "<link", "http://", "https://", "@import", "url("):
            self.assertNotIn(ref, html)
        self.assertIn("default-src 'none'", html)

    def test_a_known_user_with_groups_and_resources(self):
        u = max(self.truth.t["users"], key=lambda u: len(self.truth.groups_of(u["id"])))
        text = detail(rendered(self.page, "user=" + u["id"], self.profile))
        self.assertIn(self.names[("user", u["id"])], text)
        for g in self.truth.groups_of(u["id"]):
            self.assertIn(self.truth.group[g]["name"], text)
        for kind, rid in self.truth.reach(u["id"]):
            if kind == "resource":
                self.assertIn(self.truth.resource[rid]["name"], text)

    def test_a_groups_members(self):
        g = max(self.truth.t["groups"], key=lambda g: len(g["members"]))
        dom = rendered(self.page, "group=" + g["id"], self.profile)
        text = detail(dom)
        self.assertIn("Members (%d)" % len(g["members"]), text)
        for u in g["members"]:
            self.assertIn(self.names[("user", u)], text)
        self.assertEqual(dom.count('<tr class="member">'), len(g["members"]))

    def test_a_resources_access_list(self):
        res = max(self.truth.t["resources"], key=lambda r: len(r["access"]))
        text = detail(rendered(self.page, "resource=" + res["id"], self.profile))
        holders = self.truth.holders(res["id"])
        principals = {(t, i) for t, i, _ in holders}
        self.assertIn("Who can reach it (%d)" % len(principals), text)
        for t, i, via in holders:
            self.assertIn(self.names[(t, i)], text)
            if via:
                self.assertIn("group " + self.truth.group[via]["name"], text)

    def test_names_cannot_break_out_of_the_page(self):
        dom = rendered(self.page, "group=" + self.hostile, self.profile)
        self.assertIn("<title>Access report</title>", dom)
        self.assertIn("&lt;/script&gt;&lt;script&gt;document.title='owned'", detail(dom))

    def test_changes_and_search(self):
        dom = rendered(self.page, "tab=changes&q=jane", self.profile)
        start = dom.index('id="list"')
        listed = dom[start:dom.index("</section>", start)]
        self.assertIn("Jane Doe (user:", listed)
        self.assertIn('class="add"', listed)
        self.assertIn("Users (1)", dom)  # the search counts matches on every tab
