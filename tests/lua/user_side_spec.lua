-- Memberships read from the user side (the default): groups listed without
-- members, users with their first page of groups nested, follow-ups only for
-- users in more groups than one page holds. On recorded pages, and on
-- synthetic tenants where the request count must equal the user-side floor
-- and the rows must equal the group side's.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"
local tenant = require "helpers.tenant"

local G1, G2, G3, G4 = "R3JvdXA6MQ==", "R3JvdXA6Mg==", "R3JvdXA6Mw==", "R3JvdXA6NA=="
local ALICE, BOB, CAROL = "VXNlcjoxMDE=", "VXNlcjoxMDI=", "VXNlcjoxMDM="

local function sync(rt, opts)
  rt.phase = "sync"
  return require("twingate").sync(opts)
end

local function names(rt)
  local out = {}
  for _, r in ipairs(rt.requests) do out[#out + 1] = r.name end
  return out
end

local function member_grants(rt)
  local out = {}
  for _, g in ipairs(rt.rows.grants) do
    if g.resource.type == "group" then out[#out + 1] = g.resource.id .. " " .. g.principal.id end
  end
  table.sort(out)
  return out
end

describe("the user-side walk on recorded pages", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme" } }
    fixtures.replay(rt, "users_with_groups")
    ok, err = sync(rt)
  end)
  after_each(fake.uninstall)

  it("lists groups first, then users, then pages the long group list of one user", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.same({ "GroupList", "GroupList", "UsersWithGroups", "UsersWithGroups", "UserGroups",
      "UserGroups" }, names(rt))
    assert.same({ id = ALICE, first = 100, after = "YXJyYXljb25uZWN0aW9uOjE=" }, rt.requests[5].variables)
    assert.same({ id = ALICE, first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" }, rt.requests[6].variables)
  end)

  it("emits each group and its entitlement before any membership grant", function()
    -- entitlements written before the first grant (roles' come with their first grant)
    local before = 0
    for _, kind in ipairs(rt.sequence) do
      if kind == "grants" then break end
      if kind == "entitlements" then before = before + 1 end
    end
    local early = {}
    for i = 1, before do early[rt.rows.entitlements[i].resource.id] = true end
    for _, gid in ipairs{ G1, G2, G3 } do
      assert.is_table(rt:resource("group", gid))
      assert.truthy(rt:entitlement("group:" .. gid .. ":member"))
      assert.is_true(early[gid], gid)
    end
  end)

  it("grants every membership over every page, with the group's immutability", function()
    assert.same({ G1 .. " " .. ALICE, G2 .. " " .. ALICE, G3 .. " " .. ALICE, G3 .. " " .. BOB },
      member_grants(rt))
    assert.is_false(rt:grant("group:" .. G1 .. ":member:user:" .. ALICE).immutable)
    assert.is_true(rt:grant("group:" .. G2 .. ":member:user:" .. ALICE).immutable)
    assert.is_true(rt:grant("group:" .. G3 .. ":member:user:" .. BOB).immutable)
    assert.equal(1, rt.duplicates)   -- Everyone repeated on Alice's last page
  end)

  it("skips a group the group list did not hold, counted as group_not_emitted", function()
    assert.is_nil(rt:grant("group:" .. G4 .. ":member:user:" .. BOB))
    assert.same({ group_not_emitted = 1 }, rt.skipped)
    assert.equal(1, #rt:logged("warn", "membership of user " .. BOB .. " in group " .. G4 .. " left out"))
  end)

  it("emits every user with its role grant; a user in no group has none", function()
    for _, u in ipairs{ { ALICE, "admin" }, { BOB, "member" }, { CAROL, "devops" } } do
      assert.is_table(rt:resource("user", u[1]))
      assert.truthy(rt:grant("role:" .. u[2] .. ":member:user:" .. u[1]))
    end
    for _, g in ipairs(rt.rows.grants) do
      assert.are_not.equal(CAROL, g.resource.type == "group" and g.principal.id or nil)
    end
  end)

  it("logs what the group side would have cost, from the member counts", function()
    -- Okta Sales holds 150 members: one page beyond the first
    -- (counted at 100 per page: these recorded pages are shorter)
    assert.equal(1, #rt:logged("info", "the user side: 0 follow-up requests (the group side would have needed 1;"))
  end)
end)

describe("the user-side walk failing", function()
  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
  after_each(fake.uninstall)

  it("returns a follow-up's error unchanged and sends nothing after it", function()
    local Q = require "twingate.queries"
    rt:answer{ query = Q.USER_GROUPS,
      variables = { id = ALICE, first = 100, after = "YXJyYXljb25uZWN0aW9uOjE=" },
      fail = { kind = "rate_limited", message = "retries exhausted", status = 429 } }
    fixtures.replay(rt, "users_with_groups")
    local ok, err = sync(rt)
    assert.is_nil(ok)
    assert.equal("rate_limited: retries exhausted (HTTP 429)", tostring(err))
    assert.equal(5, #rt.requests)
  end)

  it("refuses an unknown membership-side before any request", function()
    rt.config["membership-side"] = "both"
    local ok, err = sync(rt)
    assert.is_nil(ok)
    assert.matches("membership-side must be users or groups", tostring(err), 1, true)
    assert.same({}, rt.requests)
  end)
end)

describe("the two sides on synthetic tenants", function()
  local function groups(list, n, members)
    for _ = 1, n do list[#list + 1] = { members = members } end
    return list
  end
  local TENANTS = {
    { name = "an empty tenant", users = 0, groups = {} },
    { name = "one user, one group", users = 1, groups = { { members = 1 } } },
    { name = "a giant Everyone, lists of 101 and 100, an empty group, 130 groups",
      users = 250, groups = groups({ { members = 250, type = "SYSTEM", name = "Everyone" },
        { members = 101 }, { members = 100 }, { members = 0 } }, 126, 2) },
    { name = "two users in 250 small groups", users = 50, groups = groups({}, 250, 2) },
    { name = "three users in exactly 100 and 200 groups", users = 3,
      groups = groups(groups({}, 100, 3), 100, 1) },
  }

  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
  after_each(fake.uninstall)

  local function run(model, side)
    fake.uninstall()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = side } }
    rt.handler = tenant.handler(model)
    assert.is_true(sync(rt))
    return rt
  end

  local function ids(list)
    local out = {}
    for _, row in ipairs(list) do
      out[#out + 1] = (row.id or (row.type .. ":" .. row.id)) .. (row.immutable and " immutable" or "")
    end
    table.sort(out)
    return out
  end

  for _, t in ipairs(TENANTS) do
    it("costs exactly the user-side floor and grants every membership on " .. t.name, function()
      local model = tenant.build{ users = t.users, groups = t.groups }
      run(model, "users")
      assert.equal(tenant.ideal_requests(model, 100, { side = "users" }), #rt.requests)
      for _, r in ipairs(rt.requests) do assert.equal(100, r.variables.first) end
      local want = 0
      for _, g in ipairs(model.groups) do
        for _, u in ipairs(model.members[g.id]) do
          want = want + 1
          assert.truthy(rt:grant("group:" .. g.id .. ":member:user:" .. u.id), g.name .. " " .. u.id)
        end
      end
      assert.equal(want + t.users, #rt.rows.grants)
      assert.equal(0, rt.duplicates)
    end)

    it("writes the same rows from either side on " .. t.name, function()
      local model = tenant.build{ users = t.users, groups = t.groups }
      local by_users = run(model, "users").rows
      local by_groups = run(model, "groups").rows
      assert.equal(tenant.ideal_requests(model, 100, { side = "groups" }), #rt.requests)
      for _, kind in ipairs{ "resource_types", "entitlements", "grants" } do
        assert.same(ids(by_groups[kind]), ids(by_users[kind]), kind)
      end
      local function resources(rows)
        local out = {}
        for _, r in ipairs(rows.resources) do out[r.type .. ":" .. r.id] = r end
        return out
      end
      assert.same(resources(by_groups), resources(by_users))
    end)
  end

  it("lets the cheaper side stay within floor + 1 where users sit in hundreds of small groups", function()
    local model = tenant.build{ users = 50, groups = groups({}, 250, 2) }
    local floor = math.min(tenant.ideal_requests(model, 100, { side = "users" }),
      tenant.ideal_requests(model, 100, { side = "groups" }))
    assert.is_true(tenant.ideal_requests(model, 100, { side = "users" }) > floor)
    run(model, "users")
    assert.equal(1, #rt:logged("warn", "this tenant costs 4 fewer requests with membership-side=groups"))
    run(model, "groups")
    assert.is_true(#rt.requests <= floor + 1)
  end)
end)
