-- Generic Relay-connection helpers on top of bt.graphql: iterate the nodes of
-- a page and walk every page of a connection. Nothing here knows Twingate;
-- extend it from --scripts-dir (API.md). Every page these helpers hand on is
-- checked (graphql.check_page): no null edge or node, no node without id,
-- and, with opts.check, every node of the types the mapping expects.
-- Lists whose edges carry `cursor` overlap one node per page, so a shift in
-- an offset-cursor list is seen and read again (graphql.paginate); nested
-- first pages pass on that overlap to rest() (first() below).
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"

local M = {}

-- Calls fn(node) for each node of a checked page, in order, until fn returns
-- false or nil, err (then returns that; else true): the loop of M.nodes
-- without an iterator call per node (first() runs it for every membership of
-- a sync).
local function each_node(conn, fn)
  local edges = conn.edges
  if edges == nil then
    local list = conn.nodes or {}
    for i = 1, #list do
      local ok, err = fn(list[i])
      if ok == false or (ok == nil and err ~= nil) then return ok, err end
    end
    return true
  end
  for i = 1, #edges do
    local ok, err = fn(edges[i].node)
    if ok == false or (ok == nil and err ~= nil) then return ok, err end
  end
  return true
end

-- Iterator over the nodes of a page that passed graphql.check_page (as every
-- page of graphql.paginate has): edges[i].node, or nodes[i] for a connection
-- that lists its nodes directly. A page not checked may hold graphql.null.
function M.nodes(conn)
  local edges, i = conn.edges, 0
  if edges == nil then
    local list = conn.nodes or {}
    return function() i = i + 1; return list[i] end
  end
  return function()
    i = i + 1
    local edge = edges[i]
    return edge and edge.node
  end
end

-- The pageInfo of a connection, or an empty table.
function M.info(conn)
  return type(conn) == "table" and type(conn.pageInfo) == "table" and conn.pageInfo or {}
end

-- Misuse raises at the line that called the public function (level 3 from
-- here), not inside this file. spec: field -> expected type ("?" = optional).
-- Each spec is parsed once: first() and rest() check theirs once per owner,
-- i.e. once per user or group of a sync.
local parsed = {}
local function parse(spec)
  local fields = parsed[spec]
  if fields then return fields end
  fields = {}
  for field, want in pairs(spec) do
    local optional, kind = want:match("^(%??)(%a+)$")
    fields[#fields + 1] = { field = field, kind = kind, optional = optional == "?" }
  end
  parsed[spec] = fields
  return fields
end

local function check_opts(fn, opts, spec, name)
  name = name or "opts"
  if type(opts) ~= "table" then
    error(string.format("lib.page.%s: expected a table of options, got %s", fn, type(opts)), 3)
  end
  for _, f in ipairs(parse(spec)) do
    local got = type(opts[f.field])
    if got ~= f.kind and not (f.optional and got == "nil") then
      error(string.format("lib.page.%s: %s.%s must be a %s (got %s)", fn, name, f.field, f.kind,
        got), 3)
    end
  end
end

-- (id_field is a string or false, so it is left to graphql.paginate to check.)
local WALK = { query = "string", path = "string", label = "string", each = "function",
  variables = "?table", on_page = "?function", max_nodes = "?number", previous_page = "?table",
  check = "?function", ids_optional = "?boolean" }
local WALK_NESTED = { query = "string", path = "string", label = "string",
  nested = "string", follow = "table", parent = "function", variables = "?table",
  check = "?function" }
local FOLLOW = { query = "string", path = "string", page_size = "number",
  ids_optional = "?boolean" }
local OWNER = { id = "string", label = "string", each = "function", done = "?function",
  flush = "?function" }
-- (a spec is parsed once per table: each must be a table made once, not per call)
local ENTRY = { owner = "table" }

-- A graphql.paginate check from check(node) -> true | nil, why: the page is
-- refused (damaged: asked again, then a decode error) at its first bad node,
-- named by its position from 0 (edges[0] is the first).
local function page_check(check)
  if check == nil then return nil end
  return function(conn)
    local i = 0
    for node in M.nodes(conn) do
      local ok, why = check(node)
      if not ok then
        return nil, string.format("%s[%d].node: %s", conn.edges and "edges" or "nodes", i,
          tostring(why or "refused"))
      end
      i = i + 1
    end
    return true
  end
end
-- (lib.batch checks its batched pages with the same hook.)
M.page_check = page_check

-- Walks every page of one connection and calls each(node) for every node.
-- opts: query, variables, path, label, each; optional on_page(conn) runs
-- after the nodes of a page; optional check(node) -> true | nil, why refuses
-- a node of the wrong shape: its page is damaged, asked again like a mangled
-- body, then the walk fails with a decode error (nothing on it is used);
-- optional id_field, ids_optional, max_nodes and previous_page are
-- graphql.paginate's (id_field "id" by default, false when nodes carry no id;
-- ids_optional true when some nodes may lack it, as a union member the query
-- selects no id on: the pages are still anchored on the ids present; max_nodes
-- bounds a list the script knows to be small). each returning false stops early
-- (success); each or on_page returning nil, err stops and the walk returns
-- nil, err. Returns the page count.
function M.walk(opts)
  check_opts("walk", opts, WALK)
  local failure
  local function visit(conn)
    local ok, err = each_node(conn, opts.each)
    if ok == false then return false end
    if ok == nil and err ~= nil then failure = err; return false end
    if opts.on_page then
      ok, err = opts.on_page(conn)
      if ok == nil and err ~= nil then failure = err; return false end
    end
    return true
  end
  local pages, err = graphql.paginate{
    query = opts.query, variables = opts.variables, path = opts.path,
    cursor_var = "after", on_page = visit, id_field = opts.id_field,
    ids_optional = opts.ids_optional, previous_page = opts.previous_page,
    max_nodes = opts.max_nodes, progress = opts.label,
    check = page_check(opts.check),
  }
  if failure ~= nil then return nil, failure end
  if pages == nil then return nil, err end
  return pages
end

-- One owner's nested list (a group's members, a user's groups) whose first
-- page arrived inside another answer, in two steps: first() uses that page,
-- rest() pages the remainder with the follow query.
-- owner = { id =, label =, each = fn(child), done = fn() or nil }: each sees
-- every nested node (returning false ends the list early, as complete;
-- nil, err stops), done runs once the list is complete.
-- follow = { query =, path =, page_size =, id_field =, ids_optional = } pages
-- one nested list with variables { id =, first =, after = } (id_field and
-- ids_optional as in graphql.paginate).

-- Where the rest of a list continues after its first page conn (checked)
-- of n nodes: with edge cursors, after the second-to-last node, the last one
-- as the anchor the next page must begin with (offset n - 1; graphql.paginate
-- reads back when it does not); else (no ids, or a last node without one:
-- ids_optional) after the last node or endCursor.
local function continuation(conn, n, id_field)
  local edges = conn.edges or {}
  local function cursor(i)
    local c = edges[i] and edges[i].cursor
    if type(c) == "string" and c ~= "" then return c end
  end
  local last = edges[n] and edges[n].node
  if id_field and n >= 2 and cursor(n - 1) and last[id_field] ~= nil
    and last[id_field] ~= graphql.null then
    return { cursor = cursor(n - 1), offset = n - 1, anchor = edges[n].node[id_field] }
  end
  return { cursor = cursor(n) or conn.pageInfo.endCursor, offset = n }
end
-- (lib.batch continues its parts and nested lists the same way.)
M.continuation = continuation

-- An owner as OWNER asks, told without the generic check (which runs, and
-- names the field, only when this fails): first() meets one per user or group.
local function owner_ok(o)
  return type(o) == "table" and type(o.id) == "string" and type(o.label) == "string"
    and type(o.each) == "function" and (o.done == nil or type(o.done) == "function")
    and (o.flush == nil or type(o.flush) == "function")
end

-- Feeds the first page conn to owner.each. A page of the wrong shape
-- (graphql.check_page) is not used: the list is read again from its start.
-- So is a last page holding fewer nodes than its totalCount (a list that
-- ended early): rest()'s walk reads it once more and fails if it stays short.
-- Returns true (the list is complete and done has run), a pending entry for
-- rest() when more remains, or nil, err from each.
function M.first(owner, conn, follow)
  if not owner_ok(owner) then check_opts("first", owner, OWNER, "owner") end
  check_opts("first", follow, FOLLOW, "follow")
  local n, bad = graphql.check_page(conn, { id_field = follow.id_field,
    ids_optional = follow.ids_optional })
  if not n then
    log.warn(string.format("%s: the first page in the answer is not usable (%s); "
      .. "asking for the list again", owner.label, tostring(bad.message or bad)))
    return { owner = owner }
  end
  local info, total = conn.pageInfo, conn.totalCount
  if not info.hasNextPage and math.type(total) == "integer" and total > n then
    log.warn(string.format("%s: the first page holds %d nodes and says it is the last, but "
      .. "its totalCount is %d; asking for the list again", owner.label, n, total))
    return { owner = owner }
  end
  local ok, err = each_node(conn, owner.each)
  if ok == false then
    if owner.done then owner.done() end
    return true
  end
  if ok == nil and err ~= nil then return nil, err end
  if info.hasNextPage then
    local id_field = follow.id_field
    if id_field == nil then id_field = "id" end
    local entry = continuation(conn, n, id_field)
    entry.owner = owner
    return entry
  end
  if owner.done then owner.done() end
  return true
end

-- Pages the rest of a list from first()'s pending entry. Returns true (done
-- has run), false when the owner no longer exists (the follow query's root
-- field came back null: deleted since its first page; done does not run), or
-- nil, err (an answer without that field is damage: a decode error).
function M.rest(entry, follow)
  check_opts("rest", entry, ENTRY, "entry")
  check_opts("rest", follow, FOLLOW, "follow")
  local owner = entry.owner
  local ok, err = M.walk{
    query = follow.query, path = follow.path, label = owner.label, each = owner.each,
    variables = { id = owner.id, first = follow.page_size, after = entry.cursor },
    id_field = follow.id_field, ids_optional = follow.ids_optional,
    previous_page = entry.cursor and { offset = entry.offset, anchor = entry.anchor } or nil,
  }
  if not ok then
    if type(err) == "table" and err.kind == "not_found" then return false end
    return nil, err
  end
  if owner.done then owner.done() end
  return true
end

-- Counts (sync phase) an owner that rest() found deleted; owner.flush (if
-- any) first writes what its each collected from the pages read.
function M.skip_deleted(owner)
  if owner.flush then owner.flush() end
  emit.skip("owner_deleted_during_sync", owner.label .. ": deleted during the sync; "
    .. "the rest of the list is left out")
end

-- Root ids of the last pages, at least `pages` of them (graphql.paginate
-- walks back at most 8 pages after a shift before it starts the list over):
-- a root page read again hands no parent over twice, and memory stays flat.
-- (A walk started over from the list's start, after more than 8 pages moved,
-- may hand an early parent over again: its rows are absorbed as repeats.)
local function recent(pages)
  local now, before, n = {}, {}, 0
  local r = {}
  function r.seen(id) return now[id] or before[id] end
  function r.add(id) now[id] = true end
  function r.page()
    n = n + 1
    if n >= pages then before, now, n = now, {}, 0 end
    return true
  end
  return r
end
M.recent = recent

-- Walks a root connection whose nodes each carry the first page of a nested
-- connection (first() above) and pages the nested lists that run longer only
-- after the root walk (rest()), so only those cost extra requests and at most
-- a few cursors are held.
-- opts: query, variables, path, label, check (the root walk, as in walk);
-- nested (the nested field name); follow (as above); parent(node) returns
-- nil to skip the node,
-- or an owner (as above) for its nested list. A root node seen before (its
-- page read again after a deletion, or the server repeating it) goes to
-- parent again, so the sink absorbs or flags its row as for any repeat, but
-- its nested list is not used again: each and done run once per owner.
-- An owner deleted before its list is complete gets no done; that is counted
-- as skip owner_deleted_during_sync.
function M.walk_nested(opts)
  check_opts("walk_nested", opts, WALK_NESTED)
  local pending, follow, visited = {}, opts.follow, recent(16)
  local ok, err = M.walk{
    query = opts.query, variables = opts.variables, path = opts.path, label = opts.label,
    on_page = visited.page, check = opts.check,
    each = function(node)
      local again = visited.seen(node.id)
      visited.add(node.id)
      local owner = opts.parent(node)
      if owner == nil or again then return end
      local entry, failed = M.first(owner, node[opts.nested], follow)
      if entry == nil then return nil, failed end
      if entry ~= true then pending[#pending + 1] = entry end
    end,
  }
  if not ok then return nil, err end
  for _, entry in ipairs(pending) do
    ok, err = M.rest(entry, follow)
    if ok == nil then return nil, err end
    if ok == false then M.skip_deleted(entry.owner) end
  end
  return true
end

return M
