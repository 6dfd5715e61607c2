-- The contract table scripts/twingate/init.lua returns (API.md, "The entry
-- script contract"), loaded under the runtime's sandbox rules.
local fake = require "helpers.fake_runtime"
local sandbox = require "helpers.sandbox"

describe("twingate contract table", function()
  local connector
  before_each(function()
    fake.install{ phase = "load" }
    connector = sandbox.new()("twingate")
  end)
  after_each(fake.uninstall)

  it("declares metadata and api_version 1", function()
    assert.equal(1, connector.api_version)
    assert.equal("baton-twingate", connector.name)
    assert.equal("Twingate", connector.display_name)
    assert.equal("Connector syncing Twingate users, groups, and roles to Baton", connector.description)
  end)

  it("declares the three flags", function()
    assert.same({
      { name = "api-key", help = "The Twingate API key", required = true, secret = true },
      { name = "domain", help = "Your Twingate network domain, e.g. acme.twingate.com or acme",
        required = true, required_unless = "api-url" },
      { name = "api-url", help = "GraphQL endpoint; default https://<domain>/api/graphql/" },
    }, connector.config)
  end)

  it("declares the resource types and their capabilities", function()
    assert.same({
      { id = "user", display_name = "User", traits = { "user" }, skip_entitlements_and_grants = true,
        account_provisioning = true, resource_delete = true },
      { id = "group", display_name = "Group", traits = { "group" }, provision = true },
      { id = "role", display_name = "Role", traits = { "role" }, provision = true },
    }, connector.resource_types)
  end)

  it("has every handler", function()
    for _, name in ipairs{ "sync", "grant", "revoke", "create_account", "delete_resource" } do
      assert.is_function(connector[name], name)
    end
  end)

  it("sends no request while loading", function()
    assert.same({}, fake.current().requests)
    assert.is_nil(fake.current().configured)
  end)

  it("opens every bundled script with a header saying what it maps and that it may be copied", function()
    for _, name in ipairs{ "twingate/init", "twingate/queries", "twingate/client", "twingate/sync",
        "twingate/users", "twingate/groups", "twingate/roles", "twingate/provisioning",
        "lib/text", "lib/ids", "lib/page" } do
      local f = assert(io.open(sandbox.SCRIPTS .. name .. ".lua", "rb"))
      local head = f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l")
      f:close()
      assert.matches("^%-%- ", head, nil, false, name)
      assert.truthy(head:find("--scripts-dir", 1, true) and head:find("[Cc]opy"), name .. ": " .. head)
    end
  end)
end)
