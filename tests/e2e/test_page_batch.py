"""page-batch (README "Batched paging"): several pages in one request, read from
disjoint parts of the users and groups lists (regexp filters on the first
characters of firstName / name). A batched sync writes exactly the rows of a
plain one in far fewer requests; a server that refuses aliases, or parts that
do not add up to the list, fall back to plain paging with a warning and never
fail the sync; bad values are refused before any request.

Run: /usr/bin/python3 -m unittest -v test_page_batch
"""
import os
import tempfile
import unittest

from harness import MockServer, sync_against, C1Z

TABLES = ("v1_resource_types", "v1_resources", "v1_entitlements", "v1_grants")


def content(path):
    """Every row's id and bytes, table by table (discovery times left out)."""
    with C1Z(path) as c:
        return {t: sorted(c.rows("SELECT external_id, data FROM %s" % t)) for t in TABLES}


class PageBatchTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.tmp = tempfile.TemporaryDirectory()
        cls.mock = MockServer(tenant="synthetic", seed=7, users=3000, groups=150,
                              start_timeout=120)
        cls.mock.start()
        cls.plain = {}
        for side in ("users", "groups"):
            cls.plain[side] = cls.sync_ok(None, ["--membership-side", side], "plain-" + side)

    @classmethod
    def tearDownClass(cls):
        cls.mock.stop()
        cls.tmp.cleanup()

    @classmethod
    def sync_ok(cls, test, extra, name):
        cls.mock.config(refuse_aliases=0, regexp_null_names=False)
        cls.mock.reset_stats()
        out = os.path.join(cls.tmp.name, name + ".c1z")
        r = sync_against(cls.mock, out, ["--log-level", "info"] + list(extra))
        if r.returncode != 0:
            raise AssertionError("sync failed: " + r.stderr[-2000:])
        return {"rows": content(out), "reads": cls.mock.stats()["reads"], "log": r.stderr}

    def batched(self, name, extra=(), side="users", **mock):
        self.mock.reset_stats()
        self.mock.config(**dict({"refuse_aliases": 0, "regexp_null_names": False}, **mock))
        out = os.path.join(self.tmp.name, name + ".c1z")
        r = sync_against(self.mock, out, ["--log-level", "info", "--membership-side", side,
                                          "--page-batch", "10"] + list(extra))
        self.assertEqual(0, r.returncode, r.stderr[-2000:])
        return {"rows": content(out), "reads": self.mock.stats()["reads"], "log": r.stderr}

    def assertSameRows(self, want, got):
        for t in TABLES:
            self.assertEqual(len(want["rows"][t]), len(got["rows"][t]), t)
            self.assertTrue(want["rows"][t] == got["rows"][t], "%s differs" % t)

    def test_user_side_same_rows_in_a_third_of_the_requests(self):
        # (35 plain requests at this size; the bench measures the fifth at 20,000 users)
        got = self.batched("batch-users")
        self.assertSameRows(self.plain["users"], got)
        self.assertGreater(len(got["rows"]["v1_grants"]), 3000)
        self.assertLessEqual(got["reads"] * 3, self.plain["users"]["reads"])
        self.assertNotIn("warn", got["log"])

    def test_group_side_same_rows_and_member_lists_batched(self):
        got = self.batched("batch-groups", side="groups")
        self.assertSameRows(self.plain["groups"], got)
        self.assertLessEqual(got["reads"] * 3, self.plain["groups"]["reads"])

    def test_a_server_refusing_aliases_gets_plain_pages(self):
        got = self.batched("refused", refuse_aliases=1)
        self.assertSameRows(self.plain["users"], got)
        self.assertIn("refused a batched request", got["log"])
        # the refused first request, then exactly the plain sync's requests
        self.assertEqual(self.plain["users"]["reads"] + 1, got["reads"])

    def test_a_refusal_mid_walk_continues_part_by_part(self):
        got = self.batched("refused-later", refuse_aliases=5)
        self.assertSameRows(self.plain["users"], got)
        self.assertIn("refused a batched request", got["log"])
        self.assertEqual(1, got["log"].count("refused a batched request"))

    def test_parts_that_do_not_add_up_fall_back(self):
        # null first names match no regexp here: the parts miss those users
        got = self.batched("gap", regexp_null_names=True)
        self.assertSameRows(self.plain["users"], got)
        self.assertIn("paging the list without batching", got["log"])
        self.assertRegex(got["log"], r"users: the parts by firstName hold \d+ items, the list 3000")

    def test_skip_grants_batched(self):
        plain = self.sync_ok(self, ["--skip-grants"], "plain-skip")
        got = self.batched("batch-skip", ["--skip-grants"])
        self.assertSameRows(plain, got)
        self.assertLess(got["reads"], plain["reads"])


class PageBatchValuesTest(unittest.TestCase):
    def test_zero_above_50_and_text_are_refused_before_any_request(self):
        with MockServer() as m, tempfile.TemporaryDirectory() as tmp:
            for value in ("0", "51", "-3", "abc", "2.5"):
                with self.subTest(value=value):
                    m.reset_stats()
                    out = os.path.join(tmp, "x.c1z")
                    r = sync_against(m, out, ["--page-batch", value])
                    self.assertNotEqual(0, r.returncode)
                    self.assertIn("page-batch", r.stderr)
                    self.assertEqual(0, m.stats()["reads"])
                    self.assertFalse(os.path.exists(out))
            for value in ("1", "50"):
                with self.subTest(value=value):
                    r = sync_against(m, os.path.join(tmp, "ok.c1z"), ["--page-batch", value])
                    self.assertEqual(0, r.returncode, r.stderr)

    def test_a_list_of_one_page_costs_one_request_and_empty_parts_one_alias(self):
        with MockServer() as m, tempfile.TemporaryDirectory() as tmp:
            r = sync_against(m, os.path.join(tmp, "x.c1z"), ["--page-batch", "10"])
            self.assertEqual(0, r.returncode, r.stderr)
            s = m.stats()
            # users and groups: one request each holding the list's first page
            # and one count per part (28); no part (most are empty) is paged
            self.assertEqual(2, s["reads"])
            self.assertEqual({"users": 29, "groups": 29}, s["queries"])


if __name__ == "__main__":
    unittest.main()
