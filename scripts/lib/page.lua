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

-- Walks every page of one connection and calls each(node) for every node.
-- opts: query, variables, path, label, each; optional on_page(conn) runs
-- after the nodes of a page. each returning false stops early (success);
-- each or on_page returning nil, err stops and the walk returns nil, err.
-- Returns the page count.
function M.walk(opts)
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

return M
