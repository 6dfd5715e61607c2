-- The whole sync: failures abort cleanly (nil, err, no further request), the
-- request budget on synthetic tenants, every membership becoming a grant, and
-- the opt-in types: no request when off, exact request counts when on.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"
local tenant = require "helpers.tenant"

local function sync(rt)
  rt.phase = "sync"
  return require("twingate").sync()
end

local function count(rt, rtype)
  local n = 0
  for _, r in ipairs(rt.rows.resources) do if r.type == rtype then n = n + 1 end end
  return n
end

describe("sync", function()
  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups" } } end)
  after_each(fake.uninstall)

  it("syncs an empty tenant in two requests", function()
    fixtures.replay(rt, "users_empty")
    fixtures.replay(rt, "groups_empty")
    assert.is_true(sync(rt))
    assert.equal(2, #rt.requests)
    assert.equal(3, #rt.rows.resource_types)
    assert.equal(7, count(rt, "role"))
    assert.equal(0, count(rt, "user"))
    assert.equal(0, #rt.rows.grants)
    assert.equal("https://acme.twingate.com/api/graphql/", rt.configured.url)
    assert.equal(1, #rt:logged("info", "in 2 requests"))
  end)

  it("fails without an endpoint before sending anything", function()
    rt.config = {}
    local ok, err = sync(rt)
    assert.is_nil(ok)
    assert.matches("no endpoint", tostring(err), 1, true)
    assert.same({}, rt.requests)
    assert.equal(0, #rt.rows.resource_types)
  end)

  it("fails on an errors array next to partial data and maps none of it", function()
    fixtures.replay(rt, "users_partial_error")
    local ok, err = sync(rt)
    assert.is_nil(ok)
    assert.equal("graphql", err.kind)
    assert.equal("Internal error resolving email", err.errors[1].message)
    assert.equal(1, #rt.requests)
    assert.equal(0, count(rt, "user"))
    assert.equal(0, #rt.rows.grants)
  end)

  local FAILURES = {
    { what = "a rate limit on a member follow-up", query = "GROUP_MEMBERS",
      variables = { id = "R3JvdXA6Mg==", first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
      fail = { kind = "rate_limited", message = "retries exhausted", status = 429 },
      text = "rate_limited: retries exhausted (HTTP 429)", requests = 5 },
    { what = "a server error on the second groups page", query = "GROUPS",
      variables = { first = 100, after = "YXJyYXljb25uZWN0aW9uOjM=" },
      fail = { kind = "server", message = "bad gateway", status = 502 },
      text = "server: bad gateway (HTTP 502)", requests = 4 },
    { what = "a transport error on the second users page", query = "USERS",
      variables = { first = 100, after = "YXJyYXljb25uZWN0aW9uOjM=" },
      fail = { kind = "transport", message = "connection reset" },
      text = "transport: connection reset", requests = 2 },
  }
  for _, f in ipairs(FAILURES) do
    it("returns the runtime's error unchanged on " .. f.what, function()
      rt:answer{ query = require("twingate.queries")[f.query], variables = f.variables, fail = f.fail }
      fixtures.replay(rt, "users_two_pages")
      fixtures.replay(rt, "groups_mixed")
      local ok, err = sync(rt)
      assert.is_nil(ok)
      assert.equal(f.fail.kind, err.kind)
      assert.equal(f.text, tostring(err))
      assert.equal(f.requests, #rt.requests)
    end)
  end

  it("keeps a group deleted between its member pages, counting the list cut short", function()
    local Q = require "twingate.queries"
    rt:answer{ query = Q.GROUP_MEMBERS,
      variables = { id = "R3JvdXA6Mg==", first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
      data = { group = require("helpers.fixtures").NULL } }
    fixtures.replay(rt, "users_two_pages")
    fixtures.replay(rt, "groups_mixed")
    local ok, err = sync(rt)
    assert.is_true(ok, tostring(err))
    assert.same({ owner_deleted_during_sync = 1 }, rt.skipped)
    assert.truthy(rt:resource("group", "R3JvdXA6Mg=="))
    assert.equal(1, #rt:logged("warn", "members of group Okta Sales: deleted during the sync"))
  end)

  describe("request budget", function()
    local function groups(list, n, members)
      for _ = 1, n do list[#list + 1] = { members = members } end
      return list
    end
    local TENANTS = {
      { name = "one user, one group", users = 1, groups = { { members = 1 } } },
      { name = "exactly one full page each", users = 100, groups = groups({}, 100, 3) },
      { name = "Everyone over three pages, lists of 101 and 100, an empty group, 130 groups",
        users = 250, groups = groups({ { members = 250, type = "SYSTEM", name = "Everyone" },
          { members = 101 }, { members = 100 }, { members = 0 } }, 126, 2) },
      { name = "many long lists", users = 420, groups = groups({}, 12, 420) },
    }
    for _, t in ipairs(TENANTS) do
      it("stays within ceil(U/100) + ceil(G/100) + follow-ups + 2 for " .. t.name, function()
        local model = tenant.build{ users = t.users, groups = t.groups }
        rt.handler = tenant.handler(model)
        assert.is_true(sync(rt))
        local follow = 0
        for _, g in ipairs(model.groups) do
          follow = follow + math.max(0, math.ceil(#model.members[g.id] / 100) - 1)
        end
        local budget = math.ceil(t.users / 100) + math.ceil(#t.groups / 100) + follow + 2
        assert.is_true(#rt.requests <= budget, #rt.requests .. " > " .. budget)
        assert.equal(tenant.ideal_requests(model, 100), #rt.requests)
        for _, r in ipairs(rt.requests) do assert.equal(100, r.variables.first) end
      end)

      it("grants every membership of " .. t.name, function()
        local model = tenant.build{ users = t.users, groups = t.groups }
        rt.handler = tenant.handler(model)
        assert.is_true(sync(rt))
        local want = 0
        for _, g in ipairs(model.groups) do
          for _, u in ipairs(model.members[g.id]) do
            want = want + 1
            assert.truthy(rt:grant("group:" .. g.id .. ":member:user:" .. u.id), g.name .. " " .. u.id)
          end
        end
        assert.equal(want + t.users, #rt.rows.grants)   -- plus one role grant per user
        assert.equal(t.users, count(rt, "user"))
        assert.equal(#t.groups, count(rt, "group"))
        assert.equal(0, rt.duplicates)
      end)
    end
  end)

  describe("opt-in types", function()
    local function list(n, item)
      local out = {}
      for i = 1, n do out[i] = item(i) end
      return out
    end
    -- 150 groups (Everyone first); 3 accounts, one with 250 keys; 205
    -- resources, the first with 130 groups and 3 accounts in its access list,
    -- the 101st with exactly 100 entries, every tenth with none.
    local function model()
      return tenant.build{
        users = 120, groups = list(150, function(i) return { members = i == 1 and 120 or 2 } end),
        service_accounts = { { keys = 2, revoked = 1 }, { keys = 250, revoked = 10 }, { keys = 0 } },
        resources = list(205, function(i)
          if i == 1 then return { groups = 130, service_accounts = 3 } end
          if i == 101 then return { groups = 98, service_accounts = 2 } end
          if i % 10 == 0 then return {} end
          return { groups = i % 7, service_accounts = i % 3 == 0 and 1 or 0 }
        end),
      }
    end
    local QUERIES = { "SERVICE_ACCOUNTS", "SERVICE_ACCOUNT_KEYS", "RESOURCES", "RESOURCE_ACCESS" }

    for _, off in ipairs{ { name = "unset", config = {} },
        { name = "false", config = { ["include-service-accounts"] = "false",
          ["include-network-resources"] = "false" } },
        { name = "0", config = { ["include-service-accounts"] = "0",
          ["include-network-resources"] = "0" } } } do
      it("send no extra request and emit no extra row when " .. off.name, function()
        local t = model()
        for k, v in pairs(off.config) do rt.config[k] = v end
        rt.handler = tenant.handler(t)
        assert.is_true(sync(rt))
        assert.equal(tenant.ideal_requests(t, 100), #rt.requests)
        for _, q in ipairs(QUERIES) do
          assert.same({}, rt:requests_of(require("twingate.queries")[q]), q)
        end
        assert.equal(3, #rt.rows.resource_types)
        assert.equal(0, count(rt, "service_account") + count(rt, "resource"))
      end)
    end

    local CASES = {
      { name = "both", accounts = true, resources = true },
      { name = "service accounts only", accounts = true, resources = false },
      { name = "resources only", accounts = false, resources = true },
    }
    for _, c in ipairs(CASES) do
      it("cost exactly their pages and follow-ups with " .. c.name, function()
        local t = model()
        rt.config["include-service-accounts"] = tostring(c.accounts)
        rt.config["include-network-resources"] = tostring(c.resources)
        rt.handler = tenant.handler(t)
        assert.is_true(sync(rt))
        local want = tenant.ideal_requests(t, 100, { service_accounts = c.accounts,
          resources = c.resources })
        assert.equal(want, #rt.requests)
        -- the base sync, plus 1 + 2 (the 250-key account's keys) and 3 + 1
        -- (resource 1's access; resource 101's 100 entries fit one page)
        local base = tenant.ideal_requests(t, 100)
        assert.equal(base + (c.accounts and 3 or 0) + (c.resources and 4 or 0), want)
        for _, r in ipairs(rt.requests) do assert.equal(100, r.variables.first) end
        assert.equal(c.accounts and 3 or 0, count(rt, "service_account"))
        assert.equal(c.resources and 205 or 0, count(rt, "resource"))
        assert.equal(0, rt.duplicates)
      end)
    end

    it("grant every access entry, and count every key", function()
      local t = model()
      rt.config["include-service-accounts"] = "1"
      rt.config["include-network-resources"] = "true"
      rt.handler = tenant.handler(t)
      assert.is_true(sync(rt))
      local want = 0
      for _, r in ipairs(t.resources) do
        for _, p in ipairs(t.access[r.id]) do
          want = want + 1
          local ptype = p.__typename == "Group" and "group" or "service_account"
          local g = rt:grant("resource:" .. r.id .. ":access:" .. ptype .. ":" .. p.id)
          assert.truthy(g, r.name .. " " .. p.id)
          if ptype == "group" then
            assert.same({ "group:" .. p.id .. ":member" }, g.expandable.entitlement_ids)
          end
        end
      end
      local n = 0
      for _, row in ipairs(rt.rows.grants) do
        if row.resource.type == "resource" then n = n + 1 end
      end
      assert.equal(want, n)
      local big = rt:resource("service_account", t.service_accounts[2].id)
      assert.same({ 250, 240 }, { big.user.profile.key_count, big.user.profile.active_key_count })
    end)
  end)
end)
