"""End to end: provisioning when the answer to a change is lost. The mock
applies the mutation, then cuts its answer mid-body and closes the
connection. The connector reads the state back once and reports what is
true; when that read fails too it says the outcome is unknown. The mutation
is never sent twice."""

import json
import os
import shutil
import tempfile
import unittest

from demo_ids import ALICE, NEW_HIRE, EMEKA, ENGINEERING, RELEASE
from harness import DemoMockCase, run


class LostAnswers(DemoMockCase):
    def setUp(self):
        self.mock.config(cut_mutations=0, fail_after_cut=0, truncate_every=0, fail_first=0)
        self.mock.reset()
        self.mock.reset_stats()
        self.dir = tempfile.mkdtemp(prefix="bt-lost-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def provision(self, *args):
        return run(["--api-url", self.mock.url, "--writes-per-minute", "0",
                    "--reads-per-minute", "0", "--log-format", "console", "-p"] + list(args),
                   env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)

    def truth_of(self, kind, object_id):
        return next(o for o in self.mock.truth()[kind] if o["id"] == object_id)

    def mutations_sent(self):
        return sum(self.mock.stats()["mutations"].values())

    def assert_confirmed(self, r):
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("confirmed by reading it back", r.stdout)
        self.assertIn("the answer was lost", r.stderr)  # the warning line
        self.assertNotIn("error:", r.stderr)
        self.assertEqual(self.mutations_sent(), 1, "sent exactly once")

    def assert_one_error(self, r, *needles):
        self.assertNotEqual(r.returncode, 0, r.stderr)
        lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        self.assertEqual(len(lines), 1, r.stderr)
        for needle in needles:
            self.assertIn(needle, lines[0])
        return lines[0]

    def test_grant_whose_answer_is_lost_reports_success(self):
        self.mock.config(cut_mutations=1)
        r = self.provision("--grant-entitlement", "group:%s:member" % RELEASE,
                           "--grant-principal", NEW_HIRE, "--grant-principal-type", "user")
        self.assert_confirmed(r)
        self.assertIn("added", r.stdout)
        self.assertEqual(self.truth_of("groups", RELEASE)["members"], [NEW_HIRE])

    def test_twenty_grants_with_lost_answers_all_tell_the_truth(self):
        # The count: 5 of 20 such grants said "failed" although applied.
        users = [u["id"] for u in self.mock.truth()["users"]
                 if u["type"] == "MANUAL"][:20]
        for user in users:
            self.mock.config(cut_mutations=1)
            r = self.provision("--grant-entitlement", "group:%s:member" % RELEASE,
                               "--grant-principal", user, "--grant-principal-type", "user")
            self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(sorted(self.truth_of("groups", RELEASE)["members"]), sorted(users))
        self.assertEqual(self.mutations_sent(), len(users))

    def test_revoke_whose_answer_is_lost_reports_success(self):
        self.mock.config(cut_mutations=1)
        r = self.provision("--revoke-grant", "group:%s:member:user:%s" % (ENGINEERING, ALICE))
        self.assert_confirmed(r)
        self.assertIn("removed", r.stdout)
        self.assertNotIn(ALICE, self.truth_of("groups", ENGINEERING)["members"])

    def test_role_change_whose_answer_is_lost_reports_success(self):
        self.mock.config(cut_mutations=1)
        r = self.provision("--grant-entitlement", "role:devops:member",
                           "--grant-principal", EMEKA, "--grant-principal-type", "user")
        self.assert_confirmed(r)
        self.assertIn("from Helpdesk to DevOps", r.stdout)
        self.assertEqual(self.truth_of("users", EMEKA)["role"], "DEVOPS")

    def test_create_and_delete_whose_answers_are_lost_report_success(self):
        self.mock.config(cut_mutations=1)
        r = run(["--api-url", self.mock.url, "--writes-per-minute", "0", "--reads-per-minute", "0",
                 "--log-format", "json", "-p", "--create-account-email", "grace@acme.example"],
                env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)
        self.assertEqual(r.returncode, 0, r.stderr)
        created = [u for u in self.mock.truth()["users"] if u["email"] == "grace@acme.example"]
        self.assertEqual(len(created), 1)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertEqual(result["id"], created[0]["id"])
        self.assertTrue(result["read_back"])
        self.mock.reset_stats()
        self.mock.config(cut_mutations=1)
        d = self.provision("--delete-resource", created[0]["id"], "--delete-resource-type", "user")
        self.assert_confirmed(d)
        self.assertFalse(any(u["id"] == created[0]["id"] for u in self.mock.truth()["users"]))

    def test_change_not_applied_is_a_clear_failure(self):
        # truncate_every=2: the mutation (request 2) gets a cut body and is
        # rolled back; the read-back (request 3) shows it was not applied.
        self.mock.config(truncate_every=2)
        r = self.provision("--grant-entitlement", "group:%s:member" % RELEASE,
                           "--grant-principal", NEW_HIRE, "--grant-principal-type", "user")
        self.assert_one_error(r, "grant failed", "it was not applied")
        self.assertEqual(self.truth_of("groups", RELEASE)["members"], [])
        self.assertEqual(self.mock.stats()["writes"], 1, "sent exactly once")

    def test_outcome_unknown_when_the_read_back_fails_too(self):
        self.mock.config(cut_mutations=1, fail_after_cut=100)
        r = self.provision("--grant-entitlement", "group:%s:member" % RELEASE,
                           "--grant-principal", NEW_HIRE, "--grant-principal-type", "user",
                           "--http-max-attempts", "2")
        self.assert_one_error(r, "outcome unknown", "may or may not have been applied",
                              "reading the state back failed")
        self.assertEqual(self.truth_of("groups", RELEASE)["members"], [NEW_HIRE])
        self.assertEqual(self.mutations_sent(), 1, "sent exactly once")

    def test_role_change_outcome_unknown(self):
        self.mock.config(cut_mutations=1, fail_after_cut=100)
        r = self.provision("--revoke-grant", "role:helpdesk:member:user:%s" % EMEKA,
                           "--http-max-attempts", "1")
        self.assert_one_error(r, "outcome unknown", "changing the role")
        self.assertEqual(self.mutations_sent(), 1)


if __name__ == "__main__":
    unittest.main()
