-- The sync entry point: configure the client, emit the enabled resource types,
-- then run each type's `sync` module (init.lua's resource_types) in list order.
-- To add a type, extend twingate from --scripts-dir: require "bundled:twingate", append an entry.
-- opts (from the driver: --sync-resource-types, --skip-entitlements-and-grants,
-- --skip-grants, --sync-resources) narrow what is written; see lib.scope.
local config = require "bt.config"
local emit = require "bt.emit"
local fields = require "lib.fields"
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"
local targets = require "twingate.targets"
local roles = require "twingate.roles"
local scope_of = require "lib.scope"
local fail = require "lib.failure"
local batch = require "lib.batch"

local M = {}

-- Whether a bool setting is on: "true" or "1" (flag, BATON_* or .baton.yaml).
function M.enabled(name)
  local value = config.get(name)
  return value == "true" or value == "1"
end

-- Where memberships are read: "users" (default; User.groups) or "groups"
-- (Group.users). README "Cost" gives the rule for choosing.
function M.membership_side()
  local side = config.get("membership-side")
  if side == nil or side == "" then return "users" end
  if side ~= "users" and side ~= "groups" then
    return nil, fail.new("input", string.format("membership-side must be users or groups, not %q",
      side))
  end
  return side
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

-- The generic loop: each entry's module (rt.sync) whose type this sync
-- writes runs its sync(ctx) in list order; the first failure stops the sync.
-- ctx (made by M.run) holds on[id] (which types are enabled), scope (the
-- lib.scope of what this sync writes) and membership_side; modules may keep
-- per-sync state in it.
function M.each_type(resource_types, ctx)
  local scope = ctx.scope
  for _, rt in ipairs(resource_types) do
    if scope.has(rt.id) and rt.sync then
      local ok, err = require(rt.sync).sync(ctx)
      if not ok then return nil, err end
    end
  end
  return true
end

-- A full (or type-limited) sync: the types written, then the loop. Group and
-- role entitlements are grantable to users: the user type is written even
-- when --sync-resource-types leaves users out.
local function full(resource_types, ctx)
  local scope = ctx.scope
  local grantable = scope.entitlements("group") or scope.entitlements("role")
  for _, rt in ipairs(resource_types) do
    if scope.has(rt.id) or (rt.id == "user" and grantable) then emit_type(rt) end
  end
  return M.each_type(resource_types, ctx)
end

-- Returns true, or nil, err when any request failed (the sync then fails).
function M.run(resource_types, opts)
  if type(resource_types) ~= "table" then
    error("twingate.sync.run(resource_types): pass init.lua's resource_types", 2)
  end
  local ok, err = batch.configure(tonumber(config.get("page-batch") or "1"))
  if not ok then return nil, err end
  ok, err = client.configure()
  if not ok then return nil, err end
  local side
  side, err = M.membership_side()
  if not side then return nil, err end
  local ctx = { on = {}, membership_side = side }
  for _, rt in ipairs(resource_types) do
    -- An opt-in type (init.lua's opt_in names its bool setting) is off by
    -- default: the sync then neither emits it nor sends a request for it.
    ctx.on[rt.id] = rt.opt_in == nil or M.enabled(rt.opt_in)
  end
  ctx.scope = scope_of.new(opts, function(id) return ctx.on[id] == true end)
  if ctx.scope.targeted then
    ok, err = targets.run(ctx.scope, resource_types, emit_type)
  else
    ok, err = full(resource_types, ctx)
  end
  if not ok then return nil, client.explain(err) end
  roles.flush_sync(ctx) -- the role grants the sync's registry still holds
  if fields.repaired > 0 then
    log.warn(string.format("%d names were not valid UTF-8 and were repaired (U+FFFD)",
      fields.repaired))
  end
  local counts, stats = emit.counts(), graphql.stats()
  log.info(string.format("synced %d resources, %d entitlements, %d grants in %d requests",
    counts.resources, counts.entitlements, counts.grants, stats.requests))
  return true
end

return M
