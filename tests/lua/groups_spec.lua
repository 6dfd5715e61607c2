-- Groups: mapping of MANUAL/SYNCED/SYSTEM groups, null and non-ASCII names,
-- one grant per member over every page (follow-ups start at the nested
-- endCursor), empty member lists.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"

local U = { "VXNlcjoxMDE=", "VXNlcjoxMDI=", "VXNlcjoxMDM=", "VXNlcjoxMDQ=", "VXNlcjoxMDU=",
  "VXNlcjoxMDY=" }

describe("groups", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups" } }
    fixtures.replay(rt, "users_two_pages")
    fixtures.replay(rt, "groups_mixed")
    rt.phase = "sync"
    ok, err = require("twingate").sync()
  end)
  after_each(fake.uninstall)

  it("succeeds and reads every recorded page", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
  end)

  it("continues long member lists from the nested endCursor, one group at a time", function()
    local follow = {}
    for _, r in ipairs(rt:requests_of(require("twingate.queries").GROUP_MEMBERS)) do
      follow[#follow + 1] = r.variables
    end
    assert.same({
      { id = "R3JvdXA6Mg==", first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
      { id = "R3JvdXA6Mg==", first = 100, after = "YXJyYXljb25uZWN0aW9uOjM=" },
      { id = "R3JvdXA6Mw==", first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
    }, follow)
    -- 2 user pages + 2 group pages + 3 member follow-ups, nothing else.
    assert.equal(7, #rt.requests)
  end)

  local GROUPS = {
    { id = "R3JvdXA6MQ==", name = "Engineering", type = "MANUAL", source = "native",
      active = true, created = "2023-01-01T00:00:00.000000+00:00", immutable = false,
      members = { U[1], U[3] } },
    { id = "R3JvdXA6Mg==", name = "Okta Sales", type = "SYNCED", source = "directory_synced",
      active = true, origin = "00g1abcd", created = "2023-02-01T00:00:00.000000+00:00",
      immutable = true, members = { U[1], U[2], U[4], U[5] } },
    { id = "R3JvdXA6Mw==", name = "Everyone", type = "SYSTEM", source = "built_in", active = true,
      created = "2023-01-01T00:00:00.000000+00:00", immutable = true, members = U },
    { id = "R3JvdXA6NA==", name = nil, display = "R3JvdXA6NA==", type = "MANUAL",
      source = "native", active = true, created = "2023-04-01T00:00:00.000000+00:00",
      immutable = false, members = {} },
    { id = "R3JvdXA6NQ==", name = "Café équipe ☕", type = "MANUAL", source = "native",
      active = false, created = "2023-05-01T00:00:00.000000+00:00", immutable = false,
      members = { U[6] } },
  }

  for _, g in ipairs(GROUPS) do
    local display = g.display or g.name
    it("maps group " .. display, function()
      assert.same({
        type = "group", id = g.id, display_name = display, created_at = g.created,
        group = {
          profile = { group_id = g.id, group_name = g.name, type = g.type, is_active = g.active,
            origin_id = g.origin },
          source_type = g.source, raw_source_type = g.type,
        },
      }, rt:resource("group", g.id))
      assert.same({ id = "group:" .. g.id .. ":member", resource = { type = "group", id = g.id },
        slug = "member", display_name = display .. " Group Member",
        description = "Is member of the " .. display .. " group in Twingate",
        purpose = "assignment", grantable_to = { "user" }, immutable = g.immutable },
        rt:entitlement("group:" .. g.id .. ":member"))
    end)

    it("grants exactly the members of group " .. display, function()
      local want, got = {}, {}
      for _, uid in ipairs(g.members) do want[#want + 1] = "group:" .. g.id .. ":member:user:" .. uid end
      for _, row in ipairs(rt.rows.grants) do
        if row.resource.type == "group" and row.resource.id == g.id then
          got[#got + 1] = row.id
          assert.equal(g.immutable, row.immutable)
          assert.same({ type = "user", id = row.id:match(":user:(.*)$") }, row.principal)
        end
      end
      table.sort(want)
      table.sort(got)
      assert.same(want, got)
    end)
  end

  it("emits one group per node and warns about the null name", function()
    local n = 0
    for _, r in ipairs(rt.rows.resources) do if r.type == "group" then n = n + 1 end end
    assert.equal(#GROUPS, n)
    assert.equal(1, #rt:logged("warn", "group R3JvdXA6NA== has no name"))
    assert.same({}, rt.skipped)
  end)

  it("lets the runtime drop a member repeated across pages", function()
    assert.equal(1, rt.duplicates)
  end)
end)
