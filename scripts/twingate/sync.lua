-- The sync entry point: configure the client, emit the enabled resource types,
-- then run each type's `sync` module (init.lua's resource_types) in list order.
-- To add a type, extend twingate from --scripts-dir: require "bundled:twingate", append an entry.
local config = require "bt.config"
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"

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

-- The generic loop: each enabled entry's module (rt.sync) runs its sync(ctx)
-- in list order; the first failure stops the sync. ctx.on[id] says which
-- types this sync emits; modules may keep per-sync state in ctx.
function M.each_type(resource_types, ctx)
  for _, rt in ipairs(resource_types) do
    if ctx.on[rt.id] and rt.sync then
      local ok, err = require(rt.sync).sync(ctx)
      if not ok then return nil, err end
    end
  end
  return true
end

-- Returns true, or nil, err when any request failed (the sync then fails).
function M.run(resource_types)
  if type(resource_types) ~= "table" then
    error("twingate.sync.run(resource_types): pass init.lua's resource_types", 2)
  end
  local ok, err = client.configure()
  if not ok then return nil, err end
  local ctx = { on = {} }
  for _, rt in ipairs(resource_types) do
    -- An opt-in type (init.lua's opt_in names its bool setting) is off by
    -- default: the sync then neither emits it nor sends a request for it.
    ctx.on[rt.id] = rt.opt_in == nil or M.enabled(rt.opt_in)
    if ctx.on[rt.id] then emit.resource_type(resource_type(rt)) end
  end
  ok, err = M.each_type(resource_types, ctx)
  if not ok then return nil, err end
  local counts, stats = emit.counts(), graphql.stats()
  log.info(string.format("synced %d resources, %d entitlements, %d grants in %d requests",
    counts.resources, counts.entitlements, counts.grants, stats.requests))
  return true
end

return M
