-- Generic Relay-connection helpers on top of bt.graphql: iterate the nodes of
-- a page (skipping null edges and nodes with a warning) and walk every page of
-- a connection. Nothing here knows Twingate; copy into --scripts-dir to change.
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

local WALK = { query = "string", path = "string", label = "string", each = "function",
  variables = "?table", on_page = "?function" }
local WALK_NESTED = { query = "string", path = "string", label = "string", item = "string",
  nested = "string", follow = "table", parent = "function", variables = "?table" }

-- Walks every page of one connection and calls each(node) for every node.
-- opts: query, variables, path, label, each; optional on_page(conn) runs
-- after the nodes of a page. each returning false stops early (success);
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
    cursor_var = "after", on_page = visit,
  }
  if failure ~= nil then return nil, failure end
  if pages == nil then return nil, err end
  return pages
end

-- Walks a root connection whose nodes each carry the first page of a nested
-- connection (a group's members, an account's keys) and pages the nested
-- lists that run longer only after the root walk, from their endCursor, so
-- only those cost extra requests and at most a few cursors are held.
-- opts: query, variables, path, label (the root walk); item (a node's kind,
-- for "skipping a <item> without id"); nested (the nested field name);
-- follow = { query =, path =, page_size = } pages one nested list with
-- variables { id =, first =, after = }; parent(node) returns nil to skip the
-- node, or { id =, label =, each = fn(child), done = fn() or nil }: each sees
-- every nested node, done runs once the node's nested list is complete.
function M.walk_nested(opts)
  check_opts("walk_nested", opts, WALK_NESTED)
  local pending = {}
  local ok, err = M.walk{
    query = opts.query, variables = opts.variables, path = opts.path, label = opts.label,
    each = function(node)
      if node.id == nil then
        log.warn("skipping a " .. opts.item .. " without id")
        return
      end
      local h = opts.parent(node)
      if h == nil then return end
      local nested = node[opts.nested]
      for child in M.nodes(nested, h.label) do h.each(child) end
      local info = M.info(nested)
      if info.hasNextPage then
        pending[#pending + 1] = { h = h, cursor = info.endCursor }
      elseif h.done then
        h.done()
      end
    end,
  }
  if not ok then return nil, err end
  local follow = opts.follow
  for _, p in ipairs(pending) do
    ok, err = M.walk{
      query = follow.query, path = follow.path, label = p.h.label, each = p.h.each,
      variables = { id = p.h.id, first = follow.page_size, after = p.cursor },
    }
    if not ok then return nil, err end
    if p.h.done then p.h.done() end
  end
  return true
end

return M
