-- The sync entry point: resource types, then roles, users (with their role
-- grants) and groups (with every member's grant). Copy into --scripts-dir to
-- reorder or drop a part of the sync.
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"
local groups = require "twingate.groups"
local roles = require "twingate.roles"
local users = require "twingate.users"

local M = {}

-- The emit.resource_type fields of one entry of init.lua's resource_types.
local function resource_type(rt)
  return {
    id = rt.id, display_name = rt.display_name, traits = rt.traits,
    description = rt.description,
    skip_entitlements_and_grants = rt.skip_entitlements_and_grants,
  }
end

-- Returns true, or nil, err when any request failed (the sync then fails).
function M.run(resource_types)
  local ok, err = client.configure()
  if not ok then return nil, err end
  for _, rt in ipairs(resource_types) do emit.resource_type(resource_type(rt)) end
  local registry = roles.registry()
  registry.emit_known()
  ok, err = users.sync(registry)
  if not ok then return nil, err end
  ok, err = groups.sync()
  if not ok then return nil, err end
  local counts, stats = emit.counts(), graphql.stats()
  log.info(string.format("synced %d resources, %d entitlements, %d grants in %d requests",
    counts.resources, counts.entitlements, counts.grants, stats.requests))
  return true
end

return M
