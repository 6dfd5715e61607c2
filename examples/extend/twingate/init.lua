-- Recipe "add a type": the bundled entry script plus one resource type whose
-- module (twingate.remote_networks) syncs it, run after the bundled types.
local connector = require "bundled:twingate"
table.insert(connector.resource_types, {
  id = "remote_network", display_name = "Remote Network", traits = {},
  skip_entitlements_and_grants = true, sync = "twingate.remote_networks",
})
return connector
