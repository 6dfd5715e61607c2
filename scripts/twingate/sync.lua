-- The sync entry point: resource types, roles, groups, users (with role and
-- membership grants), then opt-in types. Copy into --scripts-dir to reorder or drop a part.
-- opts (from the driver: --sync-resource-types, --skip-entitlements-and-grants,
-- --skip-grants, --sync-resources) narrow what is written; see lib.scope.
local config = require "bt.config"
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"
local groups = require "twingate.groups"
local resources = require "twingate.resources"
local roles = require "twingate.roles"
local service_accounts = require "twingate.service_accounts"
local targets = require "twingate.targets"
local users = require "twingate.users"
local scope_of = require "lib.scope"

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

local function emit_type(rt) emit.resource_type(resource_type(rt)) end

-- Where memberships are read: "users" (default; User.groups) or "groups"
-- (Group.users). README "Cost" gives the rule for choosing.
function M.membership_side()
  local side = config.get("membership-side")
  if side == nil or side == "" then return "users" end
  if side ~= "users" and side ~= "groups" then
    return nil, string.format("membership-side must be users or groups, not %q", side)
  end
  return side
end

-- The user side: groups listed without members (a table of what grants need,
-- O(groups)), then users with their first page of groups nested.
local function from_user_side(scope, registry)
  local members = scope.grants("group", "user")
  local list = { immutable = {}, follow_ups = 0 }
  if scope.has("group") then
    local err
    list, err = groups.list{ entitlements = scope.entitlements("group") }
    if not list then return nil, err end
  end
  if not scope.has("user") then return true end   -- no grant may name a missing user
  local tally, err = users.sync{ roles = registry, groups = members and list.immutable or nil }
  if not tally then return nil, err end
  if tally.unknown_groups > 0 then
    log.warn(string.format("skipped %d memberships of groups created after the group list "
      .. "was read; the next sync has them", tally.unknown_groups))
  end
  if members then
    log.info(string.format("memberships read from the user side: %d follow-up requests "
      .. "(the group side would have needed %d; see membership-side)",
      tally.follow_ups, list.follow_ups))
    if list.follow_ups < tally.follow_ups then
      log.warn(string.format("this tenant costs %d fewer requests with membership-side=groups",
        tally.follow_ups - list.follow_ups))
    end
  end
  return true
end

-- The group side: users first (with role grants), then groups with their
-- first page of members nested.
local function from_group_side(scope, registry)
  if scope.has("user") then
    local tally, err = users.sync{ roles = registry }
    if not tally then return nil, err end
  end
  if not scope.has("group") then return true end
  local extra, err = groups.sync{ entitlements = scope.entitlements("group"),
    grants = scope.grants("group", "user") }
  if not extra then return nil, err end
  log.info(string.format("memberships read from the group side: %d follow-up requests", extra))
  return true
end

-- Users, groups and roles with their grants.
local function people(scope)
  local side, err = M.membership_side()
  if not side then return nil, err end
  local registry = roles.registry{ resources = scope.has("role"),
    entitlements = scope.entitlements("role"), grants = scope.grants("role", "user") }
  registry.emit_known()
  if side == "groups" then return from_group_side(scope, registry) end
  return from_user_side(scope, registry)
end

-- The opt-in types, each only when on and in scope.
local function opt_in(scope)
  if scope.has("service_account") then
    local ok, err = service_accounts.sync()
    if not ok then return nil, err end
  end
  if not scope.has("resource") then return true end
  -- Access may be granted only to principal types this file holds: without
  -- service accounts, grantable_to names groups alone and their grants are skipped.
  local principals = {}
  for _, p in ipairs{ "group", "service_account" } do
    if scope.has(p) then principals[#principals + 1] = p end
  end
  return resources.sync{ principals = principals, entitlements = scope.entitlements("resource"),
    grants = not scope.skip_grants }
end

-- Returns true, or nil, err when any request failed (the sync then fails).
function M.run(resource_types, opts)
  local ok, err = client.configure()
  if not ok then return nil, err end
  local on = {}
  for _, rt in ipairs(resource_types) do
    -- An opt-in type (init.lua's opt_in names its bool setting) is off by
    -- default: the sync then neither emits it nor sends a request for it.
    on[rt.id] = rt.opt_in == nil or M.enabled(rt.opt_in)
  end
  local scope = scope_of.new(opts, function(id) return on[id] == true end)
  if scope.targeted then
    ok, err = targets.run(scope, resource_types, emit_type)
  else
    -- Group and role entitlements are grantable to users: their type is
    -- written even when --sync-resource-types leaves users out.
    local grantable = scope.entitlements("group") or scope.entitlements("role")
    for _, rt in ipairs(resource_types) do
      if scope.has(rt.id) or (rt.id == "user" and grantable) then emit_type(rt) end
    end
    ok, err = people(scope)
    if ok then ok, err = opt_in(scope) end
  end
  if not ok then return nil, err end
  local counts, stats = emit.counts(), graphql.stats()
  log.info(string.format("synced %d resources, %d entitlements, %d grants in %d requests",
    counts.resources, counts.entitlements, counts.grants, stats.requests))
  return true
end

return M
