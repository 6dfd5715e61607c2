-- Twingate user roles as baton `role` resources: one per UserRole value
-- (id = lower-case value), each with a `member` entitlement granted to the
-- users holding it. Copy into --scripts-dir to rename or re-describe roles.
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

-- The role every user holds when no other is given.
M.BASE = "MEMBER"

local DISPLAY = {}
for _, r in ipairs(M.KNOWN) do DISPLAY[r.value] = r.display end

function M.is_known(value) return DISPLAY[value] ~= nil end
function M.display(value) return DISPLAY[value] or text.title_case(value) end
function M.id(value) return value:lower() end

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

-- Per-sync state: which roles were emitted. emit_known() emits the known
-- roles; grant() emits a role never seen before (a value newer than this
-- script) on first sight, then the user's grant. opts (default: all true):
-- resources (emit roles at all), entitlements, grants.
function M.registry(opts)
  opts = opts or { resources = true, entitlements = true, grants = true }
  local seen, reg = {}, {}

  function reg.ensure(value)
    if seen[value] or not opts.resources then return end
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
      log.warn("user " .. user_id .. " has no role; no role grant")
      return
    end
    if not seen[value] and not M.is_known(value) then
      log.warn("unknown Twingate role " .. value .. "; adding it as role " .. M.id(value))
    end
    reg.ensure(value)
    emit.grant{
      resource = { type = "role", id = M.id(value) }, slug = "member",
      principal = { type = "user", id = user_id },
    }
  end

  return reg
end

-- The role value of a role resource id ("devops" -> "DEVOPS"), or nil when
-- no known role has that id.
function M.value_of(id)
  for _, r in ipairs(M.KNOWN) do
    if M.id(r.value) == id then return r.value end
  end
  return nil
end

return M
