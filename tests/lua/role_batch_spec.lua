-- twingate.roles registry: role grants are taken one per user and written
-- in emit.grants calls of up to GRANT_BATCH ids; flush() writes the rest, and
-- roles.flush_sync(ctx) writes what the sync's registry was left holding.
local fake = require "helpers.fake_runtime"

describe("role grants written in batches", function()
  local rt, roles, emit, calls
  before_each(function()
    rt = fake.install{}
    rt.phase = "sync"
    roles = require "twingate.roles"
    emit = require "bt.emit"
    emit.resource_type{ id = "user", display_name = "User", traits = { "user" } }
    emit.resource_type{ id = "role", display_name = "Role", traits = { "role" } }
    calls = {}
    local grants = emit.grants
    emit.grants = function(b) -- count the calls, write as the runtime would
      calls[#calls + 1] = #(b.principals or b.resources).ids
      return grants(b)
    end
  end)
  after_each(fake.uninstall)

  local function users(n, prefix)
    for i = 1, n do
      emit.resource{ type = "user", id = prefix .. i, display_name = prefix .. i,
        user = { status = "enabled" } }
    end
  end

  it("writes every grant taken, GRANT_BATCH per call, the rest at flush", function()
    users(250, "U")
    users(3, "A")
    local reg = roles.registry()
    for i = 1, 250 do reg.grant("U" .. i, "MEMBER") end
    for i = 1, 3 do reg.grant("A" .. i, "ADMIN") end
    assert.same({ 100, 100 }, calls) -- nothing lost yet: 53 wait
    assert.equal(200, #rt.rows.grants)
    reg.flush()
    assert.same({ 100, 100, 50, 3 }, calls) -- roles in the order first met
    assert.equal(253, #rt.rows.grants)
    for i = 1, 250 do assert.truthy(rt:grant("role:member:member:user:U" .. i)) end
    for i = 1, 3 do assert.truthy(rt:grant("role:admin:member:user:A" .. i)) end
    reg.flush()
    assert.equal(4, #calls) -- nothing left to write
  end)

  it("flush_sync writes what the sync's registry was left holding", function()
    users(7, "U")
    local ctx = { roles = roles.registry() }
    for i = 1, 7 do ctx.roles.grant("U" .. i, "DEVOPS") end
    assert.equal(0, #rt.rows.grants)
    roles.flush_sync(ctx)
    assert.equal(7, #rt.rows.grants)
    roles.flush_sync({}) -- a sync that made no registry: nothing to write
    assert.equal(7, #rt.rows.grants)
  end)

  it("a full sync leaves no role grant waiting", function()
    fake.uninstall()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups" } }
    require("helpers.fixtures").replay(rt, "users_two_pages")
    require("helpers.fixtures").replay(rt, "groups_empty")
    rt.phase = "sync"
    local ok, err = require("twingate").sync()
    assert.is_true(ok, tostring(err))
    local users_emitted, role_grants = 0, 0
    for _, r in ipairs(rt.rows.resources) do
      if r.type == "user" then users_emitted = users_emitted + 1 end
    end
    for _, g in ipairs(rt.rows.grants) do
      if g.resource.type == "role" then role_grants = role_grants + 1 end
    end
    assert.is_true(users_emitted > 0)
    assert.equal(users_emitted, role_grants)
  end)
end)
