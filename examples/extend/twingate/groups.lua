-- Recipe "drop groups from map": map returning nil means keep false: no
-- Contractors group, no entitlement, no membership or access grant naming it.
local groups = require "bundled:twingate.groups"

local map = groups.map
function groups.map(node, name)
  if name == "Contractors" then return nil end
  return map(node, name)
end
return groups
