"""End to end: the binary syncs the mock tenant and the file equals the ground truth."""

import math
import os
import shutil
import tempfile
import unittest

from harness import C1Z, MockServer, run, sync_against, user_display_name

ROLES = ["admin", "devops", "support", "member", "access_reviewer", "helpdesk", "billing"]


def request_budget(truth):
    users, groups = truth["users"], truth["groups"]
    follow_ups = sum(max(0, math.ceil(len(g["members"]) / 100) - 1) for g in groups)
    return math.ceil(len(users) / 100) + math.ceil(len(groups) / 100) + follow_ups + 2


class SyncTestCase(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-e2e-")
        self.out = os.path.join(self.dir, "sync.c1z")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_matches_truth(self, truth):
        with C1Z(self.out) as f:
            users = f.resources("user")
            self.assertEqual(users, {u["id"]: user_display_name(u) for u in truth["users"]})
            groups = f.resources("group")
            self.assertEqual(groups, {g["id"]: g["name"] for g in truth["groups"]})
            members = {(g["id"], m) for g in truth["groups"] for m in g["members"]}
            self.assertEqual(f.grant_pairs("group"), members)
            self.assertTrue(set(ROLES) <= set(f.resources("role")))
            holders = {(u["role"].lower(), u["id"]) for u in truth["users"]}
            self.assertEqual(f.grant_pairs("role"), holders)
            runs = f.rows("SELECT sync_type, ended_at IS NOT NULL FROM v1_sync_runs")
            self.assertEqual(runs, [("full", 1)])


class DemoTenant(SyncTestCase):
    def test_demo_sync_equals_truth(self):
        with MockServer(tenant="demo") as m:
            r = sync_against(m, self.out)
            self.assertEqual(r.returncode, 0, r.stderr)
            truth = m.truth()
            self.assert_matches_truth(truth)
            self.assertLessEqual(m.stats()["reads"], request_budget(truth))
        self.assertIn("sync complete", r.stdout)
        per_type = "(user %d, group %d, role 7)" % (len(truth["users"]), len(truth["groups"]))
        self.assertIn(per_type, r.stdout)

    def test_wrong_key_fails_and_keeps_the_old_file(self):
        with open(self.out, "wb") as f:
            f.write(b"previous sync")
        with MockServer(tenant="demo") as m:
            r = run(["--api-url", m.url, "-f", self.out], env={"BATON_API_KEY": "wrong-key-123"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("auth", r.stderr)
        self.assertNotIn("wrong-key-123", r.stderr + r.stdout)
        with open(self.out, "rb") as f:
            self.assertEqual(f.read(), b"previous sync")
        self.assertEqual(sorted(os.listdir(self.dir)), ["sync.c1z"])

    def test_server_down_is_a_transport_error(self):
        with MockServer(tenant="demo") as m:
            url = m.url
        r = run(["--api-url", url, "-f", self.out, "--http-max-attempts", "2",
                 "--http-max-retry-wait", "1"], env={"BATON_API_KEY": "demo-key"})
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("transport", r.stderr)
        self.assertFalse(os.path.exists(self.out))


class OddNames(SyncTestCase):
    """Names holding U+0000, control characters, emoji and quotes still sync;
    U+0000 (which protobuf-c strings cannot hold) arrives as U+FFFD."""

    def test_nul_and_control_characters(self):
        import json
        from harness import ROOT
        with open(os.path.join(ROOT, "tests", "mock", "demo_tenant.json")) as f:
            tenant = json.load(f)
        tenant["users"][0]["firstName"] = "Al\u0000ice\u0007"
        tenant["users"][1]["lastName"] = "O\"Brien \U0001F600"
        tenant["groups"][1]["name"] = "Eng\u0000ineering:\n2"
        odd = os.path.join(self.dir, "odd.json")
        with open(odd, "w") as f:
            json.dump(tenant, f)
        with MockServer(tenant="demo", demo_file=odd) as m:
            r = sync_against(m, self.out)
            self.assertEqual(r.returncode, 0, r.stderr)
            truth = m.truth()
        fix = lambda s: s.replace("\u0000", "\ufffd")
        for u in truth["users"]:
            u["firstName"] = u["firstName"] and fix(u["firstName"])
        for g in truth["groups"]:
            g["name"] = fix(g["name"])
        self.assert_matches_truth(truth)


class SyntheticTenant(SyncTestCase):
    def test_large_groups_every_member_within_budget(self):
        with MockServer(tenant="synthetic", seed=7, users=1500, groups=130) as m:
            r = sync_against(m, self.out)
            self.assertEqual(r.returncode, 0, r.stderr)
            truth = m.truth()
            self.assertTrue(any(len(g["members"]) > 100 for g in truth["groups"]))
            self.assert_matches_truth(truth)
            self.assertLessEqual(m.stats()["reads"], request_budget(truth))

    def test_survives_rate_limits_and_faults(self):
        # Two reads a second: the user-side walk needs only 8 requests here,
        # and even those must meet the limit.
        with MockServer(tenant="synthetic", seed=11, users=700, groups=60,
                        reads_per_minute=2, rate_window_seconds=1, retry_after_seconds=1,
                        fail_every=5, truncate_every=7) as m:
            r = sync_against(m, self.out)
            self.assertEqual(r.returncode, 0, r.stderr)
            self.assert_matches_truth(m.truth())
            stats = m.stats()
            self.assertGreater(stats["rate_limited"], 0)
            self.assertGreater(stats["faults"], 0)
        self.assertIn("retries", r.stdout)


if __name__ == "__main__":
    unittest.main()
