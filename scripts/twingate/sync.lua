-- The sync entry point: resource types, roles, users (with role grants), groups
-- (with every member's grant), then the opt-in service accounts and network
-- resources (with access grants). Copy into --scripts-dir to reorder or drop a part.
local config = require "bt.config"
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"
local groups = require "twingate.groups"
local principals = require "twingate.principals"
local resources = require "twingate.resources"
local roles = require "twingate.roles"
local service_accounts = require "twingate.service_accounts"
local users = require "twingate.users"

local M = {}

-- Whether a bool setting is on: "true" or "1" (flag, BATON_* or .baton.yaml).
function M.enabled(name)
  local value = config.get(name)
  return value == "true" or value == "1"
end

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
  local on = {}
  for _, rt in ipairs(resource_types) do
    -- An opt-in type (init.lua's opt_in names its bool setting) is off by
    -- default: the sync then neither emits it nor sends a request for it.
    on[rt.id] = rt.opt_in == nil or M.enabled(rt.opt_in)
    if on[rt.id] then emit.resource_type(resource_type(rt)) end
  end
  local registry = roles.registry()
  registry.emit_known()
  ok, err = users.sync(registry)
  if not ok then return nil, err end
  -- grants naming a principal the lists above missed (twingate.principals)
  local tracker = principals.tracker(registry)
  ok, err = groups.sync(tracker)
  if not ok then return nil, err end
  if on.service_account then
    ok, err = service_accounts.sync()
    if not ok then return nil, err end
  end
  if on.resource then
    -- Access may be granted only to principal types this file holds: without
    -- service accounts, grantable_to names groups alone and their grants are skipped.
    local types = { "group" }
    if on.service_account then types[#types + 1] = "service_account" end
    ok, err = resources.sync{ principals = types, tracker = tracker }
    if not ok then return nil, err end
  end
  local counts, stats = emit.counts(), graphql.stats()
  log.info(string.format("synced %d resources, %d entitlements, %d grants in %d requests",
    counts.resources, counts.entitlements, counts.grants, stats.requests))
  return true
end

return M
