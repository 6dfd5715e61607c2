-- The bundled scripts under the runtime's sandbox rules: text chunks, an
-- allow-listed environment without os/io/debug/load, strict globals. A sync
-- and every provisioning path run there exactly as under plain require.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"
local sandbox = require "helpers.sandbox"

describe("sandboxed scripts", function()
  local rt, require_
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups" } }
    require_ = sandbox.new()
  end)
  after_each(fake.uninstall)

  local function probe(source)
    local path = os.tmpname()
    local f = assert(io.open(path .. ".lua", "wb"))
    f:write(source)
    f:close()
    local dir, name = path:match("^(.*/)([^/]+)$")
    local ok, err = pcall(sandbox.new(dir), name)
    os.remove(path .. ".lua")
    os.remove(path)
    return ok, err
  end

  it("raises on reading or writing an undeclared global", function()
    assert.is_true((probe("local s = string.format('%d', 1); return { s = s }")))
    assert.is_true((probe("return { t = os.time(), f = load('return 1')() }")))
    for _, source in ipairs{ "x = 1", "return y", "return packages.loaded" } do
      local ok, err = probe(source)
      assert.is_false(ok, source)
      assert.matches("undeclared global", tostring(err), 1, true)
    end
  end)

  it("keeps package.path and package.cpath read-only, as the runtime does", function()
    assert.is_true((probe("return { p = package.path }")))
    for _, source in ipairs{ "package.cpath = '/tmp/x/?.so'", "package.path = '/tmp/?.lua'" } do
      local ok, err = probe(source)
      assert.is_false(ok, source)
      assert.matches("is read-only in the connector sandbox", tostring(err), 1, true)
    end
    local ok, err = probe("return package.loadlib('/tmp/x.so', 'f')")
    assert.is_false(ok)
    assert.matches("package.loadlib is not available in the connector sandbox", tostring(err), 1, true)
  end)

  it("says a removed function is not available, as the runtime does", function()
    for _, source in ipairs{ "return os.getenv('BATON_API_KEY')", "return os.execute('id')",
        "return io.open('/etc/passwd')", "return debug.traceback()", "return dofile('x')" } do
      local ok, err = probe(source)
      assert.is_false(ok, source)
      assert.matches("is not available in the connector sandbox", tostring(err), 1, true)
    end
    local ok, err = probe("local f, e = load('\\27Lua'); assert(f == nil and e:find('binary')); return {}")
    assert.is_true(ok, tostring(err))
  end)

  it("runs a full sync", function()
    fixtures.replay(rt, "users_two_pages")
    fixtures.replay(rt, "groups_mixed")
    rt.phase = "sync"
    local ok, err = require_("twingate").sync()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.equal(6 + 5 + 8, #rt.rows.resources)   -- users, groups, roles
    assert.equal(6 + 13, #rt.rows.grants)         -- role grants, group grants
  end)

  it("runs the sync's failure path", function()
    fixtures.replay(rt, "users_partial_error")
    rt.phase = "sync"
    local ok, err = require_("twingate").sync()
    assert.is_nil(ok)
    assert.equal("graphql", err.kind)
  end)

  it("runs every provisioning handler", function()
    local Q = require_("twingate.queries")
    local c = require_("twingate")
    rt.phase = "provision"
    local gid, uid = "R3JvdXA6MQ==", "VXNlcjoxMDE="
    local entitlement = { id = "group:" .. gid .. ":member", type = "group", resource = gid, slug = "member" }
    rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = gid, userId = uid, first = 100 },
      data = { group = { id = gid, name = "Eng", type = "MANUAL", isActive = true },
        user = { id = uid, email = "a@acme.test", type = "MANUAL", groups = {
          pageInfo = { hasNextPage = true, endCursor = "c1" }, edges = {} } } } }
    rt:answer{ query = Q.USER_GROUPS, variables = { id = uid, first = 100, after = "c1" },
      data = { user = { groups = { pageInfo = { hasNextPage = false }, edges = {} } } } }
    rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = gid, userIds = { uid } },
      data = { groupUpdate = { ok = true } } }
    assert.is_table(c.grant{ entitlement = entitlement, principal = { type = "user", id = uid } })

    rt:answer{ query = Q.USER, variables = { id = uid },
      data = { user = { id = uid, email = "a@acme.test", role = "ADMIN", type = "MANUAL" } } }
    rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = uid, role = "MEMBER" },
      data = { userRoleUpdate = { ok = true } } }
    assert.is_table(c.revoke{ grant = "role:admin:member:user:" .. uid,
      entitlement = { id = "role:admin:member", type = "role", resource = "admin", slug = "member" },
      principal = { type = "user", id = uid } })

    rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "n@acme.test" } },
      data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
    rt:answer{ query = Q.USER_CREATE, variables = { email = "n@acme.test", role = "MEMBER",
      shouldSendInvite = true }, data = { userCreate = { ok = true, entity = { id = "VXNlcjo3" } } } }
    assert.equal("VXNlcjo3", c.create_account{ email = "n@acme.test" }.id)

    rt:answer{ query = Q.USER, variables = { id = uid },
      data = { user = { id = uid, email = "a@acme.test", role = "MEMBER", type = "MANUAL" } } }
    rt:answer{ query = Q.USER_DELETE, variables = { id = uid }, data = { userDelete = { ok = true } } }
    assert.is_table(c.delete_resource{ type = "user", id = uid })
    assert.same({}, rt:unused())
  end)
end)
