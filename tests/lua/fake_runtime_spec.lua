-- The fake runtime itself: same module names and functions as API.md, ids
-- built like the runtime, strict about misuse, restored after every test.
local fake = require "helpers.fake_runtime"

describe("fake runtime", function()
  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
  after_each(fake.uninstall)

  it("installs exactly the modules and functions of API_NAMES", function()
    local names = {}
    for name in pairs(fake.API_NAMES) do names[#names + 1] = name end
    table.sort(names)
    assert.same({ "bt.clock", "bt.config", "bt.emit", "bt.graphql", "bt.log" }, names)
    for name, want in pairs(fake.API_NAMES) do
      local got = {}
      for fn, v in pairs(package.loaded[name]) do
        -- graphql.null is a sentinel value; everything else is a function
        if not (name == "bt.graphql" and fn == "null") then assert.is_function(v) end
        got[#got + 1] = fn
      end
      table.sort(got)
      assert.same(want, got, name)
      local sorted = { table.unpack(want) }
      table.sort(sorted)
      assert.same(sorted, want, name .. " list is sorted")
    end
  end)

  it("restores package.loaded on uninstall", function()
    local sentinel = {}
    fake.uninstall()
    package.loaded["bt.log"] = sentinel
    package.loaded["lib.text"] = nil
    fake.install{}
    assert.are_not.equal(sentinel, package.loaded["bt.log"])
    require "lib.text"
    fake.uninstall()
    assert.equal(sentinel, package.loaded["bt.log"])
    assert.is_nil(package.loaded["bt.graphql"])
    assert.is_nil(package.loaded["lib.text"])
    package.loaded["bt.log"] = nil
    rt = fake.install{}
  end)

  it("builds entitlement and grant ids like the runtime and keeps the first duplicate", function()
    local emit = require "bt.emit"
    emit.resource_type{ id = "group", display_name = "Group", traits = { "group" } }
    emit.resource{ type = "group", id = "g1", display_name = "G", group = {} }
    emit.entitlement{ resource = { type = "group", id = "g1" }, slug = "member", display_name = "first" }
    emit.entitlement{ resource = { type = "group", id = "g1" }, slug = "member", display_name = "second" }
    emit.grant{ resource = { type = "group", id = "g1" }, slug = "member",
      principal = { type = "user", id = "u1" } }
    assert.equal("first", rt:entitlement("group:g1:member").display_name)
    assert.truthy(rt:grant("group:g1:member:user:u1"))
    assert.same({ resource_types = 1, resources = 1, entitlements = 1, grants = 1, duplicates = 1,
      skipped = {}, filtered = {} }, emit.counts())
  end)

  it("raises on misuse: unknown fields, bad enums, entitlement order, phase", function()
    local emit = require "bt.emit"
    assert.has_error(function() emit.resource_type{ id = "user", dispaly_name = "User" } end)
    emit.resource_type{ id = "user", display_name = "User", traits = { "user" } }
    assert.has_error(function() emit.resource{ type = "user", id = "u", display_name = "U" } end)
    assert.has_error(function()
      emit.resource{ type = "user", id = "u", display_name = "U", user = { status = "active" } }
    end)
    -- Like the runtime: a resource may come before its type (checked at the end).
    emit.resource{ type = "group", id = "g", display_name = "G", group = {} }
    assert.has_error(function()
      emit.grant{ resource = { type = "user", id = "nobody" }, slug = "x",
        principal = { type = "user", id = "u" } }
    end)
    rt.phase = "provision"
    assert.has_error(function()
      emit.resource{ type = "user", id = "u", display_name = "U", user = {} }
    end)
  end)

  it("refuses secrets, unconfigured queries, non-https urls and mutations during sync", function()
    local config, graphql = require "bt.config", require "bt.graphql"
    assert.has_error(function() config.get("api-key") end)
    assert.is_false(config.is_set("api-key"))
    assert.equal("acme", config.get("domain"))
    assert.has_error(function() graphql.query("query { users { totalCount } }") end)
    assert.has_error(function() graphql.configure{ url = "http://acme.twingate.com/",
      auth_header = "X-API-KEY", auth_config = "api-key" } end)
    -- the endpoint rule: the key goes only to the operator's endpoint
    assert.has_error(function() graphql.configure{ url = "http://127.0.0.1:8080/api/graphql/",
      auth_header = "X-API-KEY", auth_config = "api-key" } end)
    assert.has_error(function() graphql.configure{ url = "https://acme.twingate.com/api/graphql/",
      auth_header = "X-Other", auth_config = "api-key" } end)
    graphql.configure{ url = "http://127.0.0.1:8080/api/graphql/" }   -- a second endpoint, no key
    graphql.configure{ url = "https://acme.twingate.com/api/graphql/", auth_header = "x-api-key",
      auth_config = "api-key" }
    assert.has_error(function() graphql.query("mutation M { userDelete(id: 1) { ok } }") end)
    assert.same({}, rt.requests)
  end)

  it("fails loudly on a request nobody recorded", function()
    local graphql = require "bt.graphql"
    graphql.configure{ url = "https://acme.twingate.com/api/graphql/", auth_header = "X-API-KEY",
      auth_config = "api-key" }
    local ok, err = pcall(graphql.query, "query Nope { users { totalCount } }", { a = 1 })
    assert.is_false(ok)
    assert.matches('fake bt.graphql: no recorded answer for Nope {a=1}\n  expected: an answer '
      .. 'recorded with rt:answer{ query = <this document>, variables = {a=1} }; none is recorded '
      .. 'for Nope', err, 1, true)
  end)

  it("says what was recorded for the operation and how it differs from the request", function()
    local Q = require "twingate.queries"
    rt:answer{ query = Q.USERS_WITH_GROUPS, variables = { first = 100 }, data = {} }
    table.insert(Q.FIELDS.user, "updatedAt")   -- an override loaded after the recording
    require("twingate.client").configure()
    local ok, err = pcall(require("bt.graphql").query, Q.USERS_WITH_GROUPS, { first = 100 })
    table.remove(Q.FIELDS.user)
    assert.is_false(ok)
    assert.matches("no recorded answer for UsersWithGroups {first=100}\n  recorded: UsersWithGroups "
      .. "{first=100}: another document (the request asks for updatedAt that the recorded document "
      .. "lacks)\n  (a document read from twingate.queries before an override added its fields", err,
      1, true)
  end)

  it("places emit checks at the caller's line, not in the fake", function()
    local emit = require "bt.emit"
    emit.resource_type{ id = "group", display_name = "Group", traits = { "group" } }
    local line = debug.getinfo(1, "l").currentline + 1
    local ok, err = pcall(function() emit.grant{ resource = { type = "group", id = "nope" }, slug = "member",
      principal = { type = "user", id = "u1" } } end)
    assert.is_false(ok)
    assert.matches("fake_runtime_spec.lua:" .. line .. ": emit.grant: resource group:nope was not emitted first",
      err, 1, true)
    emit.resource{ type = "group", id = "g1", display_name = "G", group = {} }
    local g = { resource = { type = "group", id = "g1" }, slug = "member", principal = { type = "user" } }
    ok, err = pcall(function() emit.grant(g) end)
    assert.is_false(ok)
    assert.matches("fake_runtime_spec.lua:" .. line + 7 .. ": emit.grant: field principal.id", err, 1, true)
  end)

  it("finds the reference the runtime's commit would refuse", function()
    local emit = require "bt.emit"
    emit.resource_type{ id = "group", display_name = "Group", traits = { "group" } }
    emit.resource{ type = "group", id = "g1", display_name = "G", group = {} }
    emit.entitlement{ resource = { type = "group", id = "g1" }, slug = "member" }
    assert.is_nil(rt:dangling())
    emit.grant{ resource = { type = "group", id = "g1" }, slug = "member",
      principal = { type = "user", id = "u9" } }
    assert.equal("grant group:g1:member:user:u9: principal user:u9 was never emitted", rt:dangling())
    assert.is_nil(rt:dangling(true))
  end)

  describe("graphql.paginate", function()
    local graphql, Q
    local function page(next, cursor, ids)
      local edges = {}
      for i, id in ipairs(ids) do edges[i] = { node = { id = id } } end
      return { group = { users = { pageInfo = { hasNextPage = next, endCursor = cursor },
        edges = edges } } }
    end
    before_each(function()
      graphql, Q = require "bt.graphql", require "twingate.queries"
      graphql.configure{ url = "https://acme.twingate.com/api/graphql/", auth_header = "X-API-KEY",
        auth_config = "api-key" }
    end)

    it("starts from the caller's cursor and follows endCursor", function()
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "g", first = 100, after = "c0" },
        data = page(true, "c1", { "a" }) }
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "g", first = 100, after = "c1" },
        data = page(false, "c2", { "b" }) }
      local seen = {}
      local pages = graphql.paginate{ query = Q.GROUP_MEMBERS, path = "group.users",
        variables = { id = "g", first = 100, after = "c0" }, cursor_var = "after",
        on_page = function(conn) seen[#seen + 1] = conn.edges[1].node.id end }
      assert.equal(2, pages)
      assert.same({ "a", "b" }, seen)
      assert.same({}, rt:unused())
    end)

    it("returns kind pagination on a repeated cursor and not_found on a null object", function()
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "g", first = 100 },
        data = page(true, "c1", { "a" }) }
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "g", first = 100, after = "c1" },
        data = page(true, "c1", { "b" }) }
      local pages, err = graphql.paginate{ query = Q.GROUP_MEMBERS, path = "group.users",
        variables = { id = "g", first = 100 } }
      assert.is_nil(pages)
      assert.equal("pagination", err.kind)
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "h", first = 100 },
        data = { group = graphql.null } }
      pages, err = graphql.paginate{ query = Q.GROUP_MEMBERS, path = "group.users",
        variables = { id = "h", first = 100 } }
      assert.is_nil(pages)
      assert.equal("not_found", err.kind)
      assert.equal("not_found: group is null (it no longer exists)", tostring(err))
      -- issue 17: an answer without the field is damage, never a deletion
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "i", first = 100 }, data = {} }
      pages, err = graphql.paginate{ query = Q.GROUP_MEMBERS, path = "group.users",
        variables = { id = "i", first = 100 } }
      assert.is_nil(pages)
      assert.equal("decode", err.kind)
    end)

    it("turns an errors array into kind graphql with the partial data", function()
      rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = "g", first = 100 },
        data = page(false, nil, { "a" }), errors = { { message = "boom" } } }
      local data, err = graphql.query(Q.GROUP_MEMBERS, { id = "g", first = 100 })
      assert.is_nil(data)
      assert.equal("graphql", err.kind)
      assert.equal("boom", err.errors[1].message)
      assert.equal("a", err.data.group.users.edges[1].node.id)
    end)
  end)
end)
