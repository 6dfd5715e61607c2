"""page-batch keeps every guarantee of the plain walk (issue 17 on top of issue
21): with --page-batch 10 each part continues from its second-to-last node,
so a deletion before a part's page boundary is seen and the part read again;
a part that ends short of its totalCount is read again, then fails with a
`pagination` error; a node of the wrong type is damage (asked again, then a
`decode` failure); keep() filtering holds on the batched path.

The parts a sync splits the users into are read from its debug log (one
line per part with its regexp), so the test puts each change in a part it
knows to span two pages. Run: /usr/bin/python3 -m unittest -v test_page_batch_churn
"""
import os
import re
import unittest

from harness import C1Z, MockServer, sync_against
from test_churn import EARLIER
from test_concurrent import DELETE, ConcurrentCase, memberships

# 100 groups: the group list is one page, read by the plan's first request,
# so the first answer holding a part (p1) is the users' first batch.
USERS, GROUPS, SEED = 3000, 100, 7
BATCH = ["--page-batch", "10"]
CREATE_NAMED = ("mutation($e: String!, $f: String!) { userCreate(email: $e, firstName: $f,"
                " lastName: \"Comer\") { ok error entity { id } } }")
PART = re.compile(r"debug +users: part (\d+): (\d+) items in \d+ classes: (\S+)$", re.M)
# users.keep: a user's keep(node) leaves out DISABLED users (examples/extend)
KEEP = """local users = require "bundled:twingate.users"
function users.keep(node) return node.state ~= "DISABLED" end
return users
"""


class BatchCase(ConcurrentCase):
    def mock(self):
        return MockServer(tenant="synthetic", seed=SEED, users=USERS, groups=GROUPS,
                          start_timeout=120)

    def sync(self, m, extra=()):
        return sync_against(m, self.out, BATCH + ["--log-level", "info"] + list(extra))

    def sync_ok(self, m, extra=()):
        r = self.sync(m, extra)
        self.assertEqual(0, r.returncode, r.stderr[-3000:])
        self.assertIn("users: 3000 items in", r.stderr)  # the users list was batched
        return r

    def fail_sync(self, m, extra=()):
        with open(self.out, "wb") as f:
            f.write(EARLIER)
        return sync_against(m, self.out, BATCH + ["--http-max-attempts", "2"] + list(extra))

    def skipped(self, r):
        line = re.search(r"^  skipped +(\d+)(?: \((.*)\))?$", r.stdout, re.M)
        self.assertIsNotNone(line, r.stdout)
        return line.group(2) or ""

    def assert_whole(self, truth):
        self.assert_equals_truth(truth)

    def assert_lasting(self, before, after, left_out=frozenset()):
        with C1Z(self.out) as f:
            users, grants = set(f.resources("user")), f.grant_pairs("group")
        lasting = {u["id"] for u in before["users"]} & {u["id"] for u in after["users"]}
        self.assertEqual(set(), lasting - left_out - users,
                         "users that existed all along are missing")
        self.assertEqual(set(), users & left_out, "a user keep() refused is in the file")
        want = {(g, u) for g, u in memberships(before) & memberships(after) if u not in left_out}
        self.assertEqual(set(), want - grants, "memberships that existed all along are missing")

    def parts(self, m, extra=()):
        """The users' parts of a batched sync of m (a dry run at debug level):
        [(n, regexp)] largest first, and the requests that sync made."""
        r = sync_against(m, os.path.join(self.dir, "dry.c1z"),
                         BATCH + ["--log-level", "debug"] + list(extra))
        self.assertEqual(0, r.returncode, r.stderr[-3000:])
        found = sorted(((int(n), re.compile(rx)) for _, n, rx in PART.findall(r.stderr)),
                       key=lambda p: -p[0])
        self.assertTrue(found, "no part lines in the debug log")
        return found, m.stats()["reads"]


class BatchedChurn(BatchCase):
    def churn(self, m, extra=()):
        """Before every request of a batched sync, one user of the largest
        users part (one of its first) is deleted and one with that user's first
        name created: the part's totalCount stays the same, and between its
        first and second page a node before the boundary moves (before the
        fix: the node at the boundary was never read, exit 0, skipped 0)."""
        parts, requests = self.parts(m, extra)
        n, rx = parts[0]
        self.assertGreater(n, 150)  # the part spans two pages
        before = m.truth()
        members = [u for u in before["users"] if rx.match(u["firstName"] or "")]
        self.assertEqual(n, len(members))
        victims = [u for u in members[:90] if u["type"] == "MANUAL" and u["role"] != "ADMIN"
                   and u["state"] != "DISABLED"]
        step = -(-(requests + 2) // len(victims))  # one pair a request where there are enough
        self.assertLessEqual(step, 2)
        base = m.schedule_state()["executed"]
        for i, victim in enumerate(victims[:(requests + 2 + step - 1) // step]):
            m.schedule(base + i * step, DELETE, {"id": victim["id"]})
            m.schedule(base + i * step, CREATE_NAMED, {"e": "late%d@example.com" % i,
                                                       "f": victim["firstName"] or ""})
        return before

    def test_a_delete_and_create_before_page_two_loses_nobody(self):
        with self.mock() as m:
            before = self.churn(m)
            r = self.sync_ok(m)
            after = m.truth()
            state = m.schedule_state()
        self.assert_lasting(before, after)
        self.assertEqual(0, state["pending"])
        self.assertTrue(all(c["ok"] for c in state["done"]), state["done"])
        self.assertEqual(len(before["users"]), len(after["users"]))
        self.assertEqual("", self.skipped(r))
        self.assertIn("the node before a page boundary moved", r.stderr)

    def test_group_side_churn_loses_no_membership(self):
        with self.mock() as m:
            before = self.churn(m, ["--membership-side", "groups"])
            self.sync_ok(m, ["--membership-side", "groups"])
            after = m.truth()
        self.assert_lasting(before, after)

    def test_keep_holds_on_the_batched_path(self):
        scripts = os.path.join(self.dir, "scripts")
        os.makedirs(os.path.join(scripts, "twingate"))
        with open(os.path.join(scripts, "twingate", "users.lua"), "w", encoding="utf-8") as f:
            f.write(KEEP)
        extra = ["--scripts-dir", scripts]
        with self.mock() as m:
            before = self.churn(m, extra)
            r = self.sync_ok(m, extra)
            after = m.truth()
        disabled = {u["id"] for u in before["users"] + after["users"]
                    if u["state"] == "DISABLED"}
        self.assertTrue(disabled)
        self.assert_lasting(before, after, left_out=disabled)
        self.assertIn("the node before a page boundary moved", r.stderr)
        kept_out = {u["id"] for u in before["users"] if u["state"] == "DISABLED"}
        m_filtered = re.search(r"^  filtered +(\d+)", r.stdout, re.M)
        self.assertIsNotNone(m_filtered, r.stdout)
        # each user left out counted once, though its part was read again
        self.assertEqual(len(kept_out), int(m_filtered.group(1)))


RENAME = ("mutation($id: ID!, $f: String!) { userDetailsUpdate(id: $id, firstName: $f) "
          "{ ok error } }")


class BatchedRename(BatchCase):
    def test_a_user_renamed_from_an_unread_part_into_a_read_one_is_kept(self):
        """After two batches, a user of the last part in the queue (read
        last) is renamed into a part already finished: neither part
        holds it when read. The end-of-list count check sees the parts add up
        to one less than the list and walks it again plainly (before: exit 0
        with the user missing)."""
        with self.mock() as m:
            parts, _ = self.parts(m)
            # parts are read largest first, ten at a time: one of the first ten
            # with at most 199 users is done after two pages (with one node of
            # overlap), while the last part starts only once about 30 have begun
            done_early = next(rx for n, rx in parts[1:10] if n <= 199)
            last_rx = parts[-1][1]
            before = m.truth()
            victim = next(u for u in before["users"] if last_rx.match(u["firstName"] or "")
                          and u["type"] == "MANUAL")
            name = next(c + "zed" for c in "aAbBcCdDeEfFgGhHiIjJkKlLmMnNoOpPqQrRsStTuUvVwWxXyYzZ"
                        if done_early.match(c + "zed") and not last_rx.match(c + "zed"))
            base = m.schedule_state()["executed"]
            # after the plan and the first two batches, before the last part starts
            m.schedule(base + 5, RENAME, {"id": victim["id"], "f": name})
            r = self.sync_ok(m)
            after = m.truth()
            state = m.schedule_state()
        self.assertTrue(all(c["ok"] for c in state["done"]), state["done"])
        self.assertEqual(0, state["pending"])
        self.assertIn(name, {u["firstName"] for u in after["users"]})
        with C1Z(self.out) as f:
            self.assertTrue(victim["id"] in set(f.resources("user")),
                            "the renamed user %s is missing" % victim["id"])
        self.assertIn("items moved between parts during the sync", r.stderr)
        self.assert_lasting(before, after)
        self.assert_counts_exact(r)

    def assert_counts_exact(self, r):
        """The list walked again repeats every user and its grants: the
        summary counts each repeat as a duplicate, never as a grant (the c1z
        sink tells grant repeats apart when it settles, after the walk)."""
        def count(name):
            found = re.search(r"^  %s +(\d+)" % name, r.stdout, re.M)
            self.assertIsNotNone(found, r.stdout)
            return int(found.group(1))
        with C1Z(self.out) as f:
            self.assertEqual(f.count("v1_grants"), count("grants"))
            self.assertEqual(f.count("v1_resources"), count("resources"))
            ids = [row[0] for row in f.rows("select external_id from v1_grants")]
        self.assertEqual(len(ids), len(set(ids)))
        self.assertGreater(count("duplicates"), 3000)  # users and their grants, read twice


class BatchedListEnds(BatchCase):
    def test_a_part_that_ends_early_once_is_read_again(self):
        # The first page of the first part paged says it is the last (before
        # the fix: exit 0 without the rest of that part).
        with self.mock() as m:
            m.page_fault("p1", "ends_early", times=1)
            r = self.sync_ok(m)
            self.assert_whole(m.truth())
        self.assertIn("but its totalCount is", r.stderr)

    def test_a_part_that_stays_short_fails(self):
        with self.mock() as m:
            m.page_fault("p1", "ends_early", times=1000)
            m.page_fault("users", "ends_early", times=1000)
            r = self.fail_sync(m)
        self.assert_clean_failure(r, "pagination: users")
        self.assertIn("also when read again", r.stderr)

    def test_a_nested_list_continued_in_a_batch_that_ends_early(self):
        # Group side: member lists longer than their first page continue in
        # batches (q1..); one that ends early is read again alone.
        with self.mock() as m:
            m.page_fault("q1.users", "ends_early", times=1)
            r = self.sync_ok(m, ["--membership-side", "groups"])
            self.assert_whole(m.truth())
        self.assertIn("but its totalCount is", r.stderr)


class BatchedDamage(BatchCase):
    def test_a_node_of_the_wrong_type_is_asked_again(self):
        with self.mock() as m:
            m.page_fault("p1", "set_field", times=1, field="role", value=[1, "x"])
            r = self.sync_ok(m)
            self.assert_whole(m.truth())
        self.assertEqual("", self.skipped(r))
        self.assertIn("asking for the page again", r.stderr)

    def test_a_node_that_stays_damaged_fails_with_decode(self):
        with self.mock() as m:
            m.page_fault("p1", "set_field", times=1000, field="role", value=[1, "x"])
            r = self.fail_sync(m)
        self.assert_clean_failure(r, "decode: users: part 1: a node on the page is damaged")
        self.assertIn("role is not a string", r.stderr)


if __name__ == "__main__":
    unittest.main()
