-- lib.failure (failures shown without a script position) and the one place
-- that recognises Twingate's permission refusals (twingate.client).
local fake = require "helpers.fake_runtime"

describe("lib.failure", function()
  before_each(function() fake.install{} end)
  after_each(fake.uninstall)

  it("makes a table with a kind whose tostring is the message", function()
    local failure = require "lib.failure"
    local f = failure.new("input", "domain must be acme", { field = "domain" })
    assert.equal("input", f.kind)
    assert.equal("domain must be acme", tostring(f))
    assert.equal("domain", f.field)
    assert.equal("input", failure.input("bad id").kind)
    assert.equal("bad id", tostring(failure.input("bad id")))
    assert.equal(f, failure.input(f))
  end)
end)

describe("twingate.client.permission_refused", function()
  before_each(function() fake.install{} end)
  after_each(fake.uninstall)

  local CASES = {
    { "graphene-django's refusal", { kind = "graphql",
      errors = { { message = "You do not have permission to perform this action" } } }, true },
    { "an older wording", { kind = "graphql", errors = { { message = "Permission denied" } } }, true },
    { "HTTP 403", { kind = "auth", status = 403, message = "forbidden" }, true },
    { "HTTP 401 (a key not accepted, not a read-only one)", { kind = "auth", status = 401 }, false },
    { "another GraphQL error", { kind = "graphql", errors = { { message = "Unable to parse global ID" } } }, false },
    { "an ok:false text", "You do not have permission to perform this action", true },
    { "a transport failure", { kind = "transport", message = "timeout" }, false },
    { "nil", nil, false },
  }
  for _, c in ipairs(CASES) do
    it(c[1], function()
      assert.equal(c[3], require("twingate.client").permission_refused(c[2]))
    end)
  end
end)
