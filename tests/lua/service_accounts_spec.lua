-- Service accounts (opt-in): a user trait of account type "service", key
-- counts over every page of keys (follow-ups start at the nested endCursor,
-- a key repeated across pages counts once), null and odd names, null nodes.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"

local SA = { "U2VydmljZUFjY291bnQ6NTAwMQ==", "U2VydmljZUFjY291bnQ6NTAwMg==",
  "U2VydmljZUFjY291bnQ6NTAwMw==", "U2VydmljZUFjY291bnQ6NTAwNA==" }

local function names(rt)
  local out = {}
  for _, r in ipairs(rt.requests) do out[#out + 1] = r.name end
  return out
end

describe("service accounts", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups",
      ["include-service-accounts"] = "true" } }
    fixtures.replay(rt, "users_empty")
    fixtures.replay(rt, "groups_empty")
    fixtures.replay(rt, "service_accounts_mixed")
    rt.phase = "sync"
    ok, err = require("twingate").sync()
  end)
  after_each(fake.uninstall)

  it("succeeds and reads every recorded page", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
  end)

  it("reads accounts after users and groups, then the long key list, and nothing else", function()
    assert.same({ "Users", "Groups", "ServiceAccounts", "ServiceAccounts", "ServiceAccountKeys",
      "ServiceAccountKeys" }, names(rt))
    local Q = require "twingate.queries"
    local follow = {}
    for _, r in ipairs(rt:requests_of(Q.SERVICE_ACCOUNT_KEYS)) do follow[#follow + 1] = r.variables end
    assert.same({
      { id = SA[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjE=" },
      { id = SA[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjM=" },
    }, follow)
    assert.same({ first = 100 }, rt:requests_of(Q.SERVICE_ACCOUNTS)[1].variables)
  end)

  it("emits the service_account type after the base types, and not the resource type", function()
    local ids = {}
    for _, t in ipairs(rt.rows.resource_types) do ids[#ids + 1] = t.id end
    assert.same({ "user", "group", "role", "service_account" }, ids)
    assert.same({ id = "service_account", display_name = "Service Account", traits = { "user" },
      description = "A Twingate service account: a non-human identity with API keys",
      skip_entitlements_and_grants = true }, rt.rows.resource_types[4])
  end)

  local ACCOUNTS = {
    { id = SA[1], name = "CI Deployer", display = "CI Deployer",
      created = "2023-01-05T12:00:00.010203+00:00", keys = 2, active = 1 },
    { id = SA[2], name = nil, display = SA[2],
      created = "2023-05-22T03:00:00.404040+00:00", keys = 0, active = 0 },
    { id = SA[3], name = "Röbot « déploi » 🤖", display = "Röbot « déploi » 🤖",
      created = "2024-02-29T23:59:59.999999+00:00", keys = 4, active = 2 },
    { id = SA[4], name = "   ", display = SA[4],
      created = "2024-03-01T00:00:00.000000+00:00", keys = 1, active = 1 },
  }

  for _, a in ipairs(ACCOUNTS) do
    it("maps service account " .. a.display, function()
      assert.same({
        type = "service_account", id = a.id, display_name = a.display,
        user = {
          login = a.display, status = "enabled", account_type = "service", created_at = a.created,
          profile = { service_account_id = a.id, name = a.name, key_count = a.keys,
            active_key_count = a.active },
        },
      }, rt:resource("service_account", a.id))
    end)
  end

  it("emits one account per non-null node, and no entitlement or grant on any", function()
    local n = 0
    for _, r in ipairs(rt.rows.resources) do
      if r.type == "service_account" then n = n + 1 end
    end
    assert.equal(#ACCOUNTS, n)
    for _, row in ipairs(rt.rows.entitlements) do assert.equal("role", row.resource.type) end
    assert.same({}, rt.rows.grants)
  end)

  it("warns about the unnamed accounts", function()
    assert.equal(1, #rt:logged("warn", "service account " .. SA[2] .. " has no name"))
    assert.equal(1, #rt:logged("warn", "service account " .. SA[4] .. " has no name"))
  end)

  it("counts REVOKED and EXPIRED keys as keys but not as active keys", function()
    local tally = require("twingate.service_accounts").tally()
    for _, status in ipairs{ "ACTIVE", "REVOKED", "EXPIRED", "SOMETHING_NEW" } do
      tally.add{ id = status, status = status }
    end
    tally.add{ id = "ACTIVE", status = "ACTIVE" }
    tally.add{ status = "ACTIVE" }
    assert.same({ 4, 1 }, { tally.total, tally.active })
  end)
end)

describe("service accounts failing", function()
  before_each(function()
    fake.install{ config = { domain = "acme", ["membership-side"] = "groups", ["include-service-accounts"] = "true" } }
  end)
  after_each(fake.uninstall)

  it("leaves out, and counts, an account deleted between its key pages", function()
    local rt = fake.current()
    rt:answer{ query = require("twingate.queries").SERVICE_ACCOUNT_KEYS,
      variables = { id = SA[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjE=" },
      data = { serviceAccount = require("helpers.fixtures").NULL } }
    fixtures.replay(rt, "users_empty")
    fixtures.replay(rt, "groups_empty")
    fixtures.replay(rt, "service_accounts_mixed")
    rt.phase = "sync"
    local ok, err = require("twingate").sync()
    assert.is_true(ok, tostring(err))
    assert.equal(5, #rt.requests)
    assert.is_nil(rt:resource("service_account", SA[3]))
    assert.same({ owner_deleted_during_sync = 1 }, rt.skipped)
  end)
end)
