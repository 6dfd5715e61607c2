-- The keep hook (API.md "keep"): a type module's keep(node) returning false,
-- or its map returning nil, leaves the node out with every grant naming it,
-- on the user side, the group side, principal fetches, targeted syncs and
-- provisioning; counted as filtered (apart from skipped), at no extra request.
local fake = require "helpers.fake_runtime"
local tenant = require "helpers.tenant"

-- 10 users (3 and 4 DISABLED); Everyone (SYSTEM, all 10), group 2 (users 1-5),
-- group 3 (users 1-2); resource 1 open to groups 1-3 and service account 1.
local function model()
  local t = tenant.build{ users = 10,
    groups = { { members = 10, type = "SYSTEM", name = "Everyone" }, { members = 5 },
      { members = 2, name = "Contractors" } },
    service_accounts = { { keys = 1 }, { keys = 1, name = "Old robot" } },
    resources = { { groups = 3, service_accounts = 2 } } }
  t.users[3].state, t.users[4].state = "DISABLED", "DISABLED"
  return t
end

local function not_disabled(node) return node.state ~= "DISABLED" end

local function names(rt)
  local out = {}
  for _, r in ipairs(rt.requests) do out[#out + 1] = r.name end
  return out
end

local function has_grant_of(rt, ptype, id)
  for _, g in ipairs(rt.rows.grants) do
    if g.principal.type == ptype and g.principal.id == id then return true end
  end
  return false
end

local function has_grant_on(rt, rtype, id)
  for _, g in ipairs(rt.rows.grants) do
    if g.resource.type == rtype and g.resource.id == id then return true end
  end
  return false
end

-- Every grant's principal and resource were emitted (as the runtime's commit checks).
local function no_dangling(rt)
  for _, g in ipairs(rt.rows.grants) do
    assert.truthy(rt:resource(g.principal.type, g.principal.id), "grant " .. g.id)
    assert.truthy(rt:resource(g.resource.type, g.resource.id), "grant " .. g.id)
  end
end

-- Runs one sync twice on the same tenant: without hooks, then with hooks(modules).
local function twice(config, opts, hooks)
  local t = model()
  local runs = {}
  for i = 1, 2 do
    local rt = fake.install{ config = config }
    rt.handler = tenant.handler(t)
    if i == 2 then
      hooks{ users = require "twingate.users", groups = require "twingate.groups",
        service_accounts = require "twingate.service_accounts",
        resources = require "twingate.resources" }
    end
    local ok, err = require("twingate").sync(opts)
    assert.is_true(ok, tostring(err))
    runs[i] = rt
  end
  return runs[1], runs[2], t
end

local FULL = { domain = "acme", ["include-service-accounts"] = "true",
  ["include-network-resources"] = "true" }
local GROUP_SIDE = { domain = "acme", ["membership-side"] = "groups",
  ["include-service-accounts"] = "true", ["include-network-resources"] = "true" }

describe("keep", function()
  after_each(fake.uninstall)

  for _, side in ipairs{ { "the user side", FULL }, { "the group side", GROUP_SIDE } } do
    it("users.keep false leaves users and their grants out on " .. side[1]
        .. ", in the same requests", function()
      local plain, kept, t = twice(side[2], nil, function(m) m.users.keep = not_disabled end)
      assert.same(names(plain), names(kept))
      for _, i in ipairs{ 3, 4 } do
        assert.is_nil(kept:resource("user", t.users[i].id))
        assert.is_false(has_grant_of(kept, "user", t.users[i].id))
        assert.is_true(has_grant_of(plain, "user", t.users[i].id))
      end
      assert.truthy(kept:resource("user", t.users[5].id))
      assert.same({ user = 2 }, kept.filtered)
      assert.same({}, kept.skipped)
      assert.same({}, kept:logged(nil, "changed during the sync"))
      -- 2 users x (Everyone, group 2, role) grants fewer
      assert.equal(#plain.rows.grants - 6, #kept.rows.grants)
      no_dangling(kept)
    end)

    it("groups.keep false leaves a group, its entitlement, memberships and access out on "
        .. side[1], function()
      local plain, kept, t = twice(side[2], nil, function(m)
        function m.groups.keep(node) return node.name ~= "Contractors" end
      end)
      local gid = t.groups[3].id
      assert.same(names(plain), names(kept))
      assert.is_nil(kept:resource("group", gid))
      assert.is_nil(kept:entitlement("group:" .. gid .. ":member"))
      assert.is_false(has_grant_on(kept, "group", gid))
      assert.is_false(has_grant_of(kept, "group", gid))
      assert.is_true(has_grant_of(plain, "group", gid))
      assert.same({ group = 1 }, kept.filtered)
      assert.same({}, kept.skipped)
      no_dangling(kept)
    end)
  end

  it("service_accounts.keep and resources.keep leave accounts and resources out", function()
    local _, kept, t = twice(FULL, nil, function(m)
      function m.service_accounts.keep(node) return node.name ~= "Old robot" end
      function m.resources.map() return nil end
    end)
    assert.is_nil(kept:resource("service_account", t.service_accounts[2].id))
    assert.truthy(kept:resource("service_account", t.service_accounts[1].id))
    assert.is_nil(kept:resource("resource", t.resources[1].id))
    assert.equal(0, #kept:requests_of(require("twingate.queries").RESOURCE_ACCESS))
    assert.same({ service_account = 1, resource = 1 }, kept.filtered)
    assert.same({}, kept.skipped)
    no_dangling(kept)
  end)

  it("a group's access to a filtered service account is left out without a skip", function()
    local _, kept, t = twice(FULL, nil, function(m)
      function m.service_accounts.keep(node) return node.name ~= "Old robot" end
    end)
    assert.is_false(has_grant_of(kept, "service_account", t.service_accounts[2].id))
    assert.is_true(has_grant_of(kept, "service_account", t.service_accounts[1].id))
    assert.same({}, kept.skipped)
  end)

  it("users.map returning nil means keep false", function()
    local plain, kept, t = twice(FULL, nil, function(m)
      local map = m.users.map
      function m.users.map(node)
        if node.state == "DISABLED" then return nil end
        return map(node)
      end
    end)
    assert.same(names(plain), names(kept))
    assert.is_nil(kept:resource("user", t.users[3].id))
    assert.is_false(has_grant_of(kept, "user", t.users[3].id))
    assert.same({ user = 2 }, kept.filtered)
    no_dangling(kept)
  end)

  it("a keep returning something else than a boolean fails naming the hook", function()
    local rt = fake.install{ config = { domain = "acme" } }
    rt.handler = tenant.handler(model())
    require("twingate.users").keep = function() end
    local ok, err = pcall(require("twingate").sync)
    assert.is_false(ok)
    assert.matches("twingate.users.keep(node) must return true or false, not nil", tostring(err), 1, true)
  end)

  describe("targeted", function()
    it("--sync-resources group:Everyone writes no grant for filtered users, "
        .. "in the same requests", function()
      local t = model()
      local opts = { targets = { { type = "group", id = t.groups[1].id } } }
      local plain, kept = twice(FULL, opts, function(m) m.users.keep = not_disabled end)
      assert.same({ "Group" }, names(plain))       -- members as ids without a hook
      assert.same({ "GroupKeep" }, names(kept))    -- with their user fields: the same request
      assert.equal(10, #plain.rows.grants)
      assert.equal(8, #kept.rows.grants)
      for _, i in ipairs{ 3, 4 } do assert.is_false(has_grant_of(kept, "user", t.users[i].id)) end
      assert.same({ user = 2 }, kept.filtered)
    end)

    it("pages a long member list with the user fields too", function()
      local t = tenant.build{ users = 150, groups = { { members = 150 } } }
      for i = 101, 110 do t.users[i].state = "DISABLED" end
      local rt = fake.install{ config = FULL }
      rt.handler = tenant.handler(t)
      require("twingate.users").keep = not_disabled
      assert.is_true(require("twingate").sync{ targets = { { type = "group", id = t.groups[1].id } } })
      assert.same({ "GroupKeep", "GroupMembersKeep" }, names(rt))
      assert.equal(140, #rt.rows.grants)
      assert.same({ user = 10 }, rt.filtered)
    end)

    it("--sync-resources role:member writes no grant for filtered holders", function()
      local plain, kept, t = twice(FULL, { targets = { { type = "role", id = "member" } } },
        function(m) m.users.keep = not_disabled end)
      assert.same({ "RoleHolders" }, names(plain))
      assert.same({ "RoleHoldersKeep" }, names(kept))
      assert.equal(#plain.rows.grants - 2, #kept.rows.grants)
      assert.is_false(has_grant_of(kept, "user", t.users[3].id))
    end)

    it("--sync-resources role:member refuses a holder whose fields are damaged, "
        .. "as the full sync does", function()
      local t = model()
      t.users[2].state = { "DISABLED" } -- not a string: keep must not see it
      local rt = fake.install{ config = FULL }
      rt.handler = tenant.handler(t)
      local seen = {}
      require("twingate.users").keep = function(n) seen[#seen + 1] = type(n.state); return true end
      local ok, err = require("twingate").sync{ targets = { { type = "role", id = "member" } } }
      assert.is_nil(ok)
      assert.equal("decode", err.kind)
      assert.matches("state is not a string", err.message, 1, true)
      for _, kind in ipairs(seen) do assert.equal("string", kind) end
    end)

    it("--sync-resources user:<filtered> writes no user", function()
      local t = model()
      local _, kept = twice(FULL, { targets = { { type = "user", id = t.users[3].id } } },
        function(m) m.users.keep = not_disabled end)
      assert.equal(0, #kept.rows.resources)
      assert.same({ user = 1 }, kept.filtered)
    end)

    it("--sync-resources group:<filtered> writes no group", function()
      local t = model()
      local _, kept = twice(FULL, { targets = { { type = "group", id = t.groups[3].id } } },
        function(m) function m.groups.keep(node) return node.name ~= "Contractors" end end)
      assert.equal(0, #kept.rows.resources + #kept.rows.entitlements + #kept.rows.grants)
      assert.same({ group = 1 }, kept.filtered)
    end)
  end)

  it("a member who joined during the sync and is filtered is fetched once, without a grant "
      .. "or a tenant-change line", function()
    local t = model()
    local late = { id = tenant.base64("User:99"), firstName = "Late", lastName = "Joiner",
      email = "late@acme.test", role = "MEMBER", state = "DISABLED", type = "MANUAL",
      isAdmin = false, createdAt = "2026-01-01T00:00:00.000000+00:00" }
    local everyone = t.members[t.groups[1].id]
    everyone[#everyone + 1] = late  -- in Everyone's member list, not in the users list
    local rt = fake.install{ config = GROUP_SIDE }
    local handler = tenant.handler(t)
    local Q = require "twingate.queries"
    rt.handler = function(query, vars)
      if query == Q.USER and vars.id == late.id then return { data = { user = late } } end
      return handler(query, vars)
    end
    require("twingate.users").keep = not_disabled
    assert.is_true(require("twingate").sync())
    assert.equal(1, #rt:requests_of(Q.USER))
    assert.is_false(has_grant_of(rt, "user", late.id))
    assert.same({ user = 3 }, rt.filtered)
    assert.same({}, rt.skipped)
    assert.same({}, rt:logged(nil, "changed during the sync"))
  end)
end)

describe("keep in provisioning", function()
  local GID, UID = "R3JvdXA6MQ==", "VXNlcjoxMDE="
  local rt, Q, connector
  before_each(function()
    rt = fake.install{ config = { domain = "acme" }, phase = "provision" }
    Q = require "twingate.queries"
    connector = require "twingate"
    require("twingate.users").keep = not_disabled
    require("twingate.groups").keep = function(node) return node.name ~= "Contractors" end
  end)
  after_each(fake.uninstall)

  local function user(state)
    return { id = UID, email = "alice@acme.test", firstName = "Alice", lastName = "A",
      role = "MEMBER", state = state, type = "MANUAL", isAdmin = false,
      groups = { pageInfo = { hasNextPage = false }, edges = {} } }
  end
  local function group(name)
    return { id = GID, name = name, type = "MANUAL", isActive = true }
  end
  local function membership(g, u)
    rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
      data = { group = g, user = u } }
  end
  local function req(rtype, rid)
    return { entitlement = { id = rtype .. ":" .. rid .. ":member", type = rtype, resource = rid,
      slug = "member" }, principal = { type = "user", id = UID } }
  end
  local function refused(result, err, what)
    assert.is_nil(result)
    assert.equal("precondition", err.kind)
    assert.matches(what .. " is left out of this connector by", tostring(err), 1, true)
    assert.same({}, rt:writes())
    assert.same({}, rt:unused())
  end

  it("refuses a membership grant to a filtered user", function()
    membership(group("Engineering"), user("DISABLED"))
    local result, err = connector.grant(req("group", GID))
    refused(result, err, "user " .. UID)
  end)

  it("refuses a membership revoke in a filtered group", function()
    membership(group("Contractors"), user("ACTIVE"))
    local r = req("group", GID)
    r.grant = r.entitlement.id .. ":user:" .. UID
    local result, err = connector.revoke(r)
    refused(result, err, "group " .. GID)
  end)

  it("refuses a role grant to a filtered user", function()
    rt:answer{ query = Q.USER, variables = { id = UID }, data = { user = user("DISABLED") } }
    local result, err = connector.grant(req("role", "admin"))
    refused(result, err, "user " .. UID)
  end)

  it("refuses to delete a filtered user", function()
    rt:answer{ query = Q.USER, variables = { id = UID }, data = { user = user("DISABLED") } }
    local result, err = connector.delete_resource{ type = "user", id = UID }
    refused(result, err, "user " .. UID)
  end)

  it("still grants to a kept user", function()
    membership(group("Engineering"), user("ACTIVE"))
    rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
      data = { groupUpdate = { ok = true } } }
    assert.is_table(connector.grant(req("group", GID)))
  end)
end)
