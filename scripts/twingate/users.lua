-- Twingate users as baton `user` resources: id = Twingate id, name "First Last"
-- (the email when both are blank), a user trait with email, login, status from
-- state and a profile; plus each user's role grant. Copy into --scripts-dir to edit.
local emit = require "bt.emit"
local Q = require "twingate.queries"
local roles = require "twingate.roles"
local page = require "lib.page"
local text = require "lib.text"

local M = {}

-- Twingate UserState -> baton user status.
M.STATUS = {
  ACTIVE = { status = "enabled" },
  DISABLED = { status = "disabled" },
  PENDING = { status = "enabled", details = "invite pending (user has not signed in yet)" },
}

-- One Twingate user node -> the emit.resource table.
function M.map(node)
  local email = text.nonblank(node.email)
  local state = M.STATUS[node.state] or {}
  return {
    type = "user", id = node.id,
    display_name = text.full_name(node.firstName, node.lastName) or email or node.id,
    user = {
      emails = email and { { address = email, primary = true } } or {},
      login = email,
      status = state.status, status_details = state.details,
      account_type = "human",
      created_at = node.createdAt,
      given_name = text.nonblank(node.firstName),
      family_name = text.nonblank(node.lastName),
      profile = {
        first_name = node.firstName, last_name = node.lastName, email = node.email,
        id = node.id, is_admin = node.isAdmin, role = node.role,
        state = node.state, type = node.type,
      },
    },
  }
end

-- Emits one user node and, through roles (a twingate.roles registry), its
-- role grant.
function M.emit(node, registry)
  emit.resource(M.map(node))
  registry.grant(node.id, node.role)
end

-- Emits every user and its role grant (through the sync's twingate.roles registry).
function M.sync(ctx)
  local registry = roles.for_sync(ctx)
  return page.walk{
    query = Q.USERS, variables = { first = Q.PAGE_SIZE }, path = "users", label = "users",
    each = function(node) M.emit(node, registry) end,
  }
end

return M
