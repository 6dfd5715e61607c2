-- The Twingate connector's entry script: metadata, flags, resource types (also
-- the capability list) and the sync and provisioning handlers. To add a type,
-- extend it from --scripts-dir: require "bundled:twingate", append an entry.
local client = require "twingate.client"
local provisioning = require "twingate.provisioning"
local sync = require "twingate.sync"

-- Each entry is also data for the sync: `sync` names the module whose sync(ctx)
-- emits the type, run in list order (twingate.sync); `opt_in` names the bool
-- setting that turns an opt-in type on (capabilities mark it optInRequired).
-- Roles are granted while users are listed; the role entry emits the rest.
-- On the user side (membership-side), users list the groups first themselves
-- (twingate.groups.listed); the group entry then has nothing left to do.
local resource_types = {
  -- targeted_sync: --sync-resources can name resources of the type (twingate.targets).
  { id = "user", display_name = "User", traits = { "user" },
    skip_entitlements_and_grants = true,
    account_provisioning = true, resource_delete = true, targeted_sync = true,
    sync = "twingate.users" },
  { id = "group", display_name = "Group", traits = { "group" }, provision = true,
    targeted_sync = true, sync = "twingate.groups" },
  { id = "role", display_name = "Role", traits = { "role" }, provision = true,
    targeted_sync = true, sync = "twingate.roles" },
  { id = "service_account", display_name = "Service Account", traits = { "user" },
    description = "A Twingate service account: a non-human identity with API keys",
    skip_entitlements_and_grants = true, opt_in = "include-service-accounts",
    sync = "twingate.service_accounts" },
  { id = "resource", display_name = "Resource", traits = {},
    description = "A Twingate network resource (Network, SSH or Kubernetes) and who can access it",
    opt_in = "include-network-resources", sync = "twingate.resources" },
}

return {
  api_version = 1,
  name = "baton-twingate",
  display_name = "Twingate",
  description = "Connector syncing Twingate users, groups, and roles to Baton",
  config = {
    { name = "api-key", display_name = "API key", help = "The Twingate API key", required = true,
      secret = true },
    { name = "domain", help = "Your Twingate network domain, e.g. acme.twingate.com or acme",
      required = true, required_unless = "api-url" },
    { name = "api-url", display_name = "API URL", ops = true,
      help = "GraphQL endpoint; default https://<domain>/api/graphql/ (tests, proxies)" },
    { name = "include-service-accounts", type = "bool", default = "false",
      help = "Also sync service accounts (resource type service_account)" },
    { name = "include-network-resources", type = "bool", default = "false",
      help = "Also sync network resources (resource type resource) and who can access them" },
    { name = "membership-side", default = "users", ops = true,
      help = "Read group memberships from the users (User.groups) or the groups (Group.users); "
        .. "users costs fewer requests unless users sit in more groups than groups hold members" },
    { name = "page-batch", type = "int", default = "1", ops = true,
      help = "Pages read in one request (1-50): the users and groups lists are split by the "
        .. "first characters of names and read in parallel parts (README: Batched paging)" },
  },
  resource_types = resource_types,
  -- The account-creation form ConductorOne shows (service mode's Hello); the
  -- keys are the profile keys create_account reads.
  account_creation_schema = {
    { key = "email", display_name = "Email", required = true, type = "string" },
    { key = "first_name", display_name = "First name", type = "string" },
    { key = "last_name", display_name = "Last name", type = "string" },
  },
  -- opts: the driver's sync options (API.md "sync options"), nil for a full sync.
  sync = function(opts) return sync.run(resource_types, opts) end,
  grant = provisioning.grant,
  revoke = provisioning.revoke,
  create_account = provisioning.create_account,
  delete_resource = provisioning.delete_resource,
  validate = client.validate,
  -- The link ConductorOne shows for this connector (service mode's Hello).
  external_link = client.external_link,
}
