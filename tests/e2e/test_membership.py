"""End to end: memberships read from the user side equal the truth at the
request floor (README, Cost), and the baton-sdk sync options: targeted syncs
(--sync-resources), --sync-resource-types, --skip-entitlements-and-grants and
--skip-grants."""

import os
import shutil
import tempfile
import unittest

from harness import (C1Z, MockServer, _pages, request_floors, run, sync_against,
                     user_display_name)


def groups_per_user(truth):
    out = {}
    for g in truth["groups"]:
        for m in g["members"]:
            out[m] = out.get(m, 0) + 1
    return out


class Case(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-e2e-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def sync(self, mock, *extra):
        before = mock.stats()["reads"]
        r = sync_against(mock, self.out, extra)
        return r, mock.stats()["reads"] - before

    def assert_equals_truth(self, truth):
        with C1Z(self.out) as f:
            self.assertEqual(f.resources("user"),
                             {u["id"]: user_display_name(u) for u in truth["users"]})
            self.assertEqual(f.resources("group"), {g["id"]: g["name"] for g in truth["groups"]})
            members = {(g["id"], m) for g in truth["groups"] for m in g["members"]}
            self.assertEqual(f.grant_pairs("group"), members)
            self.assertEqual(f.grant_pairs("role"),
                             {(u["role"].lower(), u["id"]) for u in truth["users"]})
            # immutability follows the group's type, whichever side read it
            immutable = {g["id"] for g in truth["groups"] if g["type"] in ("SYNCED", "SYSTEM")}
            rows = f.rows("SELECT resource_id, data FROM v1_grants WHERE resource_type_id = 'group'")
            marked = {rid for rid, data in rows if b"GrantImmutable" in data}
            self.assertEqual(marked, immutable & {rid for rid, _ in rows})
            self.assertEqual(f.rows("SELECT sync_type FROM v1_sync_runs"), [("full",)])


class UserSide(Case):
    def test_giant_everyone_and_users_in_over_100_groups_at_the_floor(self):
        with MockServer(tenant="synthetic", seed=7, users=1500, groups=130) as m:
            truth = m.truth()
            everyone = [g for g in truth["groups"] if g["name"] == "Everyone"][0]
            self.assertEqual(len(everyone["members"]), 1500)
            self.assertTrue(any(len(g["members"]) > 1000 for g in truth["groups"] if g is not everyone))
            self.assertTrue(any(k > 100 for k in groups_per_user(truth).values()))
            r, reads = self.sync(m)
            self.assertEqual(r.returncode, 0, r.stderr)
            user_side, group_side = request_floors(truth)
            self.assertLess(user_side, group_side)
            self.assertLessEqual(reads, min(user_side, group_side) + 1)
            lists = _pages(1500) + _pages(130)   # one node of overlap a page
            self.assertIn("memberships read from the user side: %d follow-up requests (the group "
                          "side would have needed %d;" % (user_side - lists, group_side - lists),
                          r.stderr)
            self.assert_equals_truth(truth)

    def test_rate_limits_and_faults_cost_no_extra_read(self):
        # 503s and 429s are answered before a read is counted: the reads are
        # exactly the walk's requests, however often the client retried.
        # (two reads a second: even a sanitizer build outruns that)
        with MockServer(tenant="synthetic", seed=11, users=300, groups=130,
                        reads_per_minute=2, rate_window_seconds=1, retry_after_seconds=1,
                        fail_every=4) as m:
            truth = m.truth()
            self.assertTrue(any(k > 100 for k in groups_per_user(truth).values()))
            r, reads = self.sync(m)
            self.assertEqual(r.returncode, 0, r.stderr)
            stats = m.stats()
            self.assertGreater(stats["rate_limited"], 0)
            self.assertGreater(stats["faults"], 0)
            self.assertLessEqual(reads, min(request_floors(truth)) + 1)
            self.assert_equals_truth(truth)

    def test_truncated_answers_are_read_again_and_nothing_is_lost(self):
        with MockServer(tenant="synthetic", seed=5, users=900, groups=130, truncate_every=6) as m:
            truth = m.truth()
            r, reads = self.sync(m)
            self.assertEqual(r.returncode, 0, r.stderr)
            faults = m.stats()["faults"]
            self.assertGreater(faults, 0)
            self.assertLessEqual(reads - faults, min(request_floors(truth)) + 1)
            self.assert_equals_truth(truth)

    def test_group_side_setting_gives_the_same_file_at_its_floor(self):
        with MockServer(tenant="synthetic", seed=7, users=600, groups=130) as m:
            truth = m.truth()
            r, reads = self.sync(m, "--membership-side", "groups")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertLessEqual(reads, request_floors(truth)[1] + 1)
            self.assert_equals_truth(truth)


class Targeted(Case):
    def test_group_of_250_members_in_at_most_4_requests(self):
        with MockServer(tenant="synthetic", seed=3, users=250, groups=40) as m:
            truth = m.truth()
            group = [g for g in truth["groups"] if len(g["members"]) == 250][0]
            r, reads = self.sync(m, "--sync-resources", "bid:r:group/" + group["id"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertLessEqual(reads, 4)
        with C1Z(self.out) as f:
            self.assertEqual(f.resources("group"), {group["id"]: group["name"]})
            self.assertEqual(f.count("v1_resources"), 1)
            self.assertEqual(f.rows("SELECT external_id FROM v1_entitlements"),
                             [("group:%s:member" % group["id"],)])
            self.assertEqual(f.grant_pairs("group"), {(group["id"], u) for u in group["members"]})
            self.assertEqual(f.count("v1_grants"), 250)
            self.assertEqual(f.rows("SELECT sync_type, ended_at IS NOT NULL FROM v1_sync_runs"),
                             [("partial", 1)])
            self.assertEqual(sorted(f.rows("SELECT external_id FROM v1_resource_types")),
                             [("group",), ("user",)])
        self.assertIn("sync type       partial", r.stdout)
        # show reads the partial sync: its grants' principals live in the full one
        shown = run(["show", self.out])
        self.assertEqual(shown.returncode, 0, shown.stderr)
        self.assertIn("(partial, started", shown.stdout)
        self.assertIn("user:" + group["members"][0], shown.stdout)

    def test_user_alone(self):
        with MockServer(tenant="synthetic", seed=3, users=120, groups=20) as m:
            user = m.truth()["users"][17]
            r, reads = self.sync(m, "--sync-resources", "user:" + user["id"])
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(reads, 1)
        with C1Z(self.out) as f:
            self.assertEqual(f.resources("user"), {user["id"]: user_display_name(user)})
            self.assertEqual(f.count("v1_resources"), 1)
            self.assertEqual(f.count("v1_entitlements") + f.count("v1_grants"), 0)
            self.assertEqual(f.rows("SELECT external_id FROM v1_resource_types"), [("user",)])

    def test_role_holders(self):
        with MockServer(tenant="synthetic", seed=3, users=400, groups=20) as m:
            truth = m.truth()
            r, reads = self.sync(m, "--sync-resources", "bid:r:role/devops")
            self.assertEqual(r.returncode, 0, r.stderr)
            holders = {("devops", u["id"]) for u in truth["users"] if u["role"] == "DEVOPS"}
            self.assertEqual(reads, max(1, -(-len(holders) // 100)))
        with C1Z(self.out) as f:
            self.assertEqual(f.grant_pairs("role"), holders)
            self.assertEqual(f.count("v1_resources"), 1)

    def test_unknown_id_one_error_and_no_file(self):
        with open(self.out, "wb") as fh:
            fh.write(b"previous sync")
        with MockServer(tenant="synthetic", seed=3, users=50, groups=10) as m:
            for arg in ("group:R3JvdXA6OTk5OTk5", "bid:r:user/VXNlcjo5OTk5OTk5",
                        "bid:r:role/owner", "bid:r:device/D1", "nonsense"):
                r, _ = self.sync(m, "--sync-resources", arg)
                self.assertNotEqual(r.returncode, 0, arg)
                errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
                self.assertEqual(len(errors), 1, r.stderr)
                self.assertIn("--sync-resources", errors[0])
                with open(self.out, "rb") as fh:
                    self.assertEqual(fh.read(), b"previous sync", arg)
                self.assertEqual(sorted(os.listdir(self.dir)), ["sync.c1z"])
        os.unlink(self.out)
        with MockServer(tenant="synthetic", seed=3, users=50, groups=10) as m:
            r, _ = self.sync(m, "--sync-resources", "group:R3JvdXA6OTk5OTk5")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('no group with id "R3JvdXA6OTk5OTk5"', r.stderr)
        self.assertEqual(os.listdir(self.dir), [])


class Partial(Case):
    def test_resource_types_limit_the_sync(self):
        with MockServer(tenant="synthetic", seed=9, users=300, groups=30) as m:
            truth = m.truth()
            r, reads = self.sync(m, "--sync-resource-types", "group")
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assertEqual(reads, 1)
            with C1Z(self.out) as f:
                self.assertEqual(f.resources("group"), {g["id"]: g["name"] for g in truth["groups"]})
                self.assertEqual(f.count("v1_resources"), len(truth["groups"]))
                self.assertEqual(f.count("v1_entitlements"), len(truth["groups"]))
                self.assertEqual(f.count("v1_grants"), 0)  # their principals are left out
                self.assertEqual(f.rows("SELECT sync_type FROM v1_sync_runs"), [("full",)])
            r, reads = self.sync(m, "--sync-resource-types", "user,role")
            self.assertEqual(r.returncode, 0, r.stderr)
            with C1Z(self.out) as f:
                self.assertEqual(f.count("v1_resources"), len(truth["users"]) + 7)
                self.assertEqual(f.grant_pairs("group"), set())
                self.assertEqual(len(f.grant_pairs("role")), len(truth["users"]))
            r, _ = self.sync(m, "--sync-resource-types", "users")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn('unknown resource type "users"', r.stderr)

    def test_skip_entitlements_and_grants(self):
        with MockServer(tenant="synthetic", seed=9, users=300, groups=130) as m:
            truth = m.truth()
            r, reads = self.sync(m, "--skip-entitlements-and-grants")
            self.assertEqual(r.returncode, 0, r.stderr)
            # the two lists, no member or group pages; 300 users take 4 pages,
            # not 3, with one node of overlap a page (issue 17)
            self.assertEqual(reads, 4 + 2)
            with C1Z(self.out) as f:
                self.assertEqual(f.count("v1_resources"), 300 + 130 + 7)
                self.assertEqual(f.count("v1_entitlements") + f.count("v1_grants"), 0)
                self.assertEqual(f.rows("SELECT sync_type FROM v1_sync_runs"), [("resources_only",)])

    def test_skip_grants_and_environment(self):
        with MockServer(tenant="synthetic", seed=9, users=300, groups=30) as m:
            r, _ = self.sync(m, "--skip-grants")
            self.assertEqual(r.returncode, 0, r.stderr)
            with C1Z(self.out) as f:
                self.assertEqual(f.count("v1_entitlements"), 30 + 7)
                self.assertEqual(f.count("v1_grants"), 0)
            group = m.truth()["groups"][3]
            r = sync_against(m, self.out, env={"BATON_SYNC_RESOURCES": "group:" + group["id"],
                                               "BATON_SKIP_GRANTS": "true"})
            self.assertEqual(r.returncode, 0, r.stderr)
            with C1Z(self.out) as f:
                self.assertEqual(f.resources("group"), {group["id"]: group["name"]})
                self.assertEqual(f.count("v1_grants"), 0)
                self.assertEqual(f.rows("SELECT sync_type FROM v1_sync_runs"), [("partial",)])


if __name__ == "__main__":
    unittest.main()
