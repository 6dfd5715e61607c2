-- Batched partition paging (page-batch, README "Batched paging"): one request
-- reads a page from each of up to N disjoint parts of a list, as aliased root
-- fields filtered by a regexp on the first characters of a string field. The
-- parts are checked to cover the list (their totalCounts add up to the
-- list's), or the list is paged plainly. Nothing here knows Twingate: the
-- caller names the root field, the filter input type and the string field.
--
-- opts are lib.page's walk / walk_nested options plus
--   partition = { field = "users", filter_type = "UserFilterInput", by = "firstName" }
-- The root field's selection is taken from opts.query, so a batched page
-- holds exactly what a plain page holds.
local graphql = require "bt.graphql"
local log = require "bt.log"
local page = require "lib.page"

local M = {}

-- Largest batch (page-batch above it is refused).
M.MAX = 50
-- Count-only aliases in one request.
M.MAX_COUNT_ALIASES = 300
-- Broken pages of one part asked again before the walk fails (as paginate).
M.PAGE_ATTEMPTS = 3

local moved_between_parts -- defined with the per-part walk

-- Per sync: the batch size and whether the server refused a batch.
local state = { size = 1, refused = false }

-- Sets the batch size of this sync (1: plain paging) and forgets a refusal.
-- Returns true, or nil, message for a size outside 1..M.MAX.
function M.configure(n)
  n = math.tointeger(n)
  if n == nil or n < 1 or n > M.MAX then
    return nil, string.format("page-batch must be an integer from 1 to %d", M.MAX)
  end
  state.size, state.refused = n, false
  return true
end

-- The pages one request reads now (1 after a refusal).
function M.size()
  return state.refused and 1 or state.size
end

-- Character classes ---------------------------------------------------------

local LETTERS = "abcdefghijklmnopqrstuvwxyz"
local NOT_LETTER = "[^" .. LETTERS .. LETTERS:upper() .. "]"

-- The disjoint classes that, after prefix, cover every string: one per Latin
-- letter (either case), one for any other character, one for the end.
local function classes(prefix, depth)
  local out = {}
  for c in LETTERS:gmatch(".") do
    out[#out + 1] = { re = prefix .. "[" .. c .. c:upper() .. "]", depth = depth }
  end
  out[#out + 1] = { re = prefix .. NOT_LETTER, depth = depth }
  out[#out + 1] = { re = prefix .. "$", depth = depth, final = true }
  return out
end

-- The regexp of a part made of several classes.
local function pattern(units)
  local res = {}
  for i, u in ipairs(units) do res[i] = u.re end
  return "^(" .. table.concat(res, "|") .. ")"
end

-- Documents -----------------------------------------------------------------

-- The selection (with its braces) of the first `field(...)` in document.
function M.selection(document, field)
  local _, open = document:find("%f[%w_]" .. field .. "%s*%b()%s*{")
  local body = open and document:match("%b{}", open)
  if body == nil then
    error(string.format("lib.batch: no %s(...) { ... } in the query", field), 3)
  end
  for name in body:gmatch("%$([%w_]+)") do
    if name ~= "first" then
      error(string.format("lib.batch: the %s selection uses $%s (only $first is passed)",
        field, name), 3)
    end
  end
  return body
end

-- A document with `counts` count-only parts (c1..), `pages` paged parts
-- (p1.., one page each) and, with total, the whole list's first page (its
-- totalCount; a list of one page needs no other request).
function M.document(p, sel, pages, counts, total)
  local decl, body = {}, {}
  if pages > 0 or total then decl[1] = "$first: Int!" end
  if total then body[1] = "total: " .. p.field .. "(first: $first) " .. sel end
  for i = 1, counts do
    decl[#decl + 1] = "$c" .. i .. ": " .. p.filter_type
    body[#body + 1] = "c" .. i .. ": " .. p.field .. "(filter: $c" .. i .. ") { totalCount }"
  end
  for i = 1, pages do
    decl[#decl + 1] = "$a" .. i .. ": String, $f" .. i .. ": " .. p.filter_type
    body[#body + 1] = "p" .. i .. ": " .. p.field .. "(first: $first, after: $a" .. i
      .. ", filter: $f" .. i .. ") " .. sel
  end
  local name = p.field:gsub("^%l", string.upper) .. "Batch"
  local args = #decl > 0 and "(" .. table.concat(decl, ", ") .. ")" or ""
  return "query " .. name .. args .. " {\n  " .. table.concat(body, "\n  ") .. "\n}\n"
end

-- One part paged alone, without an alias (after a refused batch).
function M.single_document(p, sel)
  local name = p.field:gsub("^%l", string.upper) .. "Part"
  return "query " .. name .. "($first: Int!, $after: String, $filter: " .. p.filter_type
    .. ") {\n  " .. p.field .. "(first: $first, after: $after, filter: $filter) " .. sel .. "\n}\n"
end

local function filter(p, re)
  return { [p.by] = { regexp = re } }
end

-- Whether an error may come from batching itself, so that single pages may
-- still work: HTTP 400/413/414/422/504, a GraphQL error (complexity, timeout,
-- unknown argument), an answer that cannot be read, a request that never
-- completed. Refused keys, rate limits and other server failures are no
-- batching matter: the sync fails on them as it would without batching.
local FATAL_STATUS = { [401] = true, [403] = true, [404] = true, [429] = true }
function M.refused(err)
  if type(err) ~= "table" then return false end
  local status = err.status
  if status == 504 then return true end
  if FATAL_STATUS[status] or err.kind == "auth" or err.kind == "rate_limited"
    or err.kind == "server" then
    return false
  end
  return true
end

local function refuse(label, err)
  state.refused = true
  log.warn(string.format("%s: the server refused a batched request (%s); paging one page "
    .. "per request for the rest of this sync", label, tostring(err)))
end

-- Planning ------------------------------------------------------------------

local function count_of(conn)
  local n = type(conn) == "table" and conn.totalCount
  if math.type(n) ~= "integer" or n < 0 then return nil end
  return n
end

-- The totalCounts of the classes (and with first = { sel =, size = }, the
-- list's first page), in requests of at most MAX_COUNT_ALIASES aliases.
-- Returns counts, first page or nil, err.
local function count(p, list, first)
  local counts, whole = {}, nil
  local from = 1
  repeat
    local upto = math.min(#list, from + M.MAX_COUNT_ALIASES - 1)
    local vars = { first = first and first.size or nil }
    for i = from, upto do vars["c" .. (i - from + 1)] = filter(p, pattern{ list[i] }) end
    local doc = M.document(p, first and first.sel or "", 0, upto - from + 1, first ~= nil)
    local data, err = graphql.query(doc, vars)
    if not data then return nil, err end
    if first then
      whole = data.total
      if count_of(whole) == nil then
        return nil, { kind = "decode", message = "no totalCount of the list" }
      end
      first = nil
    end
    for i = from, upto do
      counts[i] = count_of(data["c" .. (i - from + 1)])
      if counts[i] == nil then
        return nil, { kind = "decode", message = "no totalCount of part " .. list[i].re }
      end
    end
    from = upto + 1
  until from > #list
  return counts, whole
end

-- Bins of units (first-fit, largest first) holding at most cap items each;
-- a unit above cap is a bin of its own.
local function pack(units, cap)
  table.sort(units, function(a, b)
    if a.n ~= b.n then return a.n > b.n end
    return a.re < b.re
  end)
  local bins = {}
  for _, u in ipairs(units) do
    local home
    for _, b in ipairs(bins) do
      if b.n + u.n <= cap then home = b; break end
    end
    if home == nil then home = { n = 0, units = {} }; bins[#bins + 1] = home end
    home.n = home.n + u.n
    home.units[#home.units + 1] = u
  end
  return bins
end

-- The parts of a list and its first page (no parts when that page is the
-- whole list), or nil, err (a request failed) or false, why (the counts do
-- not add up). The first request reads the list's
-- first page and counts its classes by first character; classes well above a
-- part's share are split by the second character (counted in one more
-- request); empty classes are left out.
function M.plan(p, n, size, sel)
  local top = classes("", 1)
  local counts, whole = count(p, top, { sel = sel, size = size })
  if not counts then return nil, whole end
  local total = whole.totalCount
  if page.info(whole).hasNextPage == false then
    return { total = total, first = whole } -- one page: no parts needed
  end
  local sum = 0
  for _, c in ipairs(counts) do sum = sum + c end
  if sum ~= total then
    return false, string.format("the parts by %s hold %d items, the list %d", p.by, sum, total)
  end
  local pages = (total + size - 1) // size
  local cap = math.max(1, pages // (3 * n)) * size
  local units, split = {}, {}
  for i, cl in ipairs(top) do
    cl.n = counts[i]
    if cl.n > 2 * cap and not cl.final then split[#split + 1] = cl
    elseif cl.n > 0 then units[#units + 1] = cl end
  end
  if #split > 0 then
    local subs = {}
    for _, cl in ipairs(split) do
      for _, s in ipairs(classes(cl.re, 2)) do s.parent = cl; subs[#subs + 1] = s end
    end
    local sub_counts, err = count(p, subs, nil)
    if not sub_counts then return nil, err end
    local sums = {}
    for i, s in ipairs(subs) do
      s.n = sub_counts[i]
      sums[s.parent] = (sums[s.parent] or 0) + s.n
      if s.n > 0 then units[#units + 1] = s end
    end
    for _, cl in ipairs(split) do
      if sums[cl] ~= cl.n then
        return false, string.format("the parts of %s hold %d items, it %d", cl.re,
          sums[cl], cl.n)
      end
    end
  end
  local bins = pack(units, cap)
  bins.total, bins.first = total, whole
  for i, b in ipairs(bins) do
    b.index, b.filter = i, filter(p, pattern(b.units))
    log.debug(string.format("%s: part %d: %d items in %d classes: %s", p.field, i, b.n,
      #b.units, b.filter[p.by].regexp))
  end
  return bins, total
end

-- The per-part walk ----------------------------------------------------------
-- Each part, and each nested list continued in batches, is walked as
-- graphql.paginate walks a list. Every page is checked (graphql.check_page,
-- and opts.check on every node): a damaged page is asked again in the next
-- request, then the walk fails with a decode error, and nothing on it is
-- used. Each page continues from its second-to-last node's cursor
-- (lib.page.continuation), so the next page must begin with the last node
-- read, its anchor, which is not handed on twice; an anchor further down
-- means something was inserted before it (the nodes before it are repeats);
-- a missing anchor means something before it moved (a deletion under offset
-- cursors). That, and a last page whose offset and nodes fall short of its
-- totalCount (a list that ended early), makes the part walked again alone
-- from its start with lib.page.walk, whose walk-back, list-end check and
-- bounds then hold (the sink absorbs the repeats). A part is walked again at
-- most once: that walk finishes it.

-- Root ids of a part's last pages (lib.page's, as walk_nested keeps them).
local recent = page.recent

local function id_field_of(opts)
  if opts.id_field == nil then return "id" end
  return opts.id_field
end

-- The requests a list of n items may take before its walk is stopped (about
-- twice what it needs with one node of overlap a page, as paginate bounds).
local function page_bound(n, size)
  local fresh = math.max(1, size - 1)
  return 2 * ((math.max(n, 1) + fresh - 1) // fresh) + 8
end

-- A part (or nested list) at cursor (nil: its start) of known offset (nil:
-- unknown) expecting anchor first. n: the items it is thought to hold.
local function start(part, cursor, offset, anchor, n, size)
  part.cursor, part.offset, part.anchor = cursor, offset, anchor
  part.pages, part.broken, part.seen, part.size = 0, 0, {}, size
  part.max_pages = page_bound(n or 0, size)
  return part
end

-- The page's node count when it is usable, or nil, why.
local function usable(conn, opts)
  local n, bad = graphql.check_page(conn, { id_field = opts.id_field,
    ids_optional = opts.ids_optional })
  if not n then
    return nil, "the page breaks the connection's shape: "
      .. tostring(type(bad) == "table" and bad.message or bad)
  end
  local check = page.page_check(opts.check)
  if check then
    local ok, why = check(conn)
    if not ok then return nil, "a node on the page is damaged: " .. tostring(why) end
  end
  return n
end

-- Where the anchor is on the page: its position from 1; 0 when there is none
-- to look for; -1 when it is missing (something before it moved).
local function find_anchor(conn, anchor, id_field)
  if anchor == nil or not id_field or conn.edges == nil then return 0 end
  for i, edge in ipairs(conn.edges) do
    if edge.node[id_field] == anchor then return i end
  end
  return -1
end

-- An error as the runtime's read: "<kind>: <message>".
local ERROR = { __tostring = function(e) return e.kind .. ": " .. e.message end }
local function fail(kind, part, fmt, ...)
  return nil, setmetatable({ kind = kind, message = part.name .. ": " .. string.format(fmt, ...) },
    ERROR)
end

-- After a usable page of n nodes: where the part goes on, or done at its end.
-- Returns true, "again" (the list ended short of its totalCount) or nil, err.
local function advance(part, conn, n, id_field)
  part.pages = part.pages + 1
  if part.pages == 1 then
    part.max_pages = math.max(part.max_pages, page_bound(count_of(conn) or 0, part.size))
  end
  if part.pages > part.max_pages then
    return fail("pagination", part, "does not end after %d pages", part.pages - 1)
  end
  if not conn.pageInfo.hasNextPage then
    local total, reached = count_of(conn), part.offset and part.offset + n
    if total and reached and reached < total then
      log.warn(string.format("%s: the list ended after %d nodes but its totalCount is %d; "
        .. "reading it again", part.name, reached, total))
      return "again"
    end
    part.done = true
    return true
  end
  local next = page.continuation(conn, n, id_field)
  if next.cursor == nil or part.seen[next.cursor] then
    return fail("pagination", part, "the server repeated cursor %s; stopping", tostring(next.cursor))
  end
  part.seen[next.cursor] = true
  part.cursor, part.anchor = next.cursor, next.anchor
  part.offset = part.offset and part.offset + next.offset
  return true
end

-- Runs the page hooks of part: its recent ids and opts.on_page. The part's
-- last totalCount is kept for the end-of-list check (moved_between_parts).
local function page_done(part, conn, opts)
  part.last_total = count_of(conn) or part.last_total
  if part.recent then part.recent.page() end
  if opts.on_page then return opts.on_page(conn) end
  return true
end

-- Takes one part's answer: checks it and its anchor, moves the part on and
-- feeds its nodes to visit(node, part). Returns true (go on; part.done at the
-- list's end), false (visit returned false), "again" (walk the part again
-- alone from its start) or nil, err.
local function take(part, conn, opts, visit)
  local n, why = usable(conn, opts)
  if not n then
    part.broken = part.broken + 1
    if part.broken >= M.PAGE_ATTEMPTS then return fail("decode", part, "%s", why) end
    log.warn(string.format("%s: %s; asking for the page again", part.name, why))
    return true
  end
  part.broken = 0
  local id_field = id_field_of(opts)
  local found = find_anchor(conn, part.anchor, id_field)
  if found < 0 then
    log.info(string.format("%s: the node before a page boundary moved (something before it "
      .. "was deleted during the walk); reading the part again", part.name))
    return "again"
  end
  local go, err = advance(part, conn, n, id_field)
  if go ~= true then return go, err end
  -- a leading anchor was handed on with the page before (as paginate, the
  -- page handed on, on_page's included, starts after it)
  if found == 1 then table.remove(conn.edges, 1) end
  for node in page.nodes(conn) do
    local ok, failed = visit(node, part)
    if ok == false then return false end
    if ok == nil and failed ~= nil then return nil, failed end
  end
  local ok, failed = page_done(part, conn, opts)
  if ok == nil and failed ~= nil then return nil, failed end
  return true
end

-- Walks a part alone with lib.page.walk (opts' check, id_field, on_page and
-- each included): from its start (fresh), else from its cursor with the
-- overlap it holds. That walk finishes the part. Returns true, false (visit
-- returned false) or nil, err.
local function alone(p, sel, part, size, opts, visit, fresh)
  part.done = true
  local vars, previous = { first = size, filter = part.filter }, nil
  if not fresh and part.cursor ~= nil then
    vars.after = part.cursor
    previous = { offset = part.offset, anchor = part.anchor }
  end
  local stopped = false
  local ok, err = page.walk{
    query = M.single_document(p, sel), path = p.field, label = part.name, variables = vars,
    id_field = opts.id_field, ids_optional = opts.ids_optional, check = opts.check,
    previous_page = previous,
    on_page = function(conn) return page_done(part, conn, opts) end,
    each = function(node)
      local go, failed = visit(node, part)
      if go == false then stopped = true end
      return go, failed
    end,
  }
  if not ok then return nil, err end
  return not stopped
end

-- Pages the parts left after a refusal one page per request (no alias),
-- each from where it is.
local function singles(p, sel, parts, size, opts, visit)
  for _, part in ipairs(parts) do
    if not part.done then
      local ok, err = alone(p, sel, part, size, opts, visit, false)
      if ok == nil then return nil, err end
      if ok == false then return true end -- visit ended the walk
    end
  end
  return true
end

-- Runs the parts: up to n in one request; a finished part frees its slot.
local function run(p, sel, parts, n, size, opts, visit)
  local queue, active, next_part = parts, {}, 1
  while true do
    while #active < n and next_part <= #queue do
      active[#active + 1] = queue[next_part]
      next_part = next_part + 1
    end
    if #active == 0 then return true end
    local vars = { first = size }
    for i, part in ipairs(active) do
      vars["a" .. i] = part.cursor or graphql.null
      vars["f" .. i] = part.filter
    end
    log.debug(string.format("%s: a batch of %d pages", opts.label, #active))
    local data, err = graphql.query(M.document(p, sel, #active, 0, false), vars)
    if not data then
      if not M.refused(err) then return nil, err end
      refuse(opts.label, err)
      return singles(p, sel, parts, size, opts, visit)
    end
    local still = {}
    for i, part in ipairs(active) do
      local ok, failed = take(part, data["p" .. i], opts, visit)
      if ok == "again" then ok, failed = alone(p, sel, part, size, opts, visit, true) end
      if ok == nil then return nil, failed end
      if ok == false then return true end
      if not part.done then still[#still + 1] = part end
    end
    active = still
  end
end

-- A count-only document of the whole list ($first: 1, the smallest page).
function M.count_document(p)
  return "query " .. p.field:gsub("^%l", string.upper) .. "Count($first: Int!) {\n  "
    .. p.field .. "(first: $first) { totalCount }\n}\n"
end

-- The end-of-list check of a batched walk. A node whose partition field
-- changed during the walk (a rename) can leave a part not yet read for one
-- already read, and so be in neither. Then the parts' last totalCounts add up
-- to less than the list held both at the start and now (one more request):
-- the list is walked again plainly (the sink absorbs the repeats). Creations
-- in a part already read, and deletions, do not set it off; a rename hidden
-- by a deletion of an already-read node in the same walk is not seen (README
-- "Batched paging"). Returns true, "moved" (walk again) or nil, err.
moved_between_parts = function(p, parts, label)
  local sum = 0
  for _, part in ipairs(parts) do
    if not part.done or part.last_total == nil then return true end -- stopped early
    sum = sum + part.last_total
  end
  if sum >= parts.total then return true end
  local data, err = graphql.query(M.count_document(p), { first = 1 })
  if not data then return nil, err end
  local now = count_of(data[p.field])
  if now == nil then return nil, { kind = "decode", message = label .. ": no totalCount" } end
  if sum >= math.min(now, parts.total) then return true end
  log.warn(string.format("%s: the parts held %d items at their ends, the list %d at the start "
    .. "and %d now: items moved between parts during the sync; reading the list again "
    .. "without batching", label, sum, parts.total, now))
  return "moved"
end

-- Walks the list through its parts when batching is on and the list splits
-- into parts that add up; visit(node, part) sees every node (a repeat after
-- a re-read included). Returns true, false when batching is off, refused or
-- the parts do not add up (the caller then pages plainly: no node was handed
-- on), or nil, err.
local function batched(opts, visit)
  local n = M.size()
  local p = opts.partition
  if n <= 1 or type(p) ~= "table" or opts.previous_page or opts.max_nodes then return false end
  for k in pairs(opts.variables or {}) do
    if k ~= "first" then return false end -- a batched page passes $first only
  end
  local size = opts.variables and math.tointeger(opts.variables.first) or 1
  local sel = M.selection(opts.query, p.field)
  local parts, why = M.plan(p, n, size, sel)
  if parts == nil then
    if not M.refused(why) then return nil, why end
    refuse(opts.label, why)
    return false
  end
  if parts == false then
    log.warn(string.format("%s: %s; paging the list without batching", opts.label, why))
    return false
  end
  local whole = start({ index = 0, name = opts.label, recent = recent(16) }, nil, 0, nil,
    parts.total, size)
  for _, part in ipairs(parts) do
    part.name, part.recent = opts.label .. ": part " .. part.index, recent(16)
    start(part, nil, 0, nil, part.n, size)
  end
  if page.info(parts.first).hasNextPage == false then
    -- the list is one page: the first request read all of it. A damaged page
    -- or one short of its totalCount is left to the plain walk (read again,
    -- then fatal); nothing has been handed on yet.
    local items = usable(parts.first, opts)
    local total = count_of(parts.first)
    if not items or (total and total > items) then return false end
    local ok, err = take(whole, parts.first, opts, visit)
    if ok == nil then return nil, err end
    return true
  end
  log.info(string.format("%s: %d items in %d parts, up to %d pages per request",
    opts.label, parts.total, #parts, n))
  local ok, err = run(p, sel, parts, n, size, opts, visit)
  if ok ~= true then return ok, err end
  return moved_between_parts(p, parts, opts.label)
end

-- lib.page.walk with batching: opts as there, plus partition.
function M.walk(opts)
  local ok, err = batched(opts, function(node) return opts.each(node) end)
  if ok == false or ok == "moved" then return page.walk(opts) end
  return ok, err
end

-- Follow-ups in batches -------------------------------------------------------

-- The follow query's root field (path "user.groups": the text of
-- `user(...) { ... }`) with $id and $after renamed for alias i.
local function follow_field(query, root, i)
  local from, open = query:find("%f[%w_]" .. root .. "%s*%b()%s*{")
  local body = open and query:match("%b{}", open)
  if body == nil then error("lib.batch: no " .. root .. "(...) { ... } in the follow query", 3) end
  local text = query:sub(from, open - 1) .. body
  text = text:gsub("%$id%f[^%w_]", "$i" .. i):gsub("%$after%f[^%w_]", "$a" .. i)
  return "q" .. i .. ": " .. text
end

function M.follow_document(follow, root, n)
  local decl, body = { "$first: Int!" }, {}
  for i = 1, n do
    decl[#decl + 1] = "$i" .. i .. ": ID!, $a" .. i .. ": String"
    body[i] = follow_field(follow.query, root, i)
  end
  return "query " .. root:gsub("^%l", string.upper) .. "ListsBatch(" .. table.concat(decl, ", ")
    .. ") {\n  " .. table.concat(body, "\n  ") .. "\n}\n"
end

-- The nested lists still pending after a batched walk (lib.page.first's
-- entries), up to n per request, each continued from its cursor with the
-- overlap lib.page.rest would use (take above). A list whose anchor moved or
-- that ended short of its totalCount is read again alone with lib.page.rest
-- from its start; one whose follow query came back without its object (gone,
-- or a damaged answer: an aliased answer cannot tell) continues alone with
-- lib.page.rest, which tells them apart. A list whose owner is gone is counted
-- (lib.page.skip_deleted). Returns true, false when the server refused the
-- batch (the lists not done are left in entries for lib.page.rest), or nil, err.
local function rest_batched(entries, follow, n, label)
  local root, sub = follow.path:match("^([^.]+)%.(.+)$")
  if root == nil or sub:find(".", 1, true) then return false end
  local size, opts = follow.page_size,
    { id_field = follow.id_field, ids_optional = follow.ids_optional }
  local parts, active, next_entry = {}, {}, 1
  for i, entry in ipairs(entries) do
    local offset = entry.offset
    if entry.cursor == nil then offset = 0 end
    parts[i] = start({ index = i, entry = entry, name = entry.owner.label }, entry.cursor,
      offset, entry.anchor, 0, size)
  end
  local function visit(node, part) return part.entry.owner.each(node) end
  -- Ends a list: lib.page.rest for what is left (from its start when fresh),
  -- else owner.done. Returns true or nil, err.
  local function finish(part, rest, fresh)
    local owner = part.entry.owner
    part.done = true
    if not rest then
      if owner.done then owner.done() end
      return true
    end
    local entry = { owner = owner }
    if not fresh and part.cursor ~= nil then
      entry.cursor, entry.offset, entry.anchor = part.cursor, part.offset, part.anchor
    end
    local ok, err = page.rest(entry, follow)
    if ok == nil then return nil, err end
    if ok == false then page.skip_deleted(owner) end
    return true
  end
  while true do
    while #active < n and next_entry <= #parts do
      active[#active + 1] = parts[next_entry]
      next_entry = next_entry + 1
    end
    if #active == 0 then return true end
    local vars = { first = size }
    for i, part in ipairs(active) do
      vars["i" .. i] = part.entry.owner.id
      vars["a" .. i] = part.cursor or graphql.null
    end
    local data, err = graphql.query(M.follow_document(follow, root, #active), vars)
    if not data then
      if not M.refused(err) then return nil, err end
      refuse(label, err)
      local left = {}
      for _, part in ipairs(parts) do
        if not part.done then
          local entry = { owner = part.entry.owner }
          if part.cursor ~= nil then
            entry.cursor, entry.offset, entry.anchor = part.cursor, part.offset, part.anchor
          end
          left[#left + 1] = entry
        end
      end
      for i = #entries, 1, -1 do entries[i] = nil end
      for i, entry in ipairs(left) do entries[i] = entry end
      return false
    end
    local still = {}
    for i, part in ipairs(active) do
      local object, ok, failed = data["q" .. i]
      if type(object) ~= "table" then
        ok, failed = finish(part, true, false)
      else
        ok, failed = take(part, object[sub], opts, visit)
        if ok == "again" then ok, failed = finish(part, true, true)
        elseif ok == false or (ok and part.done) then ok, failed = finish(part, false) end
      end
      if ok == nil then return nil, failed end
      if not part.done then still[#still + 1] = part end
    end
    active = still
  end
end

-- lib.page.walk_nested with batching: opts as there, plus partition. Each
-- part's root nodes carry their nested first pages; the longer nested lists
-- are paged after every part is done, up to page-batch of them per request.
function M.walk_nested(opts)
  local pending, follow = {}, opts.follow
  local ok, err = batched(opts, function(node, part)
    local again = part.recent.seen(node.id)
    part.recent.add(node.id)
    local owner = opts.parent(node)
    if owner == nil or again then return end
    local entry, failed = page.first(owner, node[opts.nested], follow)
    if entry == nil then return nil, failed end
    if entry ~= true then pending[#pending + 1] = entry end
  end)
  if ok == false or ok == "moved" then return page.walk_nested(opts) end
  if not ok then return nil, err end
  if M.size() > 1 and #pending > 1 then
    ok, err = rest_batched(pending, follow, M.size(), opts.label)
    if ok == nil then return nil, err end
    if ok then return true end
  end
  for _, entry in ipairs(pending) do
    ok, err = page.rest(entry, follow)
    if ok == nil then return nil, err end
    if ok == false then page.skip_deleted(entry.owner) end
  end
  return true
end

return M
