-- Twingate users as baton `user` resources: id = Twingate id, name "First Last"
-- (the email when both are blank), a user trait with email, login, status from
-- state and a profile; plus role and membership grants. Copy into --scripts-dir to edit.
-- Memberships are read from the user side: each user's groups nested in the list.
local emit = require "bt.emit"
local log = require "bt.log"
local groups = require "twingate.groups"
local Q = require "twingate.queries"
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

-- Per-sync tally of the user side: the follow-up pages of users in more
-- than a page of groups, and memberships of groups the group list did not
-- hold (created after it was read; their grants would dangle).
local function tally()
  return { follow_ups = 0, unknown_groups = 0 }
end

-- The membership grants of one user, from the group table of
-- twingate.groups.list ({ [group id] = immutable }); counts into t.
local function memberships(user_id, table_, t)
  local n = 0
  return {
    id = user_id, label = "groups of user " .. user_id,
    each = function(group)
      n = n + 1
      local immutable = group.id ~= nil and table_[group.id]
      if immutable == nil then
        t.unknown_groups = t.unknown_groups + 1
        log.debug("user " .. user_id .. ": skipping group " .. tostring(group.id)
          .. " (not in the group list)")
        return
      end
      groups.grant(group.id, user_id, immutable)
    end,
    done = function()
      if n > Q.PAGE_SIZE then t.follow_ups = t.follow_ups + (n + Q.PAGE_SIZE - 1) // Q.PAGE_SIZE - 1 end
    end,
  }
end

-- Emits every user (unless opts.emit == false) and, with opts.roles (a
-- twingate.roles registry), its role grant; with opts.groups (the group
-- table of twingate.groups.list) also its membership grants, read from the
-- first page of its groups nested in the users list and, for users in more
-- groups, from USER_GROUPS after the users list. Returns the tally
-- { follow_ups =, unknown_groups = }, or nil, err.
function M.sync(opts)
  local t = tally()
  local function visit(node)
    if opts.emit ~= false then emit.resource(M.map(node)) end
    if opts.roles then opts.roles.grant(node.id, node.role) end
  end
  local ok, err
  if opts.groups == nil then
    ok, err = page.walk{
      query = Q.USERS, variables = { first = Q.PAGE_SIZE }, path = "users", label = "users",
      each = function(node)
        if node.id == nil then
          log.warn("skipping a user without id")
          return
        end
        visit(node)
      end,
    }
  else
    ok, err = page.walk_nested{
      query = Q.USERS_WITH_GROUPS, variables = { first = Q.PAGE_SIZE }, path = "users",
      label = "users", item = "user", nested = "groups",
      follow = { query = Q.USER_GROUPS, path = "user.groups", page_size = Q.PAGE_SIZE },
      parent = function(node)
        visit(node)
        return memberships(node.id, opts.groups, t)
      end,
    }
  end
  if not ok then return nil, err end
  return t
end

return M
