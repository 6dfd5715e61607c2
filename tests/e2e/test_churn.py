"""Issue 17: nothing lost, nothing silently wrong.

Section 1: a tenant that changes under offset cursors. Section 2: lists that
end early. Section 3: damaged answers are damage, not data. Section 6: what
an HTTP 404 from the endpoint means.

Each case runs the real binary against the mock (tests/mock), whose page
faults (mock_changes.py) and scheduled mutations put the damage or the change
at a known point of the walk. A sync either holds everything that existed for
the whole sync (and counts what it left out), or fails with one error line
and leaves the earlier file alone."""

import random
import re
import unittest

from harness import C1Z, MockServer, run, sync_against
from test_concurrent import CREATE, DELETE, GROUP_SIDE, ConcurrentCase, memberships

REVOKE = ("mutation($id: ID!, $r: ID!) {"
          " groupUpdate(id: $id, removedResourceIds: [$r]) { ok error } }")

USERS = 450           # 5 pages of users at 100 (4 + 1 with one node of overlap)
GROUPS = 12
SEED = 5
EARLIER = ConcurrentCase.EARLIER


class Case(ConcurrentCase):
    """ConcurrentCase with this file's tenant; sync_ok leaves scheduled
    changes to the test (some are meant to run after the sync)."""

    def mock(self, users=USERS, groups=GROUPS, **kw):
        return MockServer(tenant="synthetic", seed=SEED, users=users, groups=groups, **kw)

    def sync_ok(self, m, extra=()):
        r = sync_against(m, self.out, list(extra))
        self.assertEqual(r.returncode, 0, r.stderr)
        return r

    def assert_lasting(self, before, after):
        """Everything present before and after the sync is in the file."""
        with C1Z(self.out) as f:
            users, grants = set(f.resources("user")), f.grant_pairs("group")
            groups = set(f.resources("group"))
        lasting = {u["id"] for u in before["users"]} & {u["id"] for u in after["users"]}
        self.assertEqual(lasting - users, set(), "users that existed all along are missing")
        lasting_groups = {g["id"] for g in before["groups"]} & {g["id"] for g in after["groups"]}
        self.assertEqual(lasting_groups - groups, set())
        self.assertEqual((memberships(before) & memberships(after)) - grants, set(),
                         "memberships that existed all along are missing")

    def assert_whole(self, truth):
        self.assert_equals_truth(truth)

    def fail_sync(self, m, extra=()):
        with open(self.out, "wb") as f:
            f.write(EARLIER)
        return sync_against(m, self.out, ["--http-max-attempts", "2"] + list(extra))


class Churn(Case):
    """Section 1: offset cursors and a tenant that changes."""

    def test_delete_on_page_one_and_create_before_page_two(self):
        # The case: totalCount stays the same, the user at offset 100
        # moves onto page 1. Before the fix: exit 0, skipped 0, that user
        # missing. The user side reads the group list (1 request) first.
        with self.mock() as m:
            before = m.truth()
            victim = [u for u in before["users"][:100] if u["type"] == "MANUAL"
                      and u["role"] != "ADMIN"][3]["id"]
            m.schedule(2, DELETE, {"id": victim})
            m.schedule(2, CREATE, {"e": "newcomer@example.com"})
            r = self.sync_ok(m)
            after = m.truth()
            self.assertTrue(all(c["ok"] for c in m.schedule_state()["done"]))
        self.assertEqual(len(after["users"]), len(before["users"]))
        self.assert_lasting(before, after)
        self.assertEqual(self.skipped(r), {})
        self.assertIn("the node before a page boundary moved", r.stderr)

    def test_many_changes_during_a_sync_lose_nothing_that_lasted(self):
        # The case: a 2,000-user sync with 130 mutations during it (5
        # users and 12 memberships that lasted were lost before the fix): 65
        # users deleted and 65 created at random points of both walks, on both
        # sides (unpaced: the changes land between the same requests).
        for side, extra in (("users", []), ("groups", GROUP_SIDE)):
            with self.subTest(side=side):
                rng = random.Random(17)
                with self.mock(users=2000) as m:
                    before = m.truth()
                    victims = rng.sample([u["id"] for u in before["users"]
                                          if u["type"] == "MANUAL" and u["role"] != "ADMIN"], 65)
                    for i, victim in enumerate(victims):   # a sync takes 26 requests or more
                        m.schedule(rng.randrange(1, 26), DELETE, {"id": victim})
                        m.schedule(rng.randrange(1, 26), CREATE, {"e": "new%d@example.com" % i})
                    r = self.sync_ok(m, extra)
                    after = m.truth()
                    state = m.schedule_state()
                self.assertEqual(state["pending"], 0)
                self.assertEqual(sum(1 for c in state["done"] if c["ok"]), 130)
                self.assertIn("the node before a page boundary moved", r.stderr)
                self.assert_lasting(before, after)


    def test_an_access_entry_revoked_before_the_boundary_loses_no_other(self):
        # Review: a resource's access list was walked without anchors
        # (id_field = false: an entry of an unknown principal type has no
        # id). One group's access to resource 0 (130 groups: a nested page
        # of 100 and a follow-up) revoked before the follow-up moved the
        # 101st entry onto the first page: exit 0, skipped 0, that grant
        # missing. Now the follow-up must begin with the first page's last
        # entry, and the list is read again when it does not.
        extra = ["--include-network-resources"]
        with self.mock(groups=140) as m:
            start = m.schedule_state()["executed"]
            self.sync_ok(m, extra)
            requests = m.schedule_state()["executed"] - start
            m.reset()
            before = m.truth()
            r0 = before["resources"][0]
            self.assertEqual(len(r0["access"]), 130)
            victim = r0["access"][5]["principalId"]
            start = m.schedule_state()["executed"]
            # before the last request: the access list's follow-up
            m.schedule(start + requests - 1, REVOKE, {"id": victim, "r": r0["id"]})
            r = self.sync_ok(m, extra)
            after = m.truth()
            self.assertTrue(all(c["ok"] for c in m.schedule_state()["done"]))
        groups = {g["id"] for g in before["groups"]}

        def access(truth):
            return {(res["id"], a["principalId"]) for res in truth["resources"]
                    for a in res["access"] if a["principalId"] in groups}
        self.assertEqual(len(access(after)), len(access(before)) - 1)
        with C1Z(self.out) as f:
            got = f.grant_pairs("resource")
        self.assertEqual((access(before) & access(after)) - got, set(),
                         "access grants that existed all along are missing")
        self.assertIn("the node before a page boundary moved", r.stderr)
        self.assertEqual(self.skipped(r), {})


class ListEnds(Case):
    """Section 2: a list that ends early."""

    def test_has_next_page_false_while_total_count_says_more(self):
        # Before the fix: exit 0 with 200 of 450 users, skipped 0.
        with self.mock() as m:
            m.page_fault("users", "ends_early", times=2)
            r = self.fail_sync(m)
        self.assert_clean_failure(r, "pagination: users: the list ended after")
        self.assertIn("but its totalCount is %d, also when read again" % USERS, r.stderr)

    def test_a_list_that_ends_early_once_is_read_again(self):
        with self.mock() as m:
            m.page_fault("users", "ends_early", times=1)
            r = self.sync_ok(m)
            self.assert_whole(m.truth())
        self.assertIn("reading the last page again", r.stderr)

    def test_a_short_page_mid_list_loses_nothing(self):
        # 40 of 100 nodes, pageInfo as for the whole page: the next page
        # starts after the 39th node, so nothing is skipped.
        with self.mock() as m:
            m.page_fault("users", "short", times=1)
            self.sync_ok(m)
            self.assert_whole(m.truth())

    def test_a_nested_member_list_that_ends_early(self):
        # Before the fix: 55 grants lost, exit 0. The first nested page of a
        # long list says it is the last: the list is read again on its own.
        # (Everyone's 450 members; no user here is in over 100 groups)
        with self.mock() as m:
            m.page_fault("groups.edges.node.users", "ends_early", times=1)
            r = self.sync_ok(m, GROUP_SIDE)
            self.assert_whole(m.truth())
        self.assertIn("says it is the last, but its totalCount is 450", r.stderr)

    def test_a_nested_list_that_stays_short_fails(self):
        with self.mock() as m:
            m.page_fault("groups.edges.node.users", "ends_early", times=1000)
            m.page_fault("group.users", "ends_early", times=1000)
            r = self.fail_sync(m, GROUP_SIDE)
        self.assert_clean_failure(r, "pagination: group.users: the list ended after")


class DamagedAnswers(Case):
    """Section 3: damaged answers are damage, not data."""

    def test_an_empty_answer_is_not_a_deletion(self):
        # Before the fix a re-fetch answered {"data":{}} or {"data":[]} was read
        # as the group deleted: exit 0, grants missing, owner_deleted_during_sync.
        for kind in ("data_empty_object", "data_empty_list"):
            with self.subTest(kind=kind):
                with self.mock() as m:
                    m.page_fault("group", kind, times=1)
                    r = self.sync_ok(m, GROUP_SIDE)
                    self.assert_whole(m.truth())
                self.assertEqual(self.skipped(r), {})
                with self.mock() as m:
                    m.page_fault("group", kind, times=1000)
                    r = self.fail_sync(m, GROUP_SIDE)
                self.assert_clean_failure(r, "decode: group.users")

    def test_wrong_types_never_land_in_the_file(self):
        # A group name served as a million zeros ended up in 30 grants' worth
        # of profile data; now the page is damaged: asked again, then fatal.
        for conn, field, value, needle in (
                ("groups", "name", "huge_array", "edges[0].node: name is not a string"),
                ("users", "role", [1, "x"], "role is not a string"),
                ("users", "email", "x" * 70000, "over the 65536-byte limit")):
            with self.subTest(field=field):
                with self.mock() as m:
                    m.page_fault(conn, "set_field", times=1, field=field, value=value)
                    self.sync_ok(m)
                    self.assert_whole(m.truth())
                with self.mock() as m:
                    m.page_fault(conn, "set_field", times=1000, field=field, value=value)
                    r = self.fail_sync(m)
                self.assert_clean_failure(r, needle)

    def test_a_user_without_a_role_is_counted(self):
        # Before the fix: a warning, the role grant dropped, skipped 0.
        with self.mock() as m:
            m.page_fault("users", "set_field", times=1, field="role", value=None)
            r = self.sync_ok(m)
        self.assertEqual(self.skipped(r), {"no_role": 1})

    def test_a_lone_surrogate_in_an_id_is_never_rewritten(self):
        # Before the fix \uD800 became U+FFFD: the group's memberships were
        # dropped as group_not_emitted, exit 0.
        with self.mock() as m:
            m.page_fault("groups", "surrogate_id", times=1)
            r = self.sync_ok(m)
            self.assert_whole(m.truth())
        self.assertEqual(self.skipped(r), {})
        with self.mock() as m:
            m.page_fault("groups", "surrogate_id", times=1000)
            r = self.fail_sync(m)
        self.assert_clean_failure(r, "has no id (or one not valid UTF-8)")

    def test_a_body_that_does_not_decode_is_asked_again(self):
        # Before the fix a corrupt gzip body, or an unknown Content-Encoding,
        # in the middle of a sync failed it at once.
        with self.mock() as m:
            m.config(bad_encoding=2)
            r = self.sync_ok(m)
            self.assert_whole(m.truth())
        self.assertEqual(len(re.findall(r"warn +http: .*retrying in", r.stderr)), 2, r.stderr)

    def test_positions_count_edges_from_zero(self):
        with self.mock() as m:
            m.page_fault("users", "node_null", times=1000)
            r = self.fail_sync(m)
        self.assert_clean_failure(r, "edges[0].node is null")


class Endpoint(Case):
    """Section 6: a 404 from the endpoint is a wrong network."""

    def test_a_404_means_no_twingate_network(self):
        with self.mock() as m:
            with open(self.out, "wb") as f:
                f.write(EARLIER)
            r = run(["--api-url", m.url.rstrip("/") + "-nowhere/", "-f", self.out,
                     "--log-format", "console"], env={"BATON_API_KEY": m.api_key})
        self.assert_clean_failure(r, "no Twingate network at 127.0.0.1:")


if __name__ == "__main__":
    unittest.main()
