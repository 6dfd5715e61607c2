-- The keep hook every bundled type module shares: a module's keep(node)
-- (node as queried) returning false, or its map(node, ...) returning nil,
-- leaves the node out of the sync together with every grant that names it.
-- Such a node is recorded with emit.filter (the summary's "filtered N" by
-- type, apart from "skipped"), so grants met later, on another list, drop it
-- without a request. Nothing here knows Twingate.
local emit = require "bt.emit"

local M = {}

-- Whether module m (whose name labels errors) keeps node: m.keep(node) must
-- return true or false; a module without keep keeps everything.
function M.kept(m, name, node)
  if m.keep == nil then return true end
  local ok = m.keep(node)
  if type(ok) ~= "boolean" then
    error(string.format("%s.keep(node) must return true or false, not %s (node %s)", name,
      type(ok) == "nil" and "nil" or tostring(ok), tostring(node and node.id)), 2)
  end
  return ok
end

-- The row m.map(node, ...) makes, or nil when m.keep refuses the node or the
-- map returns nil: the node is then recorded as filtered under rtype.
function M.row(m, name, rtype, node, ...)
  if M.kept(m, name, node) then
    local row = m.map(node, ...)
    if row ~= nil then return row end
  end
  emit.filter(rtype, node.id)
  return nil
end

-- Whether node would be kept (keep and map both accept it), for a path that
-- only decides (a grant to it, a provisioning request naming it).
function M.accepts(m, name, node, ...)
  return M.kept(m, name, node) and m.map(node, ...) ~= nil
end

-- Whether an earlier list of this sync left rtype:id out (emit.filter).
function M.filtered(rtype, id)
  return emit.is_filtered(rtype, id)
end

return M
