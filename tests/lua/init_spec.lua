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

  it("declares the three connection flags, the opt-in switches, the membership side and page-batch", function()
    assert.same({
      { name = "api-key", display_name = "API key", help = "The Twingate API key",
        required = true, secret = true },
      { name = "domain", help = "Your Twingate network domain, e.g. acme.twingate.com or acme",
        required = true, required_unless = "api-url" },
      { name = "api-url", display_name = "API URL", ops = true,
        help = "GraphQL endpoint; default https://<domain>/api/graphql/ (tests, proxies)" },
      { name = "include-service-accounts", type = "bool", default = "false",
        help = "Also sync service accounts (resource type service_account)" },
      { name = "include-network-resources", type = "bool", default = "false",
        help = "Also sync network resources (resource type resource) and who can access them" },
      { name = "membership-side", default = "users", ops = true,
        help = "Read group memberships from the users (User.groups) or the groups (Group.users); "
          .. "users costs fewer requests unless users sit in more groups than groups hold members" },
      { name = "page-batch", type = "int", default = "1", ops = true,
        help = "Pages read in one request (1-50): the users and groups lists are split by the "
          .. "first characters of names and read in parallel parts (README: Batched paging)" },
    }, connector.config)
  end)

  it("declares the resource types and their capabilities", function()
    assert.same({
      { id = "user", display_name = "User", traits = { "user" }, skip_entitlements_and_grants = true,
        account_provisioning = true, resource_delete = true, targeted_sync = true,
        sync = "twingate.users" },
      { id = "group", display_name = "Group", traits = { "group" }, provision = true,
        targeted_sync = true, sync = "twingate.groups" },
      { id = "role", display_name = "Role", traits = { "role" }, provision = true,
        targeted_sync = true, sync = "twingate.roles" },
      { id = "service_account", display_name = "Service Account", traits = { "user" },
        description = "A Twingate service account: a non-human identity with API keys",
        skip_entitlements_and_grants = true, opt_in = "include-service-accounts",
        sync = "twingate.service_accounts" },
      { id = "resource", display_name = "Resource", traits = {},
        description = "A Twingate network resource (Network, SSH or Kubernetes) and who can access it",
        opt_in = "include-network-resources", sync = "twingate.resources" },
    }, connector.resource_types)
  end)

  it("names an opt-in setting for each declared type it does not always sync", function()
    local names = {}
    for _, field in ipairs(connector.config) do names[field.name] = field end
    local optional = 0
    for _, rt in ipairs(connector.resource_types) do
      local option = rt.opt_in
      if option then
        optional = optional + 1
        assert.same({ "bool", "false" }, { names[option].type, names[option].default }, option)
      end
    end
    assert.equal(2, optional)
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

  it("names a sync module with a sync function for every resource type", function()
    for _, rt in ipairs(connector.resource_types) do
      assert.is_function(sandbox.new()(rt.sync).sync, rt.id)
    end
  end)

  it("opens every bundled script with a header saying what it maps and how to change it", function()
    for _, name in ipairs{ "twingate/init", "twingate/queries", "twingate/client", "twingate/sync",
        "twingate/users", "twingate/groups", "twingate/roles", "twingate/provisioning",
        "twingate/service_accounts", "twingate/resources", "twingate/principals",
        "twingate/targets", "lib/text", "lib/ids", "lib/page", "lib/scope" } do
      local f = assert(io.open(sandbox.SCRIPTS .. name .. ".lua", "rb"))
      local head = f:read("l") .. "\n" .. f:read("l") .. "\n" .. f:read("l")
      f:close()
      assert.matches("^%-%- ", head, nil, false, name)
      assert.truthy(head:find("--scripts-dir", 1, true) and (head:find("[Cc]opy") or head:find("[Ee]xtend")),
        name .. ": " .. head)
    end
  end)
end)
