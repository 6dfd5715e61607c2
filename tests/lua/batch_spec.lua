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
  local seen = { paged = {}, counted = 0, documents = 0, alone = {} }
  local function users(re)
    local out = {}
    for _, n in ipairs(names) do
      if re == nil or matches(re, n) then
        out[#out + 1] = { id = "U:" .. n, firstName = n } -- ids stay when the list shifts
      end
    end
    if opts.gap and re ~= nil then -- a server whose regexps miss blank names
      local kept = {}
      for _, u in ipairs(out) do if u.firstName ~= "" then kept[#kept + 1] = u end end
      out = kept
    end
    return out
  end
  -- offset cursors, as graphene's: edge i's cursor is "o:i", after it the
  -- list goes on at i + 1 (whatever is there now)
  local function page(list, after, first, part)
    local from = after and tonumber(after:match("^o:(%d+)$")) or 0
    local edges = {}
    for i = from + 1, math.min(#list, from + first) do
      edges[#edges + 1] = { cursor = "o:" .. i, node = list[i] }
    end
    local conn = { totalCount = #list, edges = edges,
      pageInfo = { hasNextPage = from + first < #list, endCursor = "o:" .. (from + #edges) } }
    if part and opts.short and opts.short > 0 and conn.pageInfo.hasNextPage and after == nil then
      opts.short = opts.short - 1 -- a first page that says it is the last
      conn.pageInfo.hasNextPage = false
    end
    return conn
  end
  rt.handler = function(query, vars)
    seen.documents = seen.documents + 1
    if opts.before then opts.before(seen.documents, vars) end
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
        seen.last_after = seen.last_after or {}
        seen.last_after[re] = vars["a" .. p]
        local after = vars["a" .. p]
        data["p" .. p] = page(users(re), type(after) == "string" and after or nil, vars.first, true)
      end
    end
    if vars.filter then -- one part, unaliased (after a refusal)
      seen.alone[#seen.alone + 1] = { re = vars.filter.firstName.regexp, after = vars.after }
      data = { users = page(users(vars.filter.firstName.regexp), vars.after, vars.first) }
    elseif query:find("query UsersCount(", 1, true) then -- the end-of-list count
      data = { users = { totalCount = #users(nil) } }
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

  local function walk(size, check)
    return batch.walk{ query = QUERY, variables = { first = size }, path = "users",
      label = "users", partition = PARTITION, check = check,
      each = function(node) got[#got + 1] = node.firstName end }
  end

  -- The names handed on, each once (a part read again hands some on twice:
  -- the sink absorbs those repeats).
  local function distinct()
    local once, out = {}, {}
    for _, n in ipairs(got) do
      if not once[n] then once[n] = true; out[#out + 1] = n end
    end
    table.sort(out)
    return out
  end

  -- n names all beginning with "a" (one part of several pages at size 5)
  -- and as many beginning with "b".
  local function two_parts(n)
    local out = {}
    for i = 1, n do out[#out + 1] = "a" .. i; out[#out + 1] = "b" .. i end
    return out
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

  it("continues each part after its second-to-last node and drops the anchor", function()
    batch.configure(2)
    local list = two_parts(12)
    local seen = server(rt, list)
    assert.is_true(walk(5))
    -- every name once: the overlap node is not handed on twice
    assert.equal(#list, #got)
    local sorted = {}
    for i, n in ipairs(list) do sorted[i] = n end
    table.sort(sorted)
    assert.same(sorted, distinct())
    -- each part's page after its first asks after the 4th of 5 nodes
    for _, after in pairs(seen.last_after) do
      assert.matches("^o:%d+$", after)
      assert.equal(0, tonumber(after:match("%d+")) % 4)
    end
    assert.same({}, seen.alone)
  end)

  it("reads a part again alone when a node before its page boundary moved", function()
    -- the issue 17 case inside one part: after the part's first page, one of
    -- its nodes on that page is deleted and one created (its totalCount
    -- stays the same); the node at the boundary moves onto the first page
    batch.configure(2)
    local list = two_parts(12)
    local a_first = {}
    for _, n in ipairs(list) do if n:sub(1, 1) == "a" then a_first[#a_first + 1] = n end end
    local boundary = a_first[6] -- offset 5: the first node of a plain second page
    local seen = server(rt, list, { before = function(documents)
      if documents == 4 then -- after the plan (2 requests) and the first batch
        table.remove(list, 3) -- "a2", on the first page of part a
        list[#list + 1] = "a99"
      end
    end })
    assert.is_true(walk(5))
    local want = {}
    for _, n in ipairs(list) do want[#want + 1] = n end
    table.sort(want)
    local have = distinct()
    -- everyone that lasted, the boundary node included; "a2" read before it went
    local set = {}
    for _, n in ipairs(have) do set[n] = true end
    for _, n in ipairs(want) do assert.is_true(set[n], n) end
    assert.is_true(set[boundary])
    assert.equal(1, #rt:logged("info", "the node before a page boundary moved"))
    -- the part read again alone, from its start, once
    assert.is_nil(seen.alone[1].after)
    assert.matches("aA", seen.alone[1].re, 1, true)
    local starts = 0
    for _, alone in ipairs(seen.alone) do
      if alone.after == nil then starts = starts + 1 end
      assert.equal(seen.alone[1].re, alone.re)
    end
    assert.equal(1, starts)
  end)

  it("reads a part again alone when it ends short of its totalCount", function()
    batch.configure(2)
    local list = two_parts(12)
    local seen = server(rt, list, { short = 1 })
    assert.is_true(walk(5))
    local sorted = {}
    for i, n in ipairs(list) do sorted[i] = n end
    table.sort(sorted)
    assert.same(sorted, distinct())
    assert.equal(1, #rt:logged("warn", "the list ended after 5 nodes but its totalCount is 12"))
    assert.is_nil(seen.alone[1].after) -- read again alone from its start
    assert.equal(3, #seen.alone) -- 12 nodes: 5, 4 and 3 new ones
  end)

  it("checks every node of a batched page: asked again, then a decode failure", function()
    batch.configure(2)
    local refusals = 1
    local function check(node)
      if node.firstName == "a7" and refusals > 0 then
        refusals = refusals - 1
        return nil, "firstName is not a string"
      end
      return true
    end
    local list = two_parts(12)
    server(rt, list)
    assert.is_true(walk(5, check))
    assert.equal(#list, #got)
    assert.equal(1, #rt:logged("warn", "a node on the page is damaged: edges[2].node: "
      .. "firstName is not a string; asking for the page again"))
    got = {}
    refusals = 1000
    server(rt, list)
    local ok, err = walk(5, check)
    assert.is_nil(ok)
    assert.equal("decode", err.kind)
    assert.matches("^users: part %d+: a node on the page is damaged", err.message)
    assert.matches("^decode: ", tostring(err))
    -- nothing of the damaged page was handed on
    for _, n in ipairs(got) do assert.not_equal("a7", n) end
  end)

  it("walks the list again plainly when a node moved between parts (a rename)", function()
    -- parts by first letter, two in flight: b (three pages) and a (one page)
    -- first, then c. Before c is read, "c1" is renamed into part a, already
    -- read: neither part holds it when it is read. The parts' last counts add
    -- up to one less than the list holds, so the list is walked again.
    batch.configure(2)
    local list = { "a1", "a2", "a3", "c1", "c2", "c3" }
    for i = 1, 12 do list[#list + 1] = "b" .. i end
    server(rt, list, { before = function(documents)
      if documents == 4 then -- after the plan (2 requests) and the first batch
        for i, n in ipairs(list) do if n == "c1" then table.remove(list, i) break end end
        list[#list + 1] = "a9" -- the same user, renamed
      end
    end })
    assert.truthy(walk(5)) -- the plain walk's page count
    local set = {}
    for _, n in ipairs(distinct()) do set[n] = true end
    assert.is_true(set.a9, "the renamed node is in the walk")
    assert.equal(1, #rt:logged("warn", "items moved between parts during the sync"))
  end)

  it("does not walk again when nodes were only created in a part already read", function()
    batch.configure(2)
    local list = { "a1", "a2", "a3", "c1", "c2", "c3" }
    for i = 1, 12 do list[#list + 1] = "b" .. i end
    server(rt, list, { before = function(documents)
      if documents == 4 then list[#list + 1] = "a9" end -- created after part a was read
    end })
    assert.is_true(walk(5))
    assert.equal(0, #rt:logged("warn", "items moved between parts"))
  end)

  it("after a refusal mid-walk continues each open part from its overlap", function()
    batch.configure(2)
    local list = two_parts(12)
    local seen = server(rt, list, { before = function(documents, vars)
      if documents == 4 and vars.f1 then error("refuse") end
    end })
    local handler = rt.handler
    rt.handler = function(query, vars)
      local ok, answer = pcall(handler, query, vars)
      if not ok then
        return { fail = { kind = "graphql", status = 400, message = "Query is too complex" } }
      end
      return answer
    end
    assert.truthy(walk(5))
    local sorted = {}
    for i, n in ipairs(list) do sorted[i] = n end
    table.sort(sorted)
    assert.same(sorted, distinct())
    assert.equal(#list, #got) -- the anchors were not handed on twice
    assert.equal(1, #rt:logged("warn", "refused a batched request"))
    -- each open part went on from its second-to-last node (after o:4)
    local first = {}
    for _, alone in ipairs(seen.alone) do
      if first[alone.re] == nil then first[alone.re] = alone.after end
    end
    local parts = 0
    for _, after in pairs(first) do parts = parts + 1; assert.equal("o:4", after) end
    assert.equal(2, parts)
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
