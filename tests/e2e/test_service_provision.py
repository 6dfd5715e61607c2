"""Service mode end to end, provisioning tasks: each one's effect in the mock
Twingate's truth and its FinishTask (document 3.5, 3.6, 4.7-4.9). The tasks
carry the entitlement, principal and grant rows a one-shot sync wrote, as
ConductorOne sends back what it was given."""

import base64
import os
import shutil
import tempfile
import unittest

from service_harness import ServiceTest, blob, one_shot_sync
import c1proto  # tests/c1mock, on the path once service_harness is imported
import pbwire as pb  # tests/lib, on the path once harness is imported


def gid(n, kind):
    return base64.b64encode(("%s:%d" % (kind, n)).encode()).decode()


ALICE = gid(589701, "User")          # ADMIN, MANUAL
BOB = gid(589702, "User")            # DEVOPS, SYNCED
NEW_HIRE = gid(589705, "User")       # MEMBER, MANUAL, PENDING
EMEKA = gid(589707, "User")          # HELPDESK, MANUAL
ENGINEERING = gid(34892, "Group")    # MANUAL
ENGINEERING_SYNCED = gid(34893, "Group")
RELEASE = gid(34897, "Group")        # MANUAL, empty


class Rows:
    """Entitlement, user and grant rows of one sync, as base64 protobuf."""

    def __init__(self, path):
        self.path = path

    def entitlement(self, eid):
        return {"pb": blob(self.path, "SELECT data FROM v1_entitlements WHERE external_id = ?", eid)}

    def user(self, uid):
        return {"pb": blob(self.path, "SELECT data FROM v1_resources WHERE external_id = ?", "user:" + uid)}

    def grant(self, gext):
        return {"pb": blob(self.path, "SELECT data FROM v1_grants WHERE external_id = ?", gext)}


class ProvisioningBase(ServiceTest):
    """A one-shot sync's rows, and helpers; no tests of its own."""

    tenant = dict(tenant="demo", read_only_key="read-only-key")

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.work = tempfile.mkdtemp(prefix="bt-svc-prov-")
        cls.rows = Rows(one_shot_sync(cls.twingate, cls.work))

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.work, ignore_errors=True)
        super().tearDownClass()

    def truth_user(self, uid):
        return next((u for u in self.twingate.truth()["users"] if u["id"] == uid), None)

    def members(self, group):
        return next(g["members"] for g in self.twingate.truth()["groups"] if g["id"] == group)

    def grant_task(self, eid, uid):
        return {"type": "grant", "entitlement": self.rows.entitlement(eid), "principal": self.rows.user(uid)}


class Provisioning(ProvisioningBase):
    # ---- 5: grant and revoke

    def test_05_group_grant(self):
        self.start_polling()
        _, fin = self.run_task(self.grant_task("group:%s:member" % RELEASE, NEW_HIRE))
        resp = self.assert_success(fin, "GrantManagerServiceGrantResponse")
        self.assertEqual(self.members(RELEASE), [NEW_HIRE])
        for g in resp["grants"]:
            self.assertEqual((g["entitlement_id"], g["principal"]["id"]["id"]),
                             ("group:%s:member" % RELEASE, NEW_HIRE))
        self.assertNoViolations()

    def test_05_group_revoke(self):
        self.start_polling()
        task = {"type": "revoke", "grant": self.rows.grant("group:%s:member:user:%s" % (ENGINEERING, ALICE))}
        _, fin = self.run_task(task)
        self.assert_success(fin, "GrantManagerServiceRevokeResponse")
        self.assertNotIn(ALICE, self.members(ENGINEERING))

    def test_05_role_grant_and_revoke(self):
        self.start_polling()
        _, fin = self.run_task(self.grant_task("role:devops:member", EMEKA))
        self.assert_success(fin, "GrantManagerServiceGrantResponse")
        self.assertEqual(self.truth_user(EMEKA)["role"], "DEVOPS")
        _, fin = self.run_task({"type": "revoke", "grant": self.rows.grant("role:admin:member:user:%s" % ALICE)})
        self.assert_success(fin, "GrantManagerServiceRevokeResponse")
        self.assertEqual(self.truth_user(ALICE)["role"], "MEMBER")

    # ---- 6, 7: create and delete an account

    def test_06_07_create_then_delete_account(self):
        self.start_polling()
        info = {"emails": [{"address": "grace@acme.example", "is_primary": True}], "login": "grace@acme.example",
                "profile": {"email": "grace@acme.example", "first_name": "Grace", "last_name": "Hopper"}}
        _, fin = self.run_task({"type": "create_account", "account_info": info, "resource_type_id": "user"})
        resp = self.assert_success(fin, "CreateAccountResponse")
        created = [u for u in self.twingate.truth()["users"] if u["email"] == "grace@acme.example"]
        self.assertEqual(len(created), 1)
        self.assertEqual((created[0]["firstName"], created[0]["lastName"]), ("Grace", "Hopper"))
        self.assertEqual(resp["result"], "success")
        self.assertTrue(resp["is_create_account_result"])
        self.assertEqual(resp["resource"]["id"], {"type": "user", "id": created[0]["id"]})
        self.assertIn("type.googleapis.com/c1.connector.v2.UserTrait", resp["resource"]["annotations"])
        # 3.6: the resource is shaped as the sync emits it.
        work = tempfile.mkdtemp(prefix="bt-svc-created-")
        self.addCleanup(shutil.rmtree, work, True)
        row = blob(one_shot_sync(self.twingate, work), "SELECT data FROM v1_resources WHERE external_id = ?",
                   "user:" + created[0]["id"])
        self.assertEqual(c1proto.decode_resource(pb.decode(base64.b64decode(row))), resp["resource"])
        task = {"type": "delete_resource", "resource_id": {"type": "user", "id": created[0]["id"]}}
        _, fin = self.run_task(task)
        self.assert_success(fin, "DeleteResourceResponse")
        self.assertIsNone(self.truth_user(created[0]["id"]))
        self.assertNoViolations()

    # ---- 8, 9: refusals

    def test_08_twingate_refusal_is_a_non_retryable_error(self):
        self.start_polling()
        _, fin = self.run_task(self.grant_task("group:%s:member" % ENGINEERING_SYNCED, NEW_HIRE))
        self.assertEqual(fin["final_state"], "error")
        self.assertTrue(fin["error"]["non_retryable"])
        self.assertEqual(fin["status"]["code"], 9, "4.8: FAILED_PRECONDITION is the closest code")
        self.assertIn("identity provider", fin["status"]["message"])
        self.assertNotIn(NEW_HIRE, self.members(ENGINEERING_SYNCED))
        _, fin = self.run_task({"type": "delete_resource", "resource_id": {"type": "user", "id": BOB}})
        self.assert_failed(fin, 9, True)
        self.assertIsNotNone(self.truth_user(BOB))

    def test_08_unknown_ids_and_a_read_only_key_map_to_close_codes(self):
        self.start_polling()
        ghost = gid(999999, "User")
        _, fin = self.run_task({"type": "delete_resource", "resource_id": {"type": "user", "id": ghost}})
        self.assert_failed(fin, 5, True)  # 4.8: NOT_FOUND
        self.daemon.terminate()
        self.start_polling(env={"BATON_API_KEY": "read-only-key"})
        _, fin = self.run_task(self.grant_task("group:%s:member" % RELEASE, NEW_HIRE))
        self.assert_failed(fin, 7, True)  # 4.8: PERMISSION_DENIED
        self.assertEqual(self.members(RELEASE), [])

    def test_08_twingate_unavailable_maps_to_unavailable(self):
        self.start_polling("--http-max-attempts", "1")
        self.twingate.config(fail_first=5)
        _, fin = self.run_task(self.grant_task("group:%s:member" % RELEASE, NEW_HIRE))
        self.assert_failed(fin, 14, True)  # 4.8: UNAVAILABLE

    def test_08_without_provisioning_every_change_is_failed_precondition(self):
        self.start_polling(provisioning=False)
        tasks = [self.grant_task("group:%s:member" % RELEASE, NEW_HIRE),
                 {"type": "revoke", "grant": self.rows.grant("group:%s:member:user:%s" % (ENGINEERING, ALICE))},
                 {"type": "create_account", "account_info": {"emails": [{"address": "x@acme.example"}],
                                                             "profile": {"email": "x@acme.example"}}},
                 {"type": "delete_resource", "resource_id": {"type": "user", "id": EMEKA}}]
        for task in tasks:
            _, fin = self.run_task(task)
            self.assert_failed(fin, 9, True, "provisioning is not enabled")
        self.assertEqual(self.twingate.stats()["requests"], 0, "the target is not touched (4.9)")
        _, fin = self.run_task({"type": "sync_full"})
        self.assertEqual(fin["final_state"], "success", "syncs are unaffected")

    def test_09_malformed_tasks_fail_without_a_twingate_call(self):
        self.start_polling()
        malformed = [{"type": "grant", "entitlement": self.rows.entitlement("group:%s:member" % RELEASE)},
                     {"type": "grant", "principal": self.rows.user(NEW_HIRE)},
                     {"type": "revoke"},
                     {"type": "create_account"},
                     {"type": "delete_resource"},
                     {"type": "delete_resource", "resource_id": {"type": "", "id": EMEKA}},
                     {"type": "delete_resource", "resource_id": {"type": "user", "id": ""}}]
        for task in malformed:
            with self.subTest(task=task):
                _, fin = self.run_task(task)
                self.assertEqual(fin["final_state"], "error", fin)
                self.assertTrue(fin["error"]["non_retryable"])
        self.assertEqual(self.twingate.stats()["requests"], 0)
        self.assertNoViolations()


    def test_09_a_nul_byte_in_any_string_refuses_the_task(self):
        # protobuf-c cuts a string at a NUL: EMEKA + "\0..." was read as EMEKA, who was
        # deleted with a success reported. Such a task is refused whole, the tenant untouched.
        self.start_polling()
        before = self.twingate.truth()
        tasks = [({"type": "delete_resource", "resource_id": {"type": "user", "id": EMEKA + "\0-not-this-one"}},
                  "task.delete_resource.resource_id.resource"),
                 ({"type": "grant", "entitlement": self.rows.entitlement("group:%s:member" % RELEASE),
                   "principal": {"type": "user", "id": NEW_HIRE + "\0x"}},
                  "task.grant.principal.id.resource"),
                 ({"type": "create_account", "resource_type_id": "user",
                   "account_info": {"emails": [{"address": "nul@acme.example", "is_primary": True}],
                                    "profile": {"email": "nul@acme.example", "first_name": "N\0ul"}}},
                  "task.create_account.account_info.profile.fields.value.string_value")]
        for task, field in tasks:
            with self.subTest(task=task["type"]):
                _, fin = self.run_task(task)
                self.assert_failed(fin, 3, True, "string field %s holds a NUL byte" % field)
        self.assertEqual(self.twingate.stats()["requests"], 0, "no handler ran")
        self.assertEqual(self.twingate.truth(), before)
        self.assertIsNotNone(self.truth_user(EMEKA))


class CreateAccountResult(ServiceTest):
    """create_account's result must name the account it made: a table with a
    non-empty string id. Anything else fails the task, never a success with an
    empty id, nor a Lua error outside a protected call (the task process died)."""

    def override_create_account(self, result):
        scripts = tempfile.mkdtemp(prefix="bt-svc-scripts-")
        self.addCleanup(shutil.rmtree, scripts, True)
        os.makedirs(os.path.join(scripts, "twingate"))
        with open(os.path.join(scripts, "twingate", "provisioning.lua"), "w") as f:
            f.write('local M = require "bundled:twingate.provisioning"\n'
                    'function M.create_account(req) return %s end\n'
                    'return M\n' % result)
        return scripts

    def test_a_result_without_an_account_id_fails_the_task(self):
        info = {"emails": [{"address": "x@acme.example", "is_primary": True}]}
        for result, text in [("true", "create_account returned a boolean, not a table"),
                             ("{ message = 'created' }", "create_account returned no account id"),
                             ("{ id = '' }", "create_account returned no account id")]:
            with self.subTest(result=result):
                d = self.start_polling("--scripts-dir", self.override_create_account(result))
                try:
                    _, fin = self.run_task({"type": "create_account", "account_info": info})
                finally:
                    d.terminate()  # the next daemon alone takes the next task
                self.assert_failed(fin, 13, True, text)
                self.assertNotIn("signal", d.stderr())


class DoneWhen(ProvisioningBase):
    """The issue's "done when": one daemon run, started with only the client id and
    secret, the key and the API address, handles all of these."""

    def test_one_run_handles_every_kind_of_task(self):
        # Only the credentials (environment), the key, the API address and -p; the script's
        # own pacing stays on (these tasks fit in its per-minute budgets).
        self.start_polling(pacing=True)
        info = {"emails": [{"address": "ada@acme.example", "is_primary": True}],
                "profile": {"email": "ada@acme.example", "first_name": "Ada", "last_name": "Lovelace"}}
        ids = self.c1.enqueue(
            {"type": "sync_full"},
            self.grant_task("group:%s:member" % RELEASE, NEW_HIRE),
            {"type": "revoke", "grant": self.rows.grant("group:%s:member:user:%s" % (ENGINEERING, ALICE))},
            self.grant_task("role:support:member", EMEKA),
            {"type": "create_account", "account_info": info},
            {"type": "case", "case": 121})
        fins = [self.c1.wait_finished(t, 120) for t in ids]
        self.assertEqual(fins[0]["final_state"], "success")
        self.assertEqual(len([u for u in self.c1.uploads(ids[0]) if u["grpc_status"] == 0]), 1)
        for fin, name in zip(fins[1:5], ["GrantManagerServiceGrantResponse", "GrantManagerServiceRevokeResponse",
                                         "GrantManagerServiceGrantResponse", "CreateAccountResponse"]):
            self.assert_success(fin, name)
        self.assert_failed(fins[5], 2, False, "unsupported task type")
        created = fins[4]["success"]["response"]["decoded"]["resource"]["id"]["id"]
        _, fin = self.run_task({"type": "delete_resource", "resource_id": {"type": "user", "id": created}})
        self.assert_success(fin, "DeleteResourceResponse")
        self.assertEqual(self.members(RELEASE), [NEW_HIRE])
        self.assertNotIn(ALICE, self.members(ENGINEERING))
        self.assertEqual(self.truth_user(EMEKA)["role"], "SUPPORT")
        self.assertIsNone(self.truth_user(created))
        self.assertNoViolations()


if __name__ == "__main__":
    unittest.main()
