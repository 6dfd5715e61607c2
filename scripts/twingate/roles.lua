-- Twingate user roles as baton `role` resources: one per UserRole value
-- (id = lower-case value), each with a `member` entitlement granted to the
-- users holding it. To rename or drop a role, extend it from --scripts-dir
-- (require "bundled:twingate.roles", change KNOWN or DROP) rather than copy it.
local emit = require "bt.emit"
local log = require "bt.log"
local text = require "lib.text"

local M = {}

-- Twingate's UserRole values and their display names, in display order.
M.KNOWN = {
  { value = "ADMIN", display = "Admin" },
  { value = "DEVOPS", display = "DevOps" },
  { value = "SUPPORT", display = "Support" },
  { value = "MEMBER", display = "Member" },
  { value = "ACCESS_REVIEWER", display = "Access Reviewer" },
  { value = "HELPDESK", display = "Helpdesk" },
  { value = "BILLING", display = "Billing" },
}

-- UserRole values never synced: no role resource, and users holding one get
-- no role grant. roles.DROP.BILLING = true drops Billing.
M.DROP = {}

-- The role every user holds when no other is given.
M.BASE = "MEMBER"

-- KNOWN is read at each call, so an override's edits to it count.
local function known(value)
  for _, r in ipairs(M.KNOWN) do
    if r.value == value then return r end
  end
  return nil
end

function M.is_known(value) return known(value) ~= nil end
function M.display(value)
  local r = known(value)
  return r and r.display or text.title_case(value)
end
function M.id(value) return value:lower() end

-- Whether err is the API refusing value as a UserRole (a variables error,
-- HTTP 400, naming the value): HELPDESK and BILLING are in the admin docs
-- but not in every schema (twingate-api.md 9a).
function M.refused(err, value)
  if type(err) ~= "table" or err.kind ~= "graphql" or type(value) ~= "string" then return false end
  local texts = { tostring(err.message or "") }
  for _, e in ipairs(type(err.errors) == "table" and err.errors or {}) do
    if type(e) == "table" and type(e.message) == "string" then texts[#texts + 1] = e.message end
  end
  for _, t in ipairs(texts) do
    if t:find(value, 1, true) and (t:find("UserRole", 1, true) or t:lower():find("enum", 1, true)) then
      return true
    end
  end
  return false
end

-- The message for a role the API refuses.
function M.refusal(value)
  return "this Twingate API does not accept role " .. value
end

function M.resource(value)
  local id, display = M.id(value), M.display(value)
  return {
    type = "role", id = id, display_name = display,
    role = { profile = { role_id = id, role_name = display } },
  }
end

function M.entitlement(value)
  local display = M.display(value)
  return {
    resource = { type = "role", id = M.id(value) }, slug = "member",
    display_name = display .. " Role Member",
    description = "Has the " .. display .. " role in Twingate",
    purpose = "assignment", grantable_to = { "user" },
  }
end

-- Role grants a registry holds before writing them in one emit.grants call
-- (one call per user cost more than its row).
M.GRANT_BATCH = 100

-- Per-sync state: which roles were emitted. emit_known() emits the known
-- roles; grant() emits a role never seen before (a value newer than this
-- script) on first sight, then takes the user's grant, written with others
-- of that role once M.GRANT_BATCH wait or at flush(): twingate.sync flushes
-- the sync's registry (M.for_sync) at the end (M.flush_sync), and a registry
-- made elsewhere is flushed by its maker (twingate.targets). Dropped roles
-- are neither. opts (default: all true):
-- resources (emit roles at all), entitlements, grants.
function M.registry(opts)
  opts = opts or { resources = true, entitlements = true, grants = true }
  local seen, reg = {}, {}
  local waiting, order = {}, {} -- role value -> user ids; values in the order first met

  local function write(value)
    local ids = waiting[value]
    if ids == nil or #ids == 0 then return end
    waiting[value] = {}
    -- emit.grants writes the rows emit.grant would, through the bulk path: the
    -- role's entitlement and resource are packed once per role, not per user
    emit.grants{
      resource = { type = "role", id = M.id(value) }, slug = "member",
      principals = { type = "user", ids = ids },
    }
  end

  -- Writes every role grant taken and not yet written.
  function reg.flush()
    for _, value in ipairs(order) do write(value) end
  end

  function reg.ensure(value)
    if seen[value] or M.DROP[value] or not opts.resources then return end
    seen[value] = true
    emit.resource(M.resource(value))
    if opts.entitlements then emit.entitlement(M.entitlement(value)) end
  end

  function reg.emit_known()
    for _, r in ipairs(M.KNOWN) do reg.ensure(r.value) end
  end

  function reg.grant(user_id, value)
    if not opts.grants then return end
    if type(value) ~= "string" or value == "" then
      emit.skip("no_role", "user " .. user_id .. " has no role; its role grant is left out")
      return
    end
    if M.DROP[value] then
      log.debug("user " .. user_id .. " holds dropped role " .. value .. "; no role grant")
      return
    end
    if not seen[value] and not M.is_known(value) then
      log.warn("unknown Twingate role " .. value .. "; adding it as role " .. M.id(value))
    end
    reg.ensure(value)
    local ids = waiting[value]
    if ids == nil then
      ids = {}
      waiting[value] = ids
      order[#order + 1] = value
    end
    ids[#ids + 1] = user_id
    if #ids >= M.GRANT_BATCH then write(value) end
  end

  return reg
end

-- Writes what the sync's registry (ctx.roles, M.for_sync) still holds.
function M.flush_sync(ctx)
  if ctx.roles and ctx.roles.flush then ctx.roles.flush() end
end

-- The role value of a role resource id ("devops" -> "DEVOPS"), or nil when
-- the id cannot name a role: not lower-case letters, digits and _, or a
-- dropped role. An id no known role has is taken as a value newer than this
-- script (the full sync emits such a role as it meets it: "security_auditor"
-- -> "SECURITY_AUDITOR"); the API refuses a value it does not have.
function M.value_of(id)
  if type(id) ~= "string" or not id:match("^[a-z][a-z0-9_]*$") then return nil end
  for _, r in ipairs(M.KNOWN) do
    if M.id(r.value) == id then
      if M.DROP[r.value] then return nil end
      return r.value
    end
  end
  local value = id:upper()
  if M.DROP[value] then return nil end
  return value
end

-- The registry of one sync (ctx from twingate.sync), shared by the users'
-- role grants and the role type's own entry, whichever runs first; what it
-- writes follows the sync's scope (lib.scope).
function M.for_sync(ctx)
  if ctx.roles then return ctx.roles end
  local scope = ctx.scope
  ctx.roles = M.registry{ resources = scope.has("role"), entitlements = scope.entitlements("role"),
    grants = scope.grants("role", "user") }
  return ctx.roles
end

-- The role type's entry: every known role, granted or not.
function M.sync(ctx)
  M.for_sync(ctx).emit_known()
  return true
end

return M
