"""The busted fake runtime behaves like the binary: the shared contract cases
(tests/lua/fixtures/contract_cases.lua, also run by contract_cases_spec.lua
against the fake) give the same outcome in the C runtime, in the load, sync and
provisioning phases, and graphql.stats() has the same keys in both."""

import json
import os
import shutil
import subprocess
import tempfile
import unittest

from harness import ROOT, MockServer, run, sync_against

CASES = os.path.join(ROOT, "tests", "lua", "fixtures", "contract_cases.lua")

# An entry script extending the bundled one: runs every case of a phase where
# that phase happens and logs "case <name>: ok" or "case <name>: raised <error>".
INIT = """local connector = require "bundled:twingate"
local emit, config, log = require "bt.emit", require "bt.config", require "bt.log"
local CASES = require "contract_cases"
local function run(phase)
  for _, case in ipairs(CASES) do
    if case.phase == phase then
      local env = setmetatable({ emit = emit, config = config, log = log }, { __index = _G })
      local ok, err = pcall(load(case.code, "=" .. case.name, "t", env))
      log.info("case " .. case.name .. ": " .. (ok and "ok" or "raised " .. tostring(err)))
    end
  end
end
run("load")
connector.sync = function()
  run("sync")
  local keys = {}
  for k in pairs(require("bt.graphql").stats()) do keys[#keys + 1] = k end
  table.sort(keys)
  log.info("stats keys: " .. table.concat(keys, ","))
  return true
end
connector.delete_resource = function() run("provision") return { message = "probed" } end
return connector
"""


def lua_json(code):
    full = ("package.path = '%s/tests/lua/?.lua;' .. package.path\n" % ROOT) + code
    out = subprocess.run(["lua5.4", "-e", full], capture_output=True, text=True, check=True)
    return json.loads(out.stdout)


def outcomes(stderr):
    """{case name: "ok" | "raised <error>"} from the log lines."""
    out = {}
    for line in stderr.splitlines():
        at = line.find("case ")
        if at >= 0 and ": " in line[at:]:
            name, result = line[at + 5:].split(": ", 1)
            out[name] = result
    return out


class ParityTest(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.cases = lua_json("print(require('cjson').encode(dofile('%s')))" % CASES)
        cls.tmp = tempfile.mkdtemp(prefix="bt-parity-")
        os.makedirs(os.path.join(cls.tmp, "scripts", "twingate"))
        shutil.copy(CASES, os.path.join(cls.tmp, "scripts", "contract_cases.lua"))
        with open(os.path.join(cls.tmp, "scripts", "twingate", "init.lua"), "w") as f:
            f.write(INIT)
        cls.scripts = os.path.join(cls.tmp, "scripts")

    @classmethod
    def tearDownClass(cls):
        shutil.rmtree(cls.tmp, ignore_errors=True)

    def check(self, got, phases):
        cases = [c for c in self.cases if c["phase"] in phases]
        self.assertTrue(cases)
        for case in cases:
            with self.subTest(case=case["name"]):
                result = got.get(case["name"])
                self.assertIsNotNone(result, "case did not run")
                if case.get("raises"):
                    self.assertTrue(result.startswith("raised "), result)
                    self.assertIn(case["raises"], result)
                else:
                    self.assertEqual("ok", result)

    def test_cases_agree_in_sync_and_load(self):
        with MockServer(tenant="demo") as mock:
            r = sync_against(mock, os.path.join(self.tmp, "out.c1z"),
                             ["--scripts-dir", self.scripts])
        self.assertEqual(0, r.returncode, r.stderr)
        self.check(outcomes(r.stderr), {"load", "sync"})

    def test_cases_agree_in_provisioning(self):
        r = run(["--scripts-dir", self.scripts, "--api-url", "http://127.0.0.1:9/api/graphql/",
                 "--delete-resource", "x", "--delete-resource-type", "user",
                 "--log-format", "console"], env={"BATON_API_KEY": "k"})
        self.assertEqual(0, r.returncode, r.stderr)
        self.check(outcomes(r.stderr), {"provision"})

    def test_stats_keys_agree(self):
        with MockServer(tenant="demo") as mock:
            r = sync_against(mock, os.path.join(self.tmp, "stats.c1z"),
                             ["--scripts-dir", self.scripts])
        line = [l for l in r.stderr.splitlines() if "stats keys: " in l][0]
        runtime = line.split("stats keys: ", 1)[1].split(",")
        fake = lua_json("local f = require 'helpers.fake_runtime'; local rt = f.install{}\n"
                        "local keys = {}\n"
                        "for k in pairs(require('bt.graphql').stats()) do keys[#keys + 1] = k end\n"
                        "table.sort(keys); print(require('cjson').encode(keys))")
        self.assertEqual(runtime, fake)
        self.assertIn("retries_decode", fake)


if __name__ == "__main__":
    unittest.main()
