-- Users and roles: every user mapped (null names, non-ASCII, blank names,
-- pending/disabled states), one role grant per user, an unknown role value
-- becoming a role on first sight.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"

local function sync(rt)
  rt.phase = "sync"
  return require("twingate").sync()
end

describe("users and roles", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups" } }
    fixtures.replay(rt, "users_two_pages")
    fixtures.replay(rt, "groups_empty")
    ok, err = sync(rt)
  end)
  after_each(fake.uninstall)

  it("reads every page and succeeds", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.same({ "Users", "Users", "Groups" }, (function()
      local names = {}
      for _, r in ipairs(rt.requests) do names[#names + 1] = r.name end
      return names
    end)())
    assert.same({ first = 100, after = "YXJyYXljb25uZWN0aW9uOjM=" }, rt.requests[2].variables)
  end)

  it("emits the resource types first", function()
    assert.same({ "resource_types", "resource_types", "resource_types" },
      { rt.sequence[1], rt.sequence[2], rt.sequence[3] })
    assert.same({ id = "user", display_name = "User", traits = { "user" },
      skip_entitlements_and_grants = true }, rt.rows.resource_types[1])
    assert.same({ id = "group", display_name = "Group", traits = { "group" } }, rt.rows.resource_types[2])
    assert.same({ id = "role", display_name = "Role", traits = { "role" } }, rt.rows.resource_types[3])
  end)

  local USERS = {
    { id = "VXNlcjoxMDE=", display = "Alice Admin", email = "alice@acme.test", status = "enabled",
      given = "Alice", family = "Admin", role = "admin", created = "2024-01-02T03:04:05.123456+00:00",
      profile = { first_name = "Alice", last_name = "Admin", email = "alice@acme.test",
        id = "VXNlcjoxMDE=", is_admin = true, role = "ADMIN", state = "ACTIVE", type = "MANUAL" } },
    { id = "VXNlcjoxMDI=", display = "pending@acme.test", email = "pending@acme.test",
      status = "enabled", details = "invite pending (user has not signed in yet)", role = "member",
      created = "2024-02-03T04:05:06.000001+00:00",
      profile = { email = "pending@acme.test", id = "VXNlcjoxMDI=", is_admin = false,
        role = "MEMBER", state = "PENDING", type = "SYNCED" } },
    { id = "VXNlcjoxMDM=", display = "Zoë Łukasz-Żółć 🚀", email = "zoe@acme.test",
      status = "disabled", given = "Zoë", family = "Łukasz-Żółć 🚀", role = "devops",
      created = "2024-03-04T05:06:07.000000+00:00",
      profile = { first_name = "Zoë", last_name = "Łukasz-Żółć 🚀", email = "zoe@acme.test",
        id = "VXNlcjoxMDM=", is_admin = false, role = "DEVOPS", state = "DISABLED", type = "MANUAL" } },
    { id = "VXNlcjoxMDQ=", display = "Bob", email = "bob@acme.test", status = "enabled",
      given = "Bob", role = "auditor", created = "2024-04-05T06:07:08.000000+00:00",
      profile = { first_name = "  Bob ", last_name = "", email = "bob@acme.test",
        id = "VXNlcjoxMDQ=", is_admin = false, role = "AUDITOR", state = "ACTIVE", type = "MANUAL" } },
    { id = "VXNlcjoxMDU=", display = "blank@acme.test", email = "blank@acme.test", status = "enabled",
      role = "support", created = "2024-05-06T07:08:09.000000+00:00",
      profile = { first_name = "", last_name = " ", email = "blank@acme.test",
        id = "VXNlcjoxMDU=", is_admin = false, role = "SUPPORT", state = "ACTIVE", type = "MANUAL" } },
    { id = "VXNlcjoxMDY=", display = "Carol Auditor", email = "carol@acme.test", status = "enabled",
      given = "Carol", family = "Auditor", role = "auditor",
      created = "2024-06-07T08:09:10.000000+00:00",
      profile = { first_name = "Carol", last_name = "Auditor", email = "carol@acme.test",
        id = "VXNlcjoxMDY=", is_admin = false, role = "AUDITOR", state = "ACTIVE", type = "SYNCED" } },
  }

  for _, u in ipairs(USERS) do
    it("maps user " .. u.display, function()
      local r = rt:resource("user", u.id)
      assert.is_table(r)
      assert.same({
        type = "user", id = u.id, display_name = u.display,
        user = {
          emails = { { address = u.email, primary = true } }, login = u.email,
          status = u.status, status_details = u.details, account_type = "human",
          created_at = u.created, given_name = u.given, family_name = u.family,
          profile = u.profile,
        },
      }, r)
      assert.truthy(rt:grant("role:" .. u.role .. ":member:user:" .. u.id))
    end)
  end

  it("emits exactly one user per node", function()
    local n = 0
    for _, r in ipairs(rt.rows.resources) do if r.type == "user" then n = n + 1 end end
    assert.equal(#USERS, n)
  end)

  it("gives every user exactly one role grant and no other grant", function()
    assert.equal(#USERS, #rt.rows.grants)
    for _, g in ipairs(rt.rows.grants) do
      assert.equal("role", g.resource.type)
      assert.equal("user", g.principal.type)
      assert.is_table(rt:resource("user", g.principal.id))
      assert.truthy(rt:entitlement(g.entitlement_id))
    end
  end)

  local ROLES = {
    { "admin", "Admin" }, { "devops", "DevOps" }, { "support", "Support" }, { "member", "Member" },
    { "access_reviewer", "Access Reviewer" }, { "helpdesk", "Helpdesk" }, { "billing", "Billing" },
    { "auditor", "Auditor" },
  }
  for _, r in ipairs(ROLES) do
    local id, display = r[1], r[2]
    it("emits role " .. id .. " with its member entitlement", function()
      assert.same({ type = "role", id = id, display_name = display,
        role = { profile = { role_id = id, role_name = display } } }, rt:resource("role", id))
      assert.same({ id = "role:" .. id .. ":member", resource = { type = "role", id = id },
        slug = "member", display_name = display .. " Role Member",
        description = "Has the " .. display .. " role in Twingate", purpose = "assignment",
        grantable_to = { "user" } }, rt:entitlement("role:" .. id .. ":member"))
    end)
  end

  it("adds an unknown role once, on first sight, with one warning", function()
    local n = 0
    for _, r in ipairs(rt.rows.resources) do if r.type == "role" then n = n + 1 end end
    assert.equal(#ROLES, n)
    assert.equal(0, rt.duplicates)
    assert.equal(1, #rt:logged("warn", "unknown Twingate role AUDITOR"))
  end)

  it("emits no entitlements on users", function()
    for _, e in ipairs(rt.rows.entitlements) do assert.are_not.equal("user", e.resource.type) end
  end)
end)

describe("role titles", function()
  after_each(fake.uninstall)
  it("title-cases values newer than the script", function()
    fake.install{}
    local roles = require "twingate.roles"
    assert.equal("Security Auditor", roles.display("SECURITY_AUDITOR"))
    assert.equal("security_auditor", roles.id("SECURITY_AUDITOR"))
    assert.equal("DevOps", roles.display("DEVOPS"))
    assert.is_false(roles.is_known("SECURITY_AUDITOR"))
  end)
end)
