-- Recipe "add a type": Twingate remote networks as baton `remote_network`
-- resources (no entitlements), one request per page of 100.
local emit = require "bt.emit"
local page = require "lib.page"

local M = {}

M.QUERY = [[
query RemoteNetworks($first: Int!, $after: String) {
  remoteNetworks(first: $first, after: $after) {
    pageInfo { hasNextPage endCursor }
    edges { node { id name location isActive createdAt } }
  }
}
]]

function M.map(node)
  return {
    type = "remote_network", id = node.id, display_name = node.name or node.id,
    created_at = node.createdAt, status = node.isActive == false and "disabled" or "enabled",
    profile = { name = node.name, location = node.location, is_active = node.isActive },
  }
end

function M.sync()
  return page.walk{
    query = M.QUERY, variables = { first = 100 }, path = "remoteNetworks",
    label = "remote networks",
    each = function(node) emit.resource(M.map(node)) end,
  }
end

return M
