"""A Twingate API key with "Read only" permission (issue 23): syncs work; every kind
of change (grant, revoke, role change, account create and delete) is refused with one
line that says what to do, in one-shot and service mode, and is never sent twice."""

import os
import shutil
import tempfile
import unittest

from demo_ids import ALICE, EMEKA, ENGINEERING, NEW_HIRE, RELEASE
from harness import C1Z, DemoMockCase, run, sync_against
from service_harness import ServiceTest, one_shot_sync
from test_service_provision import Rows

RO_KEY = "read-only-key-1"
REFUSAL = ("refused: the Twingate API key is read-only; provisioning needs a key with "
           "Read & Write permission (Twingate: Settings → API → Generate Token)")

# Each kind of change: its one-shot flags, and the verb its refusal names.
ONE_SHOT = [
    ("grant", ["--grant-entitlement", "group:%s:member" % RELEASE, "--grant-principal", NEW_HIRE]),
    ("revoke", ["--revoke-grant", "group:%s:member:user:%s" % (ENGINEERING, ALICE)]),
    ("role change", ["--grant-entitlement", "role:devops:member", "--grant-principal", EMEKA]),
    ("role change", ["--revoke-grant", "role:helpdesk:member:user:%s" % EMEKA]),
    ("account creation", ["--create-account-email", "ada@acme.example"]),
    ("account deletion", ["--delete-resource", EMEKA, "--delete-resource-type", "user"]),
]


class OneShot(DemoMockCase):
    MOCK_OPTIONS = {"tenant": "demo", "read_only_key": RO_KEY}

    def setUp(self):
        self.mock.reset()
        self.mock.reset_stats()
        self.mock.config(read_only_http_403=False)
        self.dir = tempfile.mkdtemp(prefix="bt-ro-")
        self.addCleanup(shutil.rmtree, self.dir, True)

    def change(self, args):
        return run(["--api-url", self.mock.url, "--log-format", "console", "--writes-per-minute", "0",
                    "--reads-per-minute", "0"] + args, env={"BATON_API_KEY": RO_KEY}, cwd=self.dir)

    def assert_refused(self, verb, r):
        self.assertNotEqual(r.returncode, 0)
        lines = [l for l in r.stderr.splitlines() if l.strip()]
        self.assertEqual(lines, ["error: %s %s" % (verb, REFUSAL)], r.stderr)
        self.assertNotIn(".lua", r.stderr + r.stdout)

    def test_every_kind_of_change_is_refused_with_one_line(self):
        before = self.mock.truth()
        for verb, args in ONE_SHOT:
            with self.subTest(verb=verb, args=args):
                self.mock.reset_stats()
                r = self.change(args)
                self.assert_refused(verb, r)
                self.assertEqual(self.mock.stats()["writes"], 1, "the refused change is sent once")
        self.assertEqual(self.mock.truth(), before)

    def test_an_http_403_is_the_same_refusal(self):
        self.mock.config(read_only_http_403=True)
        for verb, args in ONE_SHOT[:2]:
            with self.subTest(verb=verb):
                self.mock.reset_stats()
                r = self.change(args)
                self.assert_refused(verb, r)
                self.assertEqual(self.mock.stats()["writes"], 1, "a 403 is not retried")

    def test_sync_with_a_read_only_key_works(self):
        out = os.path.join(self.dir, "sync.c1z")
        r = sync_against(self.mock, out, env={"BATON_API_KEY": RO_KEY})
        self.assertEqual(r.returncode, 0, r.stderr)
        with C1Z(out) as f:
            self.assertIn((ENGINEERING, ALICE), f.grant_pairs("group"))


class ServiceMode(ServiceTest):
    tenant = dict(tenant="demo", read_only_key=RO_KEY)

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="bt-ro-svc-")
        cls.rows = Rows(one_shot_sync(cls.twingate, cls.work))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def test_every_kind_of_change_is_permission_denied(self):
        self.start_polling(env={"BATON_API_KEY": RO_KEY})
        rows = self.rows
        info = {"emails": [{"address": "ada@acme.example", "is_primary": True}],
                "profile": {"email": "ada@acme.example"}}
        tasks = [
            ("grant", {"type": "grant", "entitlement": rows.entitlement("group:%s:member" % RELEASE),
                       "principal": rows.user(NEW_HIRE)}),
            ("revoke", {"type": "revoke",
                        "grant": rows.grant("group:%s:member:user:%s" % (ENGINEERING, ALICE))}),
            ("role change", {"type": "grant", "entitlement": rows.entitlement("role:devops:member"),
                             "principal": rows.user(EMEKA)}),
            ("account creation", {"type": "create_account", "account_info": info}),
            ("account deletion", {"type": "delete_resource", "resource_id": {"type": "user", "id": EMEKA}}),
        ]
        before = self.twingate.truth()
        for verb, task in tasks:
            with self.subTest(verb=verb):
                self.twingate.reset_stats()
                _, fin = self.run_task(task)
                self.assert_failed(fin, 7, True)  # PERMISSION_DENIED, not retryable
                self.assertEqual(fin["status"]["message"], "%s %s" % (verb, REFUSAL))
                self.assertEqual(self.twingate.stats()["writes"], 1, "the refused change is sent once")
        self.assertEqual(self.twingate.truth(), before)
        _, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success", "a sync with the same key works")
        self.assertNoViolations()


if __name__ == "__main__":
    unittest.main()
