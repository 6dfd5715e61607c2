-- A tenant that changes during the sync, and pages that break a connection's
-- shape: a member the users list missed is fetched (or its grant dropped and
-- counted), a broken nested first page is asked for again, a broken page
-- fails the sync instead of being read as fewer nodes. The principal tracker
-- serves the group side (membership-side=groups); on the user side (the
-- default) users are emitted as they are read, and a membership of a group
-- the group list did not hold is dropped and counted.
local fake = require "helpers.fake_runtime"

local function user(n, role)
  return { id = "U" .. n, firstName = "First" .. n, lastName = "Last", email = "u" .. n .. "@acme.test",
    role = role or "MEMBER", state = "ACTIVE", type = "MANUAL", isAdmin = false,
    createdAt = "2024-01-01T00:00:00.000000+00:00" }
end

local function page(nodes, more, cursor)
  local edges = {}
  for i, n in ipairs(nodes) do edges[i] = { cursor = "c" .. i, node = n } end
  return { pageInfo = { hasNextPage = more or false, endCursor = cursor or (#nodes > 0 and "c" .. #nodes or nil) },
    edges = edges }
end

local function member_ids(...)
  local out = {}
  for _, n in ipairs{ ... } do out[#out + 1] = { id = "U" .. n } end
  return out
end

local function group(id, members)
  return { id = id, name = "Group " .. id, type = "MANUAL", isActive = true,
    createdAt = "2024-01-01T00:00:00.000000+00:00", users = members }
end

describe("concurrent change and broken pages, group side", function()
  local rt, Q
  before_each(function()
    rt = fake.install{ config = { domain = "acme" } }
    Q = require "twingate.queries"
  end)
  after_each(fake.uninstall)

  local function users(list)
    rt:answer{ query = Q.USERS, variables = { first = 100 }, data = { users = page(list) } }
  end

  local function groups(list)
    rt:answer{ query = Q.GROUPS, variables = { first = 100 }, data = { groups = page(list) } }
  end

  local function sync()
    rt.phase = "sync"
    rt.config["membership-side"] = "groups"
    return require("twingate").sync()
  end

  it("fails with decode on a users page holding a null node, emitting nothing of it", function()
    local broken = page{ user(1), user(2) }
    broken.edges[2].node = nil
    rt:answer{ query = Q.USERS, variables = { first = 100 }, data = { users = broken } }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.equal("decode", err.kind)
    assert.truthy(err.message:find("edges[1].node is null", 1, true), err.message) -- from 0
    assert.is_nil(rt:resource("user", "U1"))
  end)

  it("asks again for a group's members when the nested first page is broken", function()
    users{ user(1), user(2) }
    local nested = page(member_ids(1, 2))
    nested.edges = nil -- `edges: null`: once read as "no members"
    groups{ group("G1", nested) }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "G1", first = 100 },
      data = { group = { users = page(member_ids(1, 2)) } } }
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.truthy(rt:grant("group:G1:member:user:U1"))
    assert.truthy(rt:grant("group:G1:member:user:U2"))
    assert.equal(1, #rt:logged("warn", "members of group Group G1: the first page in the answer is not usable"))
  end)

  it("fetches a member the users list missed, with its role grant", function()
    users{ user(1) }
    groups{ group("Everyone", page(member_ids(1, 2))) }
    rt:answer{ query = Q.USER, variables = { id = "U2" }, data = { user = user(2, "DEVOPS") } }
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.truthy(rt:resource("user", "U2"))
    assert.truthy(rt:grant("role:devops:member:user:U2"))
    assert.truthy(rt:grant("group:Everyone:member:user:U2"))
    assert.same({}, rt.skipped)
  end)

  it("drops and counts the grants of a member deleted during the sync, fetching it once", function()
    users{ user(1) }
    groups{ group("G1", page(member_ids(1, 9))), group("G2", page(member_ids(9))) }
    rt:answer{ query = Q.USER, variables = { id = "U9" }, data = { user = require("helpers.fixtures").NULL } }
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.equal(1, #rt:requests_of(Q.USER))
    assert.is_nil(rt:grant("group:G1:member:user:U9"))
    assert.truthy(rt:grant("group:G1:member:user:U1"))
    assert.same({ principal_deleted_during_sync = 2 }, rt.skipped)
    assert.equal(2, #rt:logged("warn", "to user U9 left out"))
  end)

  -- issue 17: only an explicit null is "deleted"; an answer without the
  -- field, or a user of the wrong shape, fails the sync instead of dropping grants
  it("fails on a member fetch answered without the field, counting nothing as deleted", function()
    for _, data in ipairs{ {}, { user = { id = "U9", firstName = { 1, "x" } } } } do
      fake.uninstall()
      rt = fake.install{ config = { domain = "acme" } }
      users{ user(1) }
      groups{ group("G1", page(member_ids(1, 9))) }
      rt:answer{ query = Q.USER, variables = { id = "U9" }, data = data }
      local ok, err = sync()
      assert.is_nil(ok)
      assert.equal("decode", err.kind)
      assert.same({}, rt.skipped)
    end
  end)

  it("fails with decode on a group whose name is not a string, writing none of it", function()
    users{ user(1) }
    local g = group("G1", page(member_ids(1)))
    g.name = { 0, 0, 0 }
    groups{ g }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.equal("decode", err.kind)
    assert.matches("edges[0].node: name is not a string", err.message, 1, true)
    assert.is_nil(rt:resource("group", "G1"))
  end)

  it("repairs a name that is not valid UTF-8, with a warning, and counts a user without a role", function()
    local u = user(1)
    u.firstName = "Al\xED\xA0\x80ce"
    local v = user(2)
    v.role = nil
    users{ u, v }
    groups{}
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.equal("Al\u{FFFD}ce Last", rt:resource("user", "U1").display_name)
    assert.equal(1, #rt:logged("warn", "user U1: firstName is not valid UTF-8"))
    assert.same({ no_role = 1 }, rt.skipped)
  end)

  it("stops fetching at the cap and counts what it left out", function()
    users{ user(1) }
    groups{ group("G1", page(member_ids(1, 2, 3))) }
    require("twingate.principals").FETCH_CAP = 1
    rt:answer{ query = Q.USER, variables = { id = "U2" }, data = { user = user(2) } }
    local ok, err = sync()
    require("twingate.principals").FETCH_CAP = 200
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.truthy(rt:grant("group:G1:member:user:U2"))
    assert.is_nil(rt:grant("group:G1:member:user:U3"))
    assert.same({ principal_fetch_cap = 1 }, rt.skipped)
  end)

  it("fails the sync when fetching a missing member fails", function()
    users{ user(1) }
    groups{ group("G1", page(member_ids(2))) }
    rt:answer{ query = Q.USER, variables = { id = "U2" },
      fail = { kind = "server", message = "bad gateway", status = 502 } }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.equal("server", err.kind)
  end)
end)

describe("concurrent change and broken pages, user side", function()
  local rt, Q
  before_each(function()
    rt = fake.install{ config = { domain = "acme" } }
    Q = require "twingate.queries"
  end)
  after_each(fake.uninstall)

  local function groups(list)
    rt:answer{ query = Q.GROUP_LIST, variables = { first = 100 }, data = { groups = page(list) } }
  end

  local function users(list)
    rt:answer{ query = Q.USERS_WITH_GROUPS, variables = { first = 100 }, data = { users = page(list) } }
  end

  local function with_groups(u, ids)
    local nodes = {}
    for i, id in ipairs(ids) do nodes[i] = { id = id } end
    u.groups = page(nodes)
    return u
  end

  local function sync()
    rt.phase = "sync"
    return require("twingate").sync()
  end

  it("fails with decode on a users page holding a null node, emitting nothing of it", function()
    groups{ group("G1") }
    local broken = page{ with_groups(user(1), {}), with_groups(user(2), {}) }
    broken.edges[2].node = nil
    rt:answer{ query = Q.USERS_WITH_GROUPS, variables = { first = 100 }, data = { users = broken } }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.equal("decode", err.kind)
    assert.truthy(err.message:find("edges[1].node is null", 1, true), err.message) -- from 0
    assert.is_nil(rt:resource("user", "U1"))
  end)

  it("asks again for a user's groups when the nested first page is broken", function()
    groups{ group("G1"), group("G2") }
    local u = with_groups(user(1), { "G1", "G2" })
    u.groups.edges = nil -- `edges: null`: once read as "in no group"
    users{ u }
    rt:answer{ query = Q.USER_GROUPS, variables = { id = "U1", first = 100 },
      data = { user = { groups = page{ { id = "G1" }, { id = "G2" } } } } }
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.truthy(rt:grant("group:G1:member:user:U1"))
    assert.truthy(rt:grant("group:G2:member:user:U1"))
    assert.equal(1, #rt:logged("warn", "groups of user U1: the first page in the answer is not usable"))
  end)

  it("drops and counts a membership of a group created after the group list was read", function()
    groups{ group("G1") }
    users{ with_groups(user(1), { "G1", "G9" }), with_groups(user(2), { "G9" }) }
    local ok, err = sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.truthy(rt:grant("group:G1:member:user:U1"))
    assert.is_nil(rt:grant("group:G9:member:user:U1"))
    assert.same({ group_not_emitted = 2 }, rt.skipped)
    assert.same({}, rt:requests_of(Q.USER))
  end)
end)
