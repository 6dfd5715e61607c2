-- Run with: ./dev test-scripts examples/extend
local fake = require "helpers.fake_runtime"

describe("remote networks", function()
  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
  after_each(fake.uninstall)

  it("emits one resource per network over every page", function()
    local rn = require "twingate.remote_networks"
    local page1 = { remoteNetworks = { pageInfo = { hasNextPage = true, endCursor = "c1" },
      edges = { { node = { id = "UmVtb3RlTmV0d29yazox", name = "AWS", location = "AWS",
        isActive = true } } } } }
    local page2 = { remoteNetworks = { pageInfo = { hasNextPage = false },
      edges = { { node = { id = "UmVtb3RlTmV0d29yazoy", name = "Lab", location = "OTHER",
        isActive = false } } } } }
    rt:answer{ query = rn.QUERY, variables = { first = 100 }, data = page1 }
    rt:answer{ query = rn.QUERY, variables = { first = 100, after = "c1" }, data = page2 }
    require("twingate.client").configure()
    require("bt.emit").resource_type{ id = "remote_network", display_name = "Remote Network" }
    assert.truthy(rn.sync())
    assert.equal("AWS", rt:resource("remote_network", "UmVtb3RlTmV0d29yazox").display_name)
    assert.equal("disabled", rt:resource("remote_network", "UmVtb3RlTmV0d29yazoy").status)
    assert.same({}, rt:unused())
  end)

  it("drops the Billing role and adds updated_at to users", function()
    local roles = require "twingate.roles"
    assert.is_true(roles.DROP.BILLING)
    local users = require "twingate.users"
    local r = users.map{ id = "VXNlcjox", email = "a@acme.test", updatedAt = "2024-01-02T03:04:05Z" }
    assert.equal("2024-01-02T03:04:05Z", r.user.profile.updated_at)
    assert.truthy(require("twingate.queries").USERS:find("updatedAt", 1, true))
  end)
end)
