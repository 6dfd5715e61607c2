-- Generic Relay-connection helpers on top of bt.graphql: iterate the nodes of
-- a page and walk every page of a connection. Nothing here knows Twingate;
-- extend it from --scripts-dir (API.md). Pages reach them checked: a null edge or
-- node, or a node without id, is a decode failure the runtime asks again.
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"

local M = {}

-- Highest integer key of a list. GraphQL null elements decode to holes, so
-- the length operator is not a safe bound.
local function last_index(list)
  local n = 0
  for k in pairs(list) do
    if math.type(k) == "integer" and k > n then n = k end
  end
  return n
end

-- Iterator over the non-null nodes of conn.edges. label names the list in
-- warnings ("members of group X").
function M.nodes(conn, label)
  local edges = type(conn) == "table" and conn.edges or nil
  if type(edges) ~= "table" then
    log.warn("no edges in " .. label .. "; treating the page as empty")
    return function() return nil end
  end
  local n, i = last_index(edges), 0
  return function()
    while i < n do
      i = i + 1
      local edge = edges[i]
      local node = type(edge) == "table" and edge.node or nil
      if node ~= nil then return node end
      log.warn("skipping a null entry at position " .. i .. " of " .. label)
    end
    return nil
  end
end

-- The pageInfo of a connection, or an empty table.
function M.info(conn)
  return type(conn) == "table" and type(conn.pageInfo) == "table" and conn.pageInfo or {}
end

-- Misuse raises at the line that called walk or walk_nested (level 3 from
-- here), not inside this file. spec: field -> expected type ("?" = optional).
local function check_opts(fn, opts, spec)
  if type(opts) ~= "table" then
    error(string.format("lib.page.%s: expected a table of options, got %s", fn, type(opts)), 3)
  end
  for field, want in pairs(spec) do
    local optional, kind = want:match("^(%??)(%a+)$")
    local got = type(opts[field])
    if got ~= kind and not (optional == "?" and got == "nil") then
      error(string.format("lib.page.%s: opts.%s must be a %s (got %s)", fn, field, kind, got), 3)
    end
  end
end

-- (id_field is a string or false, so it is left to graphql.paginate to check.)
local WALK = { query = "string", path = "string", label = "string", each = "function",
  variables = "?table", on_page = "?function", max_nodes = "?number", previous_page = "?table" }
local WALK_NESTED = { query = "string", path = "string", label = "string",
  nested = "string", follow = "table", parent = "function", variables = "?table" }

-- Walks every page of one connection and calls each(node) for every node.
-- opts: query, variables, path, label, each; optional on_page(conn) runs
-- after the nodes of a page; optional id_field, max_nodes and previous_page
-- are graphql.paginate's (id_field "id" by default, false when nodes carry no
-- id). each returning false stops early (success);
-- each or on_page returning nil, err stops and the walk returns nil, err.
-- Returns the page count.
function M.walk(opts)
  check_opts("walk", opts, WALK)
  local failure
  local function visit(conn)
    for node in M.nodes(conn, opts.label) do
      local ok, err = opts.each(node)
      if ok == false then return false end
      if ok == nil and err ~= nil then failure = err; return false end
    end
    if opts.on_page then
      local ok, err = opts.on_page(conn)
      if ok == nil and err ~= nil then failure = err; return false end
    end
    return true
  end
  local pages, err = graphql.paginate{
    query = opts.query, variables = opts.variables, path = opts.path,
    cursor_var = "after", on_page = visit, id_field = opts.id_field,
    previous_page = opts.previous_page, max_nodes = opts.max_nodes,
  }
  if failure ~= nil then return nil, failure end
  if pages == nil then return nil, err end
  return pages
end

-- Walks a root connection whose nodes each carry the first page of a nested
-- connection (a group's members, an account's keys) and pages the nested
-- lists that run longer only after the root walk, from their endCursor, so
-- only those cost extra requests and at most a few cursors are held. A nested
-- first page of the wrong shape (graphql.check_page) is not used: that list
-- is asked for again from its start with the follow query.
-- opts: query, variables, path, label (the root walk); nested (the nested
-- field name); follow = { query =, path =, page_size =, id_field = } pages one
-- nested list with variables { id =, first =, after = } (id_field as in
-- graphql.paginate, for the nested nodes); parent(node) returns nil to skip
-- the node, or { id =, label =, each = fn(child), done = fn() or nil }: each
-- sees every nested node (returning nil, err stops the walk), done runs once
-- the node's nested list is complete.
-- A node deleted before its list is complete (the follow query finds no
-- object) gets no done; that is counted as skip owner_deleted_during_sync.
function M.walk_nested(opts)
  check_opts("walk_nested", opts, WALK_NESTED)
  local pending, queued, follow = {}, {}, opts.follow
  -- a root page read again (graphql.paginate's read back) queues nothing twice
  local function queue(entry)
    if queued[entry.h.id] then return end
    queued[entry.h.id] = true
    pending[#pending + 1] = entry
  end
  local ok, err = M.walk{
    query = opts.query, variables = opts.variables, path = opts.path, label = opts.label,
    each = function(node)
      local h = opts.parent(node)
      if h == nil then return end
      local nested = node[opts.nested]
      local fine, bad = graphql.check_page(nested, { id_field = follow.id_field })
      if not fine then
        log.warn(string.format("%s: the first page in the answer is not usable (%s); "
          .. "asking for the list again", h.label, bad.message))
        queue{ h = h }
        return
      end
      for child in M.nodes(nested, h.label) do
        local fine2, err2 = h.each(child)
        if fine2 == nil and err2 ~= nil then return nil, err2 end
      end
      local info = M.info(nested)
      if info.hasNextPage then
        queue{ h = h, cursor = info.endCursor, total = nested.totalCount }
      elseif h.done then
        h.done()
      end
    end,
  }
  if not ok then return nil, err end
  for _, p in ipairs(pending) do
    ok, err = M.walk{
      query = follow.query, path = follow.path, label = p.h.label, each = p.h.each,
      variables = { id = p.h.id, first = follow.page_size, after = p.cursor },
      id_field = follow.id_field,
      -- the count the first page showed, so a list that shrank since is read back
      previous_page = math.type(p.total) == "integer" and { total = p.total } or nil,
    }
    if not ok and err.kind ~= "not_found" then return nil, err end
    if ok then
      if p.h.done then p.h.done() end
    else -- the owner was deleted after the root page was read
      emit.skip("owner_deleted_during_sync", p.h.label .. ": deleted during the sync; "
        .. "the rest of the list is left out")
    end
  end
  return true
end

return M
