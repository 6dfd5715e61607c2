-- Recipe "add a field": ask Twingate for each user's updatedAt and put it in
-- the user's profile as updated_at.
-- Recipe "skip users": keep(node) false leaves a user out of every path
-- (user side, group side, targeted syncs, provisioning) with its grants.
local users = require "bundled:twingate.users"
local Q = require "twingate.queries"
table.insert(Q.FIELDS.user, "updatedAt")

local map = users.map
function users.map(node)
  local resource = map(node)
  resource.user.profile.updated_at = node.updatedAt
  return resource
end

function users.keep(node) return node.state ~= "DISABLED" end
return users
