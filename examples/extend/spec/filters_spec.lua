-- Run with: ./dev test-scripts examples/extend
-- The filter recipes: users.keep skips DISABLED users, groups.map drops Contractors.
local fake = require "helpers.fake_runtime"

local function edge(node) return { node = node } end
local function page(list) return { totalCount = #list, pageInfo = { hasNextPage = false },
  edges = list } end

describe("filter recipes", function()
  local rt, Q, connector
  before_each(function()
    rt = fake.install{ config = { domain = "acme" } }
    connector = require "twingate"   -- first: the overrides add their fields to Q.FIELDS
    Q = require "twingate.queries"
  end)
  after_each(fake.uninstall)

  local function user(id, state, groups)
    local edges = {}
    for i, gid in ipairs(groups) do edges[i] = edge{ id = gid } end
    return { id = id, firstName = "U", lastName = id, email = id .. "@acme.test", role = "MEMBER",
      state = state, type = "MANUAL", isAdmin = false, createdAt = "2024-01-01T00:00:00Z",
      updatedAt = "2024-01-02T00:00:00Z", groups = page(edges) }
  end
  local function group(id, name)
    return { id = id, name = name, type = "MANUAL", isActive = true, originId = nil,
      createdAt = "2024-01-01T00:00:00Z", users = { totalCount = 2 } }
  end

  it("leaves disabled users and the Contractors group out, with their grants", function()
    rt:answer{ query = Q.GROUP_LIST, variables = { first = 100 }, data = { groups = page{
      edge(group("R1", "Engineering")), edge(group("R2", "Contractors")) } } }
    rt:answer{ query = Q.USERS_WITH_GROUPS, variables = { first = 100 }, data = { users = page{
      edge(user("U1", "ACTIVE", { "R1", "R2" })), edge(user("U2", "DISABLED", { "R1" })) } } }
    rt:answer{ query = require("twingate.remote_networks").QUERY, variables = { first = 100 },
      data = { remoteNetworks = page{} } }
    assert.is_true(connector.sync())
    assert.truthy(rt:resource("user", "U1"))
    assert.is_nil(rt:resource("user", "U2"))
    assert.is_nil(rt:resource("group", "R2"))
    assert.truthy(rt:grant("group:R1:member:user:U1"))
    assert.is_nil(rt:grant("group:R1:member:user:U2"))
    assert.is_nil(rt:grant("group:R2:member:user:U1"))
    assert.same({ user = 1, group = 1 }, rt.filtered)
    assert.same({}, rt.skipped)
    assert.same({}, rt:unused())
  end)
end)
