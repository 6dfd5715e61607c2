-- The generic helpers in scripts/lib: names, baton ids, connection pages.
local fake = require "helpers.fake_runtime"

describe("lib", function()
  local rt
  before_each(function() rt = fake.install{} end)
  after_each(fake.uninstall)

  describe("text", function()
    local CASES = {
      { "Alice", "Admin", "Alice Admin" },
      { "  Alice ", " Admin\t", "Alice Admin" },
      { "Alice", nil, "Alice" },
      { nil, "Admin", "Admin" },
      { "", "   ", nil },
      { nil, nil, nil },
      { "Zoë", "Żółć", "Zoë Żółć" },
    }
    for _, c in ipairs(CASES) do
      it(string.format("full_name(%q, %q)", tostring(c[1]), tostring(c[2])), function()
        assert.equal(c[3], require("lib.text").full_name(c[1], c[2]))
      end)
    end

    it("title-cases enum values", function()
      local text = require "lib.text"
      assert.equal("Access Reviewer", text.title_case("ACCESS_REVIEWER"))
      assert.equal("X", text.title_case("x"))
      assert.equal("", text.title_case(""))
    end)
  end)

  describe("ids", function()
    it("builds baton ids", function()
      local ids = require "lib.ids"
      assert.equal("group:g1:member", ids.entitlement_id("group", "g1", "member"))
      assert.equal("group:g1:member:user:u1", ids.grant_id("group:g1:member", "user", "u1"))
    end)

    local SHAPES = {
      { "driver shape", { id = "group:g1:member", type = "group", resource = "g1", slug = "member" }, true },
      { "API.md shape", { id = "g1", type = "group", slug = "member", id_string = "group:g1:member" }, true },
      { "parts only", { id = "g1", type = "group", slug = "member" }, true },
      { "mismatching id", { id = "group:g2:member", type = "group", resource = "g1", slug = "member" },
        false },
      { "empty resource", { id = "", type = "group", slug = "member" }, false },
      { "no slug", { id = "g1", type = "group" }, false },
      { "not a table", "group:g1:member", false },
    }
    for _, s in ipairs(SHAPES) do
      it("normalises the entitlement of a request: " .. s[1], function()
        local e, err = require("lib.ids").entitlement(s[2])
        if s[3] then
          assert.same({ type = "group", id = "g1", slug = "member", id_string = "group:g1:member" }, e)
        else
          assert.is_nil(e)
          assert.is_string(err)
        end
      end)
    end

    it("takes the wanted principal type when the request gives none, and enforces it", function()
      local ids = require "lib.ids"
      assert.same({ type = "user", id = "u1" }, ids.principal({ id = "u1" }, "user"))
      local p, err = ids.principal({ type = "group", id = "g1" }, "user")
      assert.is_nil(p)
      assert.matches("only user principals", err)
      assert.is_nil((ids.principal({ id = "u1" })))
    end)
  end)

  describe("page.nodes", function()
    it("iterates the nodes of a checked page, edges or nodes", function()
      local page = require "lib.page"
      local got = {}
      for node in page.nodes({ edges = { { node = { id = "a" } }, { node = { id = "b" } } } }) do
        got[#got + 1] = node.id
      end
      for node in page.nodes({ nodes = { { id = "c" } } }) do got[#got + 1] = node.id end
      assert.same({ "a", "b", "c" }, got)
    end)

    it("raises on misuse at the caller's line, naming the option", function()
      local page = require "lib.page"
      local line = debug.getinfo(1, "l").currentline
      local ok, err = pcall(function() return (page.walk{ query = "q", path = "p", label = "l" }) end)
      assert.is_false(ok)
      assert.equal("lib_spec.lua:" .. (line + 1) .. ": lib.page.walk: opts.each must be a function (got nil)",
        err:match("[^/]*$"))
      ok, err = pcall(function() return (page.walk_nested("x")) end)
      assert.is_false(ok)
      assert.matches("lib_spec.lua:%d+: lib.page.walk_nested: expected a table of options, got string", err)
      assert.same({}, rt.requests)
    end)
  end)

  describe("fields", function()
    it("takes only a Lua integer as an integer (not \"12\", not 12.0)", function()
      local fields = require "lib.fields"
      local spec = { users = { totalCount = "integer" } }
      assert.is_true(fields.check({ users = { totalCount = 12 } }, spec))
      for _, bad in ipairs({ "12", 12.0, 12.5 }) do
        local ok, why = fields.check({ users = { totalCount = bad } }, spec)
        assert.is_nil(ok)
        assert.equal("users.totalCount is not an integer", why)
      end
    end)
  end)
end)
