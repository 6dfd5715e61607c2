-- The shared contract cases (fixtures/contract_cases.lua) against the fake
-- runtime; tests/e2e/test_parity.py runs the same table against the binary.
local fake = require "helpers.fake_runtime"
local CASES = dofile("tests/lua/fixtures/contract_cases.lua")

describe("contract cases (fake runtime)", function()
  after_each(fake.uninstall)

  for _, case in ipairs(CASES) do
    it(case.name, function()
      fake.install{ phase = case.phase,
        config = { domain = "acme", ["include-service-accounts"] = "false" } }
      local env = setmetatable({ emit = require "bt.emit", config = require "bt.config",
        log = require "bt.log" }, { __index = _G })
      local ok, err = pcall(assert(load(case.code, "=" .. case.name, "t", env)))
      if case.raises then
        assert.is_false(ok, case.name)
        assert.truthy(tostring(err):find(case.raises, 1, true), tostring(err))
      else
        assert.is_true(ok, tostring(err))
      end
    end)
  end
end)
