-- lib.batch against a fake server that answers its documents: count aliases
-- (cN), the list's first page (total) and paged parts (pN) filtered by the
-- regexps lib.batch writes. Empty classes cost one count alias and are never
-- paged; every item is handed on once; counts that do not add up and a
-- refused document fall back to plain paging; bad sizes are refused.
local fake = require "helpers.fake_runtime"

local LETTERS = "abcdefghijklmnopqrstuvwxyz"

-- Matches s against one lib.batch alternative: [xX] sets, [^...] negated
-- sets and $ (the end), in sequence from the start of s.
local function match_alt(alt, s)
  local pos, i = 1, 1
  while i <= #alt do
    if alt:sub(i, i) == "$" then
      if pos <= #s then return false end
      i = i + 1
    else
      local close = alt:find("]", i, true)
      local set = alt:sub(i + 1, close - 1)
      local c = s:sub(pos, pos)
      if c == "" then return false end
      local negated = set:sub(1, 1) == "^"
      local inside = (negated and set:sub(2) or set):find(c, 1, true) ~= nil
      if inside == negated then return false end
      pos, i = pos + 1, close + 1
    end
  end
  return true
end

local function matches(re, s)
  local body = assert(re:match("^%^%((.*)%)$"), re)
  for alt in (body .. "|"):gmatch("([^|]*)|") do
    if match_alt(alt, s) then return true end
  end
  return false
end

-- A list of users named by names; answers lib.batch's documents and the
-- plain list query. Records the regexp of every paged part.
local function server(rt, names, opts)
  opts = opts or {}
  local seen = { paged = {}, counted = 0, documents = 0 }
  local function users(re)
    local out = {}
    for i, n in ipairs(names) do
      if re == nil or matches(re, n) then
        out[#out + 1] = { id = "U" .. i, firstName = n }
      end
    end
    if opts.gap and re ~= nil then -- a server whose regexps miss blank names
      local kept = {}
      for _, u in ipairs(out) do if u.firstName ~= "" then kept[#kept + 1] = u end end
      out = kept
    end
    return out
  end
  local function page(list, after, first)
    local from = after and tonumber(after:match("^o:(%d+)$")) or 0
    local edges = {}
    for i = from + 1, math.min(#list, from + first) do edges[#edges + 1] = { node = list[i] } end
    return { totalCount = #list, edges = edges,
      pageInfo = { hasNextPage = from + first < #list, endCursor = "o:" .. (from + #edges) } }
  end
  rt.handler = function(query, vars)
    seen.documents = seen.documents + 1
    if opts.refuse and query:find("p1:", 1, true) then
      return { fail = { kind = "graphql", status = 400, message = "Query is too complex" } }
    end
    local data = {}
    if query:find("total:", 1, true) then data.total = page(users(nil), nil, vars.first) end
    for k, v in pairs(vars) do
      local c = k:match("^c(%d+)$")
      if c then
        seen.counted = seen.counted + 1
        data[k] = { totalCount = #users(v.firstName.regexp) }
      end
      local p = k:match("^f(%d+)$")
      if p then
        local re = v.firstName.regexp
        seen.paged[#seen.paged + 1] = re
        local after = vars["a" .. p]
        data["p" .. p] = page(users(re), type(after) == "string" and after or nil, vars.first)
      end
    end
    if vars.filter then -- one part, unaliased (after a refusal)
      data = { users = page(users(vars.filter.firstName.regexp), vars.after, vars.first) }
    elseif query:find("query Users(", 1, true) then
      data = { users = page(users(nil), vars.after, vars.first) }
    end
    return { data = data }
  end
  return seen
end

local QUERY = [[
query Users($first: Int!, $after: String) {
  users(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { id firstName } }
  }
}
]]
local PARTITION = { field = "users", filter_type = "UserFilterInput", by = "firstName" }

describe("lib.batch", function()
  local rt, batch, got
  before_each(function()
    rt = fake.install{ secrets = { "api-key" }, config = { ["api-key"] = "k" } }
    require("bt.graphql").configure{ url = "https://acme.twingate.com/api/graphql/",
      auth_header = "X-API-KEY", auth_config = "api-key" }
    batch = require "lib.batch"
    got = {}
  end)
  after_each(fake.uninstall)

  local function walk(size)
    return batch.walk{ query = QUERY, variables = { first = size }, path = "users",
      label = "users", partition = PARTITION,
      each = function(node) got[#got + 1] = node.firstName end }
  end

  local function names(n)
    local out = {}
    for i = 1, n do
      local c = LETTERS:sub(i % 3 + 1, i % 3 + 1) -- only a, b and c
      out[i] = (i % 2 == 0 and c:upper() or c) .. "x" .. i
    end
    out[#out + 1] = "" -- a blank name
    out[#out + 1] = "9lives"
    out[#out + 1] = "Émile"
    return out
  end

  it("refuses sizes outside 1..50", function()
    for _, n in ipairs{ 0, 51, -1, 2.5 } do
      local ok, err = batch.configure(n)
      assert.is_nil(ok)
      assert.matches("page%-batch must be an integer from 1 to 50", err)
    end
    assert.is_true(batch.configure(1))
    assert.is_true(batch.configure(50))
  end)

  it("counts every class once, pages only the non-empty ones, hands on every item once", function()
    batch.configure(4)
    local list = names(60)
    local seen = server(rt, list)
    assert.is_true(walk(5))
    table.sort(got)
    table.sort(list)
    assert.same(list, got)
    -- 28 classes by first character, then a, b and c (20 names each, above
    -- twice a part's share of 5) by their second character: 28 more each
    assert.equal(28 * 4, seen.counted)
    for _, re in ipairs(seen.paged) do
      -- every class a part pages holds a name: an empty class is never paged
      for alt in re:sub(3, -2):gmatch("[^|]+") do
        local holds = false
        for _, n in ipairs(list) do holds = holds or matches("^(" .. alt .. ")", n) end
        assert.is_true(holds, alt)
      end
    end
    assert.is_true(seen.documents < 63 / 5)
  end)

  it("reads a list of one page in one request", function()
    batch.configure(10)
    local seen = server(rt, { "ann", "bo", "" })
    assert.is_true(walk(100))
    assert.equal(3, #got)
    assert.equal(1, seen.documents)
    assert.same({}, seen.paged)
  end)

  it("pages plainly when the parts do not add up", function()
    batch.configure(4)
    local list = names(60)
    server(rt, list, { gap = true })
    assert.truthy(walk(5))
    assert.equal(#list, #got)
    assert.equal(1, #rt:logged("warn", "the parts by firstName hold 62 items, the list 63"))
  end)

  it("falls back to plain pages when the server refuses a batch, for the rest of the sync", function()
    batch.configure(4)
    local list = names(60)
    server(rt, list, { refuse = true })
    assert.truthy(walk(5))
    table.sort(got)
    table.sort(list)
    assert.same(list, got)
    assert.equal(1, #rt:logged("warn", "refused a batched request"))
    assert.equal(1, batch.size())
  end)
end)
