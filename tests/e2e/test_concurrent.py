"""The tenant changes during a sync (issue 9 section 4), and the server answers
pages of the wrong shape or pages that never end (sections 3 and 5).

The mock runs a mutation once a given number of requests were executed
(mock_changes.py), so each change lands at a known point of the walk. Every
sync must succeed, hold everything that existed for the whole sync, and count
what it left out; a broken page must fail the sync cleanly, never shrink it.

Memberships are read from the user side by default: the group list comes
first (GROUP_PAGES requests), then users with their groups nested. The
principal tracker (a member the users list missed is fetched) belongs to the
group side, so those cases run with --membership-side groups; on the user
side a membership of a group created after the group list is the case that
is dropped and counted (group_not_emitted)."""

import base64
import math
import os
import re
import shutil
import tempfile
import unittest

from harness import C1Z, MockServer, sync_against

USERS = 450           # 5 pages of users; Everyone: its first page + 4 follow-ups
GROUPS = 12
GROUP_PAGES = 1       # the user side's group list, read before the users
GROUP_SIDE = ["--membership-side", "groups"]
SEED = 5
CREATE = ("mutation($e: String!) { userCreate(email: $e, firstName: \"Late\", lastName: \"Comer\")"
          " { ok error entity { id } } }")
DELETE = "mutation($id: ID!) { userDelete(id: $id) { ok error } }"
GROUP_CREATE = ("mutation($name: String!, $ids: [ID]) { groupCreate(name: $name, userIds: $ids)"
                " { ok error entity { id } } }")
ADD_MEMBER = "mutation($id: ID!, $u: [ID]) { groupUpdate(id: $id, addedUserIds: $u) { ok error } }"


def next_user_id(truth):
    """The id the mock gives the next user it creates."""
    top = max(int(base64.b64decode(u["id"]).decode().split(":")[1]) for u in truth["users"])
    return base64.b64encode(("User:%d" % (top + 1)).encode()).decode()


def memberships(truth):
    return {(g["id"], m) for g in truth["groups"] for m in g["members"]}


class ConcurrentCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-concurrent-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def mock(self):
        return MockServer(tenant="synthetic", seed=SEED, users=USERS, groups=GROUPS)

    def sync_ok(self, m, extra=()):
        r = sync_against(m, self.out, extra)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual([l for l in r.stderr.splitlines() if l.startswith("error:")], [])
        for change in m.schedule_state()["done"]:
            self.assertTrue(change["ok"], change)
        self.assertEqual(m.schedule_state()["pending"], 0, "every change ran")
        return r

    def skipped(self, r):
        """{cause: n} from the summary's skipped line."""
        line = re.search(r"^  skipped +(\d+)(?: \((.*)\))?$", r.stdout, re.M)
        self.assertIsNotNone(line, r.stdout)
        out = {}
        for part in (line.group(2) or "").split(", "):
            if part:
                cause, n = part.rsplit(" ", 1)
                out[cause] = int(n)
        self.assertEqual(sum(out.values()), int(line.group(1)))
        return out

    EARLIER = b"an earlier sync file"

    def assert_equals_truth(self, truth):
        with C1Z(self.out) as f:
            self.assertEqual(set(f.resources("user")), {u["id"] for u in truth["users"]})
            self.assertEqual(set(f.resources("group")), {g["id"] for g in truth["groups"]})
            self.assertEqual(f.grant_pairs("group"), memberships(truth))

    def assert_clean_failure(self, r, needle):
        """One error line naming needle, the earlier file unchanged, no
        temporary file left beside it."""
        self.assertNotEqual(r.returncode, 0, r.stdout)
        errors = [l for l in r.stderr.splitlines() if l.startswith("error:")]
        self.assertEqual(len(errors), 1, r.stderr)
        self.assertIn(needle, errors[0])
        self.assertEqual([n for n in os.listdir(self.dir) if ".tmp-" in n], [])
        with open(self.out, "rb") as f:
            self.assertEqual(f.read(), self.EARLIER)

    def assert_holds_what_lasted(self, before, after):
        """Every user, group and membership present before and after the sync
        (so for the whole sync) is in the file."""
        lasting_users = {u["id"] for u in before["users"]} & {u["id"] for u in after["users"]}
        lasting_groups = {g["id"] for g in before["groups"]} & {g["id"] for g in after["groups"]}
        lasting = memberships(before) & memberships(after)
        with C1Z(self.out) as f:
            users, grants = f.resources("user"), f.grant_pairs("group")
            self.assertEqual(lasting_users - set(users), set())
            self.assertEqual(lasting_groups - set(f.resources("group")), set())
            self.assertEqual(lasting - grants, set())
            # nothing that never existed
            ever = {u["id"] for u in before["users"]} | {u["id"] for u in after["users"]}
            self.assertEqual(set(users) - ever, set())
        return users, grants


class TenantChanges(ConcurrentCase):
    def test_a_user_invited_during_the_users_walk_is_read_with_its_groups(self):
        # User side: invited before the last users page, it is read there with
        # its groups nested (Everyone included); nothing to fetch, nothing dropped.
        with self.mock() as m:
            before = m.truth()
            m.schedule(GROUP_PAGES + math.ceil(USERS / 100) - 1, CREATE, {"e": "late@example.com"})
            r = self.sync_ok(m)
            after = m.truth()
        late = [u["id"] for u in after["users"] if u["email"] == "late@example.com"][0]
        users, grants = self.assert_holds_what_lasted(before, after)
        self.assertEqual(users[late], "Late Comer")
        everyone = [g["id"] for g in after["groups"] if g["name"] == "Everyone"][0]
        self.assertIn((everyone, late), grants)
        self.assertNotIn("fetched it", r.stderr)
        self.assertEqual(self.skipped(r), {})

    def test_a_user_invited_after_the_users_were_read_is_fetched(self):
        # Group side. Before the fix: "principal user:... was never emitted", exit 1.
        with self.mock() as m:
            before = m.truth()
            m.schedule(math.ceil(USERS / 100), CREATE, {"e": "late@example.com"})
            r = self.sync_ok(m, GROUP_SIDE)
            after = m.truth()
        late = [u["id"] for u in after["users"] if u["email"] == "late@example.com"][0]
        users, grants = self.assert_holds_what_lasted(before, after)
        self.assertEqual(users[late], "Late Comer")
        everyone = [g["id"] for g in after["groups"] if g["name"] == "Everyone"][0]
        self.assertIn((everyone, late), grants)
        self.assertIn("fetched it", r.stderr)
        self.assertEqual(self.skipped(r), {})

    def test_a_user_deleted_during_the_users_walk_loses_no_other_user(self):
        # Offset cursors: deleting a user after the first page shifts user 100
        # past page 2. Page 2 starts from page 1's second-to-last node and so
        # should begin with page 1's last; it does not, so page 1 is read
        # again (and had it not, the Everyone walk would name the user and it
        # would be fetched).
        # The user side reads the group list first: one page more before it.
        for side, extra, first_page in (("users", [], GROUP_PAGES + 1), ("groups", GROUP_SIDE, 1)):
            with self.subTest(side=side):
                with self.mock() as m:
                    before = m.truth()
                    victim = [u for u in before["users"][:100] if u["type"] == "MANUAL"
                              and u["role"] != "ADMIN"][5]["id"]
                    m.schedule(first_page, DELETE, {"id": victim})
                    r = self.sync_ok(m, extra)
                    after = m.truth()
                self.assertNotIn(victim, {u["id"] for u in after["users"]})
                users, _ = self.assert_holds_what_lasted(before, after)
                self.assertEqual(len(users), USERS)  # the victim was read on page 1
                self.assertIn("graphql: users: the node before a page boundary moved "
                              "(something before it was deleted during the walk); reading an "
                              "earlier page again", r.stderr)

    def test_a_user_deleted_during_a_member_walk_loses_no_other_membership(self):
        # Deleting a member at offset 50 while Everyone's follow-up pages are
        # read shifts the member at the next page boundary out of reach
        # (the group side: the user side reads no member list).
        for after in range(6, 10):
            with self.subTest(after_requests=after):
                with self.mock() as m:
                    before = m.truth()
                    victim = [u for u in before["users"][:100] if u["type"] == "MANUAL"
                              and u["role"] != "ADMIN"][20]["id"]
                    m.schedule(after, DELETE, {"id": victim})
                    self.sync_ok(m, GROUP_SIDE)
                    after_truth = m.truth()
                self.assert_holds_what_lasted(before, after_truth)

    def test_groups_and_members_added_during_the_users_walk(self):
        # User side: a group created after the group list is not in the file,
        # so the memberships read for it are dropped and counted; a member
        # added to a listed group is read with its user.
        with self.mock() as m:
            before = m.truth()
            staff = [g for g in before["groups"] if g["name"] == "All Staff"][0]
            outsider = [u["id"] for u in before["users"] if u["id"] not in staff["members"]][0]
            last_page = [u["id"] for u in before["users"][-3:]]
            m.schedule(GROUP_PAGES, GROUP_CREATE, {"name": "Too Late", "ids": last_page})
            m.schedule(GROUP_PAGES, ADD_MEMBER, {"id": staff["id"], "u": [outsider]})
            r = self.sync_ok(m)
            after = m.truth()
        _, grants = self.assert_holds_what_lasted(before, after)
        late = [g["id"] for g in after["groups"] if g["name"] == "Too Late"][0]
        with C1Z(self.out) as f:
            self.assertNotIn(late, f.resources("group"))
        self.assertEqual({p for p in grants if p[0] == late}, set())
        self.assertIn((staff["id"], outsider), grants)
        self.assertEqual(self.skipped(r), {"group_not_emitted": 3})
        self.assertRegex(r.stderr, r"warn .*sync skipped 3 \(cause group_not_emitted\)")

    def test_groups_and_members_added_during_the_sync(self):
        # Group side.
        with self.mock() as m:
            before = m.truth()
            staff = [g for g in before["groups"] if g["name"] == "All Staff"][0]
            outsider = [u["id"] for u in before["users"] if u["id"] not in staff["members"]][0]
            ids = [u["id"] for u in before["users"][:3]]
            pages = math.ceil(USERS / 100)
            m.schedule(1, GROUP_CREATE, {"name": "Early Bird", "ids": ids})       # during users
            m.schedule(pages + 1, GROUP_CREATE, {"name": "Too Late", "ids": ids})  # after groups
            m.schedule(pages + 1, ADD_MEMBER, {"id": staff["id"], "u": [outsider]})
            r = self.sync_ok(m, GROUP_SIDE)
            after = m.truth()
        _, grants = self.assert_holds_what_lasted(before, after)
        early = [g["id"] for g in after["groups"] if g["name"] == "Early Bird"][0]
        self.assertEqual({(early, u) for u in ids} - grants, set())
        # All Staff's follow-up pages were read after the member was appended
        self.assertIn((staff["id"], outsider), grants)
        self.assertEqual(self.skipped(r), {})

    def test_a_user_invited_and_deleted_before_it_is_fetched_is_counted(self):
        # Group side (the user side fetches no principal).
        with self.mock() as m:
            before = m.truth()
            brief = next_user_id(before)
            pages = math.ceil(USERS / 100)
            everyone_follow_ups = math.ceil((USERS + 1) / 100) - 1
            m.schedule(pages, CREATE, {"e": "brief@example.com"})
            # deleted once Everyone's last page named it, before it is fetched
            m.schedule(pages + 1 + everyone_follow_ups, DELETE, {"id": brief})
            r = self.sync_ok(m, GROUP_SIDE)
            after = m.truth()
        users, grants = self.assert_holds_what_lasted(before, after)
        self.assertNotIn(brief, users)
        self.assertEqual({p for p in grants if p[1] == brief}, set())
        self.assertEqual(self.skipped(r), {"principal_deleted_during_sync": 1})
        self.assertIn("warn", r.stderr)
        self.assertRegex(r.stderr, r"warn .*sync skipped 1 \(cause principal_deleted_during_sync\)")


class BrokenPages(ConcurrentCase):
    def assert_clean_failure(self, r, needle):
        super().assert_clean_failure(r, needle)
        self.assertEqual(os.listdir(self.dir), ["sync.c1z"])

    def test_a_page_that_stays_broken_fails_the_sync(self):
        # Before the fix `edges: null` read as an empty page: exit 0, 0 users.
        for kind in ("edges_null", "edge_null", "node_null", "no_id", "page_info_null"):
            with self.subTest(kind=kind):
                with open(self.out, "wb") as f:
                    f.write(self.EARLIER)
                with self.mock() as m:
                    m.page_fault("users", kind, times=1000)
                    r = sync_against(m, self.out, ["--http-max-attempts", "2"])
                    self.assertEqual(m.stats()["reads"], GROUP_PAGES + 2,
                                     "the group list, then the users page asked once more")
                self.assert_clean_failure(r, "decode: users: the page breaks the connection's shape")

    def test_a_page_broken_once_is_asked_again_and_the_file_is_whole(self):
        # each side's nested first page: a user's groups, a group's members
        for path, extra in (("users", []), ("groups", []), ("users.edges.node.groups", []),
                            ("groups.edges.node.users", GROUP_SIDE)):
            for kind in ("edges_null", "node_null", "no_id", "page_info_null"):
                with self.subTest(path=path, kind=kind):
                    with self.mock() as m:
                        m.page_fault(path, kind, times=1)
                        r = self.sync_ok(m, extra)
                        self.assert_equals_truth(m.truth())
                    self.assertIn(" 1 mangled)", r.stdout) if "." not in path else \
                        self.assertIn("asking for the list again", r.stderr)

    def test_an_id_with_two_contents_is_a_counted_warning(self):
        with self.mock() as m:
            m.page_fault("users", "duplicate_conflict", times=1)
            r = self.sync_ok(m)
        self.assertEqual(self.skipped(r), {"duplicate_id_different_content": 1})
        self.assertRegex(r.stderr, r"warn +sink: resource user:\S+ was emitted twice with "
                                   r"different content; the first is kept")

    def test_a_walk_that_never_ends_is_stopped(self):
        # Before the fix: fresh cursors forever, about 1,360 requests a minute.
        # group.users: a member list's follow-ups, read on the group side
        for path, extra in (("users", []), ("group.users", GROUP_SIDE)):
            with self.subTest(path=path):
                with open(self.out, "wb") as f:
                    f.write(self.EARLIER)
                with self.mock() as m:
                    m.page_fault(path, "endless", times=1000000)
                    r = sync_against(m, self.out, extra)
                    self.assertLess(m.stats()["reads"], 30)
                # the fresh endCursor is followed only after a page without
                # edges; the overlap walks on edge cursors, so the restart
                # from the list's start repeats one of them
                self.assert_clean_failure(r, "the server repeated cursor")
