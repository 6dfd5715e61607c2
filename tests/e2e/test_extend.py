"""End to end: an override directory of short extension files (examples/extend,
no copied bundled file) adds a user profile field, the remote-network type and
drops the Billing role; a probe shows a script can read the API key neither
through os.getenv nor config.get, and the key appears in no output. Each
recipe also runs alone; `./dev test-scripts` passes on the directory; a
contract typo in it fails at load with the path and a suggestion."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, MockServer, run, sync_against

EXAMPLES = os.path.join(ROOT, "examples", "extend")
RECIPES = {"field": ["twingate/users.lua"],
           "type": ["twingate/init.lua", "twingate/remote_networks.lua"],
           "role": ["twingate/roles.lua"],
           "drop": ["twingate/groups.lua"]}
KNOWN_ROLES = {"admin", "devops", "support", "member", "access_reviewer", "helpdesk", "billing"}

# Tries to read the key both ways at sync time and logs what came back.
PROBE = """-- probe: what a script can read of the API key
local client = require "bundled:twingate.client"
local config = require "bt.config"
local log = require "bt.log"
local configure = client.configure
function client.configure()
  local ok, v = pcall(function() return os.getenv("BATON_API_KEY") end)
  log.info("probe getenv: " .. tostring(ok) .. " " .. tostring(v))
  ok, v = pcall(config.get, "api-key")
  log.info("probe config.get: " .. tostring(ok) .. " " .. tostring(v))
  return configure()
end
return client
"""


def read_jsonl(path):
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]


def resources(rows, rtype):
    return {r["id"]["resource"]: r for r in rows
            if r["kind"] == "resource" and r["id"]["resourceType"] == rtype}


def principals(rows, ptype):
    return {r["principal"]["id"]["resource"] for r in rows
            if r["kind"] == "grant" and r["principal"]["id"]["resourceType"] == ptype}


def lines_of(path):
    with open(path, encoding="utf-8") as f:
        return sum(1 for _ in f)


class ExtendTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.mock = MockServer(tenant="demo").__enter__()
        cls.truth = cls.mock.truth()
        cls.tmp = tempfile.mkdtemp(prefix="bt-extend-")

    @classmethod
    def tearDownClass(cls):
        cls.mock.__exit__(None, None, None)
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def override(self, name, files=None, probe=False):
        """A scripts dir holding the example files given (all by default)."""
        d = os.path.join(self.tmp, name)
        shutil.copytree(EXAMPLES, d, ignore=shutil.ignore_patterns("spec") if files else None)
        if files:
            for root, _, names in os.walk(os.path.join(d, "twingate")):
                for n in names:
                    if os.path.relpath(os.path.join(root, n), d) not in files:
                        os.unlink(os.path.join(root, n))
        if probe:
            with open(os.path.join(d, "twingate", "client.lua"), "w", encoding="utf-8") as f:
                f.write(PROBE)
        return d

    def sync(self, scripts, name, extra=()):
        out = os.path.join(self.tmp, name + ".jsonl")
        r = sync_against(self.mock, out, ["--scripts-dir", scripts] + list(extra))
        self.assertEqual(0, r.returncode, r.stderr)
        return r, read_jsonl(out), out

    # ---------------------------------------------------------------- recipes

    def disabled(self):
        return {u["id"] for u in self.truth["users"] if u["state"] == "DISABLED"}

    def check_field(self, rows):
        # users.lua also holds the "skip users" recipe: DISABLED users are left out
        users = resources(rows, "user")
        self.assertEqual(2, len(self.disabled()))
        self.assertEqual({u["id"] for u in self.truth["users"]} - self.disabled(), set(users))
        for u in self.truth["users"]:
            if u["id"] in users:
                self.assertEqual(u["updatedAt"], users[u["id"]]["profile"]["updated_at"], u["id"])
        self.assertFalse(self.disabled() & principals(rows, "user"))

    def contractors(self):
        return next(g["id"] for g in self.truth["groups"] if g["name"] == "Contractors")

    def check_drop(self, rows):
        gid = self.contractors()
        self.assertNotIn(gid, resources(rows, "group"))
        self.assertIn(self.truth["groups"][0]["id"], resources(rows, "group"))
        self.assertFalse([r for r in rows if r["kind"] in ("entitlement", "grant")
                          and gid in json.dumps(r)])

    def check_type(self, rows):
        types = [r["id"] for r in rows if r["kind"] == "resource_type"]
        self.assertEqual("remote_network", types[-1])
        networks = resources(rows, "remote_network")
        self.assertEqual({n["id"]: n["name"] for n in self.truth["remoteNetworks"]},
                         {i: r["displayName"] for i, r in networks.items()})
        for n in self.truth["remoteNetworks"]:
            self.assertEqual(n["location"], networks[n["id"]]["profile"]["location"])

    def check_role(self, rows, left_out=frozenset()):
        self.assertEqual(KNOWN_ROLES - {"billing"}, set(resources(rows, "role")))
        grants = [r for r in rows if r["kind"] == "grant"]
        self.assertFalse([g for g in grants if g["entitlement"]["id"].startswith("role:billing:")])
        billing = {u["id"] for u in self.truth["users"] if u["role"] == "BILLING"}
        self.assertTrue(billing)  # the demo tenant has a Billing user
        role_grants = {g["principal"]["id"]["resource"] for g in grants
                       if g["entitlement"]["id"].startswith("role:")}
        self.assertFalse(billing & role_grants)
        self.assertEqual({u["id"] for u in self.truth["users"]} - billing - left_out, role_grants)

    def test_each_recipe_alone(self):
        for name, files in sorted(RECIPES.items()):
            with self.subTest(recipe=name):
                _, rows, _ = self.sync(self.override("alone-" + name, files), "alone-" + name)
                getattr(self, "check_" + name)(rows)

    def test_recipes_are_short_and_copy_nothing(self):
        self.assertLessEqual(lines_of(os.path.join(EXAMPLES, "twingate", "remote_networks.lua")), 40)
        for files in RECIPES.values():
            for rel in files:
                with open(os.path.join(EXAMPLES, rel), encoding="utf-8") as f:
                    text = f.read()
                with open(os.path.join(ROOT, "scripts", rel), encoding="utf-8") if os.path.exists(
                        os.path.join(ROOT, "scripts", rel)) else open(os.devnull) as f:
                    bundled = f.read()
                self.assertLessEqual(len(text.splitlines()), 40, rel)
                if bundled:
                    self.assertIn('require "bundled:', text, rel)

    # ---------------------------------------------------------------- together

    def test_all_together_with_the_secret_probe(self):
        scripts = self.override("all", probe=True)
        r, rows, out = self.sync(scripts, "all", ["--log-level", "debug"])
        self.check_field(rows)
        self.check_type(rows)
        self.check_role(rows, self.disabled())
        self.check_drop(rows)
        self.assertIn("probe getenv: false", r.stderr)
        self.assertIn("os.getenv is not available in the connector sandbox", r.stderr)
        self.assertIn("probe config.get: false", r.stderr)
        self.assertIn("'api-key' is a secret: scripts never read it", r.stderr)
        key = self.mock.api_key
        with open(out, encoding="utf-8") as f:
            written = f.read()
        for where, text in (("stdout", r.stdout), ("stderr", r.stderr), ("file", written)):
            self.assertNotIn(key, text, where)

    # ---------------------------------------------------------------- keep

    def requests(self, scripts, name, extra):
        """The mock's request count for one sync (scripts None: the bundled ones)."""
        self.mock.reset_stats()
        args = (["--scripts-dir", scripts] if scripts else []) + list(extra)
        r, rows, _ = self.sync(scripts, name, extra) if scripts else (None, None, None)
        if scripts is None:
            out = os.path.join(self.tmp, name + ".jsonl")
            r = sync_against(self.mock, out, args)
            self.assertEqual(0, r.returncode, r.stderr)
            rows = read_jsonl(out)
        return self.mock.stats()["requests"], r, rows

    def test_keep_on_every_side_costs_no_request(self):
        scripts = self.override("keep", RECIPES["field"] + RECIPES["drop"])
        for side in ("users", "groups"):
            with self.subTest(side=side):
                extra = ["--membership-side", side, "--include-service-accounts",
                         "--include-network-resources"]
                plain, _, before = self.requests(None, "plain-" + side, extra)
                n, r, rows = self.requests(scripts, "keep-" + side, extra)
                self.assertEqual(plain, n)
                self.check_field(rows)
                self.check_drop(rows)
                self.assertTrue(self.disabled() & principals(before, "user"))
                self.assertIn("filtered        3 (group 1, user 2)"
                              if side == "users" else "filtered        3 (user 2, group 1)", r.stdout)
                self.assertIn("skipped         0", r.stdout)
                self.assertNotIn("changed during the sync", r.stderr)

    def test_keep_in_a_targeted_sync(self):
        scripts = self.override("keep-targeted", RECIPES["field"])
        everyone = self.truth["groups"][0]
        self.assertEqual("Everyone", everyone["name"])
        extra = ["--sync-resources", "group:" + everyone["id"]]
        plain, _, before = self.requests(None, "plain-targeted", extra)
        n, r, rows = self.requests(scripts, "keep-targeted", extra)
        self.assertEqual(plain, n)
        self.assertEqual(self.disabled(), self.disabled() & principals(before, "user"))
        self.assertFalse(self.disabled() & principals(rows, "user"))
        self.assertEqual(principals(before, "user") - self.disabled(), principals(rows, "user"))
        self.assertIn("filtered        2 (user 2)", r.stdout)

    def test_provisioning_a_filtered_principal_or_group_is_refused(self):
        scripts = self.override("keep-provision", RECIPES["field"] + RECIPES["drop"])
        disabled = sorted(self.disabled())[0]
        everyone = self.truth["groups"][0]["id"]
        manual = next(g["id"] for g in self.truth["groups"]
                      if g["type"] == "MANUAL" and g["name"] != "Contractors")
        self.mock.reset_stats()
        cases = [(["--grant-entitlement", "group:%s:member" % manual, "--grant-principal", disabled],
                  "user " + disabled),
                 (["--grant-entitlement", "role:admin:member", "--grant-principal", disabled],
                  "user " + disabled),
                 (["--revoke-grant", "group:%s:member:user:%s" % (self.contractors(),
                                                                  self.truth["users"][0]["id"])],
                  "group " + self.contractors()),
                 (["--delete-resource", disabled, "--delete-resource-type", "user"],
                  "user " + disabled)]
        for args, who in cases:
            with self.subTest(args=args):
                r = run(["--scripts-dir", scripts, "--api-url", self.mock.url, "-p",
                         "-f", os.path.join(self.tmp, "prov.c1z")] + args,
                        env={"BATON_API_KEY": self.mock.api_key})
                self.assertNotEqual(0, r.returncode)
                self.assertIn(who + " is left out of this connector by", r.stderr)
        self.assertEqual({}, dict(self.mock.stats()["mutations"]))
        self.assertNotEqual(everyone, manual)

    def test_dev_test_scripts_passes_on_it(self):
        scripts = self.override("checked")
        r = subprocess.run([os.path.join(ROOT, "dev"), "test-scripts", scripts],
                           capture_output=True, text=True, timeout=600)
        self.assertEqual(0, r.returncode, r.stdout + r.stderr)
        self.assertIn("0 failures", r.stdout)
        self.assertIn("GraphQL documents valid", r.stdout)

    def test_dev_test_scripts_fails_on_an_invalid_field(self):
        scripts = self.override("badfield")
        path = os.path.join(scripts, "twingate", "users.lua")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace('"updatedAt")', '"updatedOn")'))
        r = subprocess.run([os.path.join(ROOT, "dev"), "test-scripts", scripts],
                           capture_output=True, text=True, timeout=600)
        self.assertNotEqual(0, r.returncode)
        self.assertIn('error: twingate.queries.USERS: Cannot query field "updatedOn"', r.stderr)

    def test_a_contract_typo_fails_at_load(self):
        scripts = self.override("typo")
        path = os.path.join(scripts, "twingate", "init.lua")
        with open(path, encoding="utf-8") as f:
            text = f.read()
        with open(path, "w", encoding="utf-8") as f:
            f.write(text.replace("skip_entitlements_and_grants", "skip_entitlement_and_grants"))
        for args in (["capabilities"], ["--api-url", self.mock.url, "-f",
                                        os.path.join(self.tmp, "typo.c1z")]):
            r = run(["--scripts-dir", scripts] + args, env={"BATON_API_KEY": self.mock.api_key})
            self.assertEqual(1, r.returncode)
            self.assertEqual(1, len(r.stderr.splitlines()), r.stderr)
            self.assertIn("twingate/init.lua: unknown field 'resource_types[6].skip_entitlement_and_grants' "
                          "(did you mean 'skip_entitlements_and_grants'?)", r.stderr)
        self.assertFalse(os.path.exists(os.path.join(self.tmp, "typo.c1z")))


if __name__ == "__main__":
    unittest.main()
