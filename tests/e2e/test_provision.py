"""End to end: provisioning against the mock; effects checked in the mock's truth
and in the next sync; refusals send zero mutations."""

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

from demo_ids import ALICE, BOB, NEW_HIRE, EMEKA, EVERYONE, ENGINEERING, ENGINEERING_SYNCED, RELEASE
from harness import BINARY, C1Z, DemoMockCase, MockServer, run, sync_against


class Provisioning(DemoMockCase):
    def setUp(self):
        self.mock.reset()
        self.mock.reset_stats()
        self.dir = tempfile.mkdtemp(prefix="bt-prov-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def provision(self, *args, json_output=False):
        extra = ["--log-format", "json"] if json_output else ["--log-format", "console"]
        return run(["--api-url", self.mock.url, "-f", os.path.join(self.dir, "sync.c1z"),
                    "--writes-per-minute", "0", "--reads-per-minute", "0"] + extra + list(args),
                   env={"BATON_API_KEY": self.mock.api_key}, cwd=self.dir)

    def members(self, group_id):
        return next(g["members"] for g in self.mock.truth()["groups"] if g["id"] == group_id)

    def user(self, user_id):
        return next((u for u in self.mock.truth()["users"] if u["id"] == user_id), None)

    def mutations(self):
        return sum(self.mock.stats()["mutations"].values())

    def test_grant_group_membership_then_sync_shows_it(self):
        r = self.provision("-p", "--grant-entitlement", "group:%s:member" % RELEASE,
                           "--grant-principal", NEW_HIRE, "--grant-principal-type", "user")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.strip().splitlines()), 1)
        self.assertEqual(self.members(RELEASE), [NEW_HIRE])
        out = os.path.join(self.dir, "after.c1z")
        s = sync_against(self.mock, out)
        self.assertEqual(s.returncode, 0, s.stderr)
        with C1Z(out) as f:
            self.assertIn((RELEASE, NEW_HIRE), f.grant_pairs("group"))

    def test_grant_is_idempotent(self):
        self.assertIn(ALICE, self.members(ENGINEERING))
        r = self.provision("-p", "--grant-entitlement", "group:%s:member" % ENGINEERING,
                           "--grant-principal", ALICE, "--grant-principal-type", "user")
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn("already", r.stdout)
        self.assertEqual(self.mutations(), 0)

    def test_revoke_group_membership(self):
        r = self.provision("-p", "--revoke-grant", "group:%s:member:user:%s" % (ENGINEERING, ALICE))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertNotIn(ALICE, self.members(ENGINEERING))
        again = self.provision("-p", "--revoke-grant", "group:%s:member:user:%s" % (ENGINEERING, ALICE))
        self.assertEqual(again.returncode, 0, again.stderr)
        self.assertIn("not a member", again.stdout)

    def test_synced_and_system_groups_are_refused_without_mutation(self):
        for group, word in [(ENGINEERING_SYNCED, "identity provider"), (EVERYONE, "Twingate")]:
            r = self.provision("-p", "--grant-entitlement", "group:%s:member" % group,
                               "--grant-principal", EMEKA, "--grant-principal-type", "user")
            self.assertNotEqual(r.returncode, 0)
            self.assertIn(word, r.stderr)
        self.assertEqual(self.mutations(), 0)

    def test_malformed_ids_are_refused_before_any_request(self):
        for args in (["--revoke-grant", "group:only-two"], ["--grant-entitlement", "nonsense",
                                                             "--grant-principal", ALICE]):
            r = self.provision("-p", *args)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("malformed", r.stderr)
        self.assertEqual(self.mock.stats()["requests"], 0)

    def test_role_grant_replaces_the_role(self):
        r = self.provision("-p", "--grant-entitlement", "role:devops:member",
                           "--grant-principal", EMEKA, "--grant-principal-type", "user", json_output=True)
        self.assertEqual(r.returncode, 0, r.stderr)
        result = json.loads(r.stdout.strip().splitlines()[-1])
        self.assertTrue(result["ok"])
        self.assertIn("from Helpdesk to DevOps", result["message"])
        self.assertEqual(self.user(EMEKA)["role"], "DEVOPS")

    def test_role_revoke_returns_to_member_and_member_cannot_be_revoked(self):
        r = self.provision("-p", "--revoke-grant", "role:helpdesk:member:user:%s" % EMEKA)
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(self.user(EMEKA)["role"], "MEMBER")
        r = self.provision("-p", "--revoke-grant", "role:member:member:user:%s" % EMEKA)
        self.assertNotEqual(r.returncode, 0)
        self.assertEqual(self.mutations(), 1)

    def test_create_and_delete_account(self):
        r = self.provision("-p", "--create-account-email", "grace@acme.example",
                           "--create-account-profile", '{"first_name": "Grace", "last_name": "Hopper"}')
        self.assertEqual(r.returncode, 0, r.stderr)
        created = [u for u in self.mock.truth()["users"] if u["email"] == "grace@acme.example"]
        self.assertEqual(len(created), 1)
        self.assertIn(created[0]["id"], r.stdout)
        dup = self.provision("-p", "--create-account-email", "grace@acme.example")
        self.assertNotEqual(dup.returncode, 0)
        self.assertIn("already exists", dup.stderr)
        d = self.provision("-p", "--delete-resource", created[0]["id"], "--delete-resource-type", "user")
        self.assertEqual(d.returncode, 0, d.stderr)
        self.assertIsNone(self.user(created[0]["id"]))

    def test_synced_user_cannot_be_deleted(self):
        r = self.provision("-p", "--delete-resource", BOB, "--delete-resource-type", "user")
        self.assertNotEqual(r.returncode, 0)
        self.assertIn("identity provider", r.stderr)
        self.assertEqual(self.mutations(), 0)
        self.assertIsNotNone(self.user(BOB))

    def test_read_only_key_is_a_clear_error(self):
        with MockServer(tenant="demo", read_only_key="read-only-key-1") as m:
            r = run(["--api-url", m.url, "-p", "--grant-entitlement", "group:%s:member" % RELEASE,
                     "--grant-principal", NEW_HIRE, "--writes-per-minute", "0"],
                    env={"BATON_API_KEY": "read-only-key-1"}, cwd=self.dir)
            self.assertNotEqual(r.returncode, 0)
            self.assertIn("grant refused: the Twingate API key is read-only", r.stderr)
            self.assertEqual(m.truth()["groups"][-1]["members"], [])



class InterruptedProvisioning(unittest.TestCase):
    def test_a_signal_says_the_change_may_have_been_applied(self):
        with MockServer(tenant="demo", latency_ms=1500) as m:
            env = {k: v for k, v in os.environ.items() if not k.startswith("BATON_")}
            env["BATON_API_KEY"] = m.api_key
            p = subprocess.Popen([BINARY, "--api-url", m.url, "--writes-per-minute", "0",
                                  "--reads-per-minute", "0", "--log-format", "json",
                                  "--grant-entitlement", "group:%s:member" % RELEASE,
                                  "--grant-principal", NEW_HIRE, "--grant-principal-type", "user"],
                                 env=env, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
                                 stderr=subprocess.PIPE, text=True)
            deadline = time.monotonic() + 20
            while m.stats()["requests"] == 0:   # the handler is talking to Twingate
                self.assertLess(time.monotonic(), deadline, "no request reached the mock")
                time.sleep(0.05)
            p.send_signal(signal.SIGTERM)
            _, err = p.communicate(timeout=30)
        self.assertEqual(p.returncode, -signal.SIGTERM)
        errors = [line for line in err.splitlines() if line.startswith("error:")]
        self.assertEqual(errors, ["error: interrupted by SIGTERM; grant: the change may or may not "
                                  "have been applied; check before trying again"])


if __name__ == "__main__":
    unittest.main()
