-- Recipe "drop a role": no Billing role, and no role grant for its holders.
local roles = require "bundled:twingate.roles"
roles.DROP.BILLING = true
return roles
