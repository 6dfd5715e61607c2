"""End to end: the command line a user meets, and broken or edited scripts."""

import json
import os
import shutil
import tempfile
import unittest

from harness import ROOT, C1Z, MockServer, fake_api_names, run, sync_against


class Cli(unittest.TestCase):
    def setUp(self):
        self.dir = tempfile.mkdtemp(prefix="bt-cli-")

    def tearDown(self):
        shutil.rmtree(self.dir, ignore_errors=True)

    def assert_one_line_error(self, r, needle):
        self.assertNotEqual(r.returncode, 0)
        lines = [line for line in r.stderr.splitlines() if line.startswith("error:")]
        self.assertTrue(lines, r.stderr)
        self.assertIn(needle, lines[0])
        leftovers = [n for n in os.listdir(self.dir) if n != "scripts"]
        self.assertEqual(leftovers, [], "no output file may be written")

    def test_help_lists_runtime_and_connector_flags(self):
        r = run(["--help"])
        self.assertEqual(r.returncode, 0, r.stderr)
        for needle in ["--api-key", "($BATON_API_KEY)", "required: ", "-f, --file", "--scripts-dir",
                       "--log-format", "-p, --provisioning", "capabilities"]:
            self.assertIn(needle, r.stdout)

    def test_version(self):
        r = run(["--version"])
        self.assertEqual(r.returncode, 0)
        self.assertRegex(r.stdout, r"^baton-twingate version \d+\.\d+\.\d+")

    def test_capabilities_derive_from_the_script(self):
        r = run(["capabilities"])
        self.assertEqual(r.returncode, 0, r.stderr)
        caps = json.loads(r.stdout)
        self.assertEqual(caps["@type"], "type.googleapis.com/c1.connector.v2.ConnectorCapabilities")
        by_id = {c["resourceType"]["id"]: c for c in caps["resourceTypeCapabilities"]}
        self.assertEqual(list(by_id), sorted(by_id))
        # Targeted sync (--sync-resources) covers users, groups and roles.
        self.assertEqual(by_id["group"]["capabilities"],
                         ["CAPABILITY_TARGETED_SYNC", "CAPABILITY_SYNC", "CAPABILITY_PROVISION"])
        self.assertEqual(by_id["role"]["capabilities"],
                         ["CAPABILITY_TARGETED_SYNC", "CAPABILITY_SYNC", "CAPABILITY_PROVISION"])
        self.assertEqual(by_id["user"]["capabilities"],
                         ["CAPABILITY_TARGETED_SYNC", "CAPABILITY_SYNC",
                          "CAPABILITY_ACCOUNT_PROVISIONING", "CAPABILITY_RESOURCE_DELETE"])
        self.assertEqual(by_id["resource"]["capabilities"], ["CAPABILITY_SYNC"])
        self.assertEqual(caps["connectorCapabilities"],
                         ["CAPABILITY_PROVISION", "CAPABILITY_SYNC", "CAPABILITY_ACCOUNT_PROVISIONING",
                          "CAPABILITY_RESOURCE_DELETE", "CAPABILITY_TARGETED_SYNC",
                          "CAPABILITY_SERVICE_MODE_TARGETED_SYNC"])
        self.assertEqual(by_id["user"]["resourceType"]["annotations"][0]["@type"],
                         "type.googleapis.com/c1.connector.v2.SkipEntitlementsAndGrants")
        self.assertEqual(by_id["group"]["resourceType"]["traits"], ["TRAIT_GROUP"])
        # Types that only an opt-in setting syncs say so; the default ones do not.
        self.assertEqual({t for t, c in by_id.items() if c.get("optInRequired")},
                         {"service_account", "resource"})

    def test_config_schema(self):
        r = run(["config"])
        self.assertEqual(r.returncode, 0, r.stderr)
        schema = json.loads(r.stdout)
        fields = {f["name"]: f for f in schema["fields"]}
        self.assertTrue(fields["api-key"]["isSecret"])
        self.assertTrue(fields["api-key"]["isRequired"])
        # C1's form asks for the two fields of the setup guide; api-url is an ops override.
        self.assertTrue(fields["domain"]["isRequired"])
        self.assertNotIn("isRequired", fields["api-url"])
        self.assertTrue(fields["api-url"]["isOps"])
        # Required, or one of AT_LEAST_ONE(domain, api-url): not both (issue 19).
        self.assertNotIn("constraints", schema)
        self.assertEqual(fields["api-key"]["displayName"], "API key")
        self.assertEqual(fields["api-url"]["displayName"], "API URL")
        self.assertEqual(fields["domain"]["displayName"], "Domain")
        # The runtime's operator settings are ops fields of the schema.
        for name, kind, default in (("reads-per-minute", "intField", None),
                                    ("http-timeout-seconds", "intField", "60"),
                                    ("log-format", "stringField", None),
                                    ("skip-full-sync", "boolField", None),
                                    ("health-check-port", "intField", "8081")):
            self.assertTrue(fields[name]["isOps"], name)
            self.assertEqual(fields[name][kind].get("defaultValue"), default, name)
            self.assertNotIn("isRequired", fields[name])
        self.assertEqual(fields["http-timeout-seconds"]["displayName"], "HTTP timeout (seconds)")
        self.assertFalse(any(f["displayName"].startswith(("Api", "Http")) for f in schema["fields"]))
        self.assertEqual(fields["include-service-accounts"]["boolField"], {})  # false is left out
        self.assertEqual(fields["log-level"]["stringField"], {"defaultValue": "info"})

    def test_unknown_flag(self):
        r = run(["--domian", "acme"], cwd=self.dir)
        self.assert_one_line_error(r, "unknown flag: --domian")

    def test_missing_required_field(self):
        r = run(["--domain", "acme"], cwd=self.dir)
        self.assert_one_line_error(r, "required flag --api-key is missing")

    def test_unreadable_scripts_dir(self):
        r = run(["--scripts-dir", os.path.join(self.dir, "nope")], cwd=self.dir)
        self.assert_one_line_error(r, "is not a readable directory")

    def copy_scripts(self):
        dst = os.path.join(self.dir, "scripts")
        shutil.copytree(os.path.join(ROOT, "scripts"), dst)
        return dst

    def test_script_syntax_error_names_file_and_line(self):
        scripts = self.copy_scripts()
        with open(os.path.join(scripts, "twingate", "init.lua"), "a") as f:
            f.write("\nthis is not lua\n")
        r = run(["--scripts-dir", scripts, "--api-key", "k", "--domain", "d"], cwd=self.dir)
        self.assert_one_line_error(r, "init.lua:")

    def test_script_returning_the_wrong_shape(self):
        override = os.path.join(self.dir, "scripts")
        os.makedirs(os.path.join(override, "twingate"))
        with open(os.path.join(override, "twingate", "init.lua"), "w") as f:
            f.write("return { api_version = 1, name = 'x', display_name = 'X', config = {},\n"
                    "  resource_types = { { id = 'user', traits = {'user'} } }, sync = function() end }\n")
        r = run(["--scripts-dir", override], cwd=self.dir)
        self.assert_one_line_error(r, "field 'resource_types[1].display_name' must be a string")

    def test_api_version_mismatch(self):
        scripts = self.copy_scripts()
        path = os.path.join(scripts, "twingate", "init.lua")
        with open(path) as f:
            text = f.read()
        with open(path, "w") as f:
            f.write(text.replace("api_version = 1", "api_version = 2", 1))
        r = run(["--scripts-dir", scripts, "capabilities"], cwd=self.dir)
        self.assert_one_line_error(r, "targets runtime API version 2")

    def test_edited_override_changes_the_mapping_without_rebuild(self):
        scripts = self.copy_scripts()
        out = os.path.join(self.dir, "sync.c1z")
        path = os.path.join(scripts, "twingate", "roles.lua")
        with open(path) as f:
            text = f.read()
        self.assertIn('"Access Reviewer"', text)
        with open(path, "w") as f:
            f.write(text.replace('"Access Reviewer"', '"Reviewer of Access"'))
        with MockServer(tenant="demo") as m:
            r = sync_against(m, out, extra=["--scripts-dir", scripts, "--log-level", "debug"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertIn(os.path.join(scripts, "twingate", "roles.lua"), r.stderr)
        with C1Z(out) as f:
            self.assertEqual(f.resources("role")["access_reviewer"], "Reviewer of Access")

    def test_fake_runtime_matches_the_real_modules(self):
        r = run(["api-names"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout), fake_api_names())


if __name__ == "__main__":
    unittest.main()
