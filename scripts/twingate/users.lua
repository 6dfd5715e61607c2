-- Twingate users as baton `user` resources: id = Twingate id, name "First Last"
-- (the email when both are blank), a user trait with email, login, status from
-- state and a profile; plus role and membership grants. Extend it from --scripts-dir (API.md).
-- Memberships are read from the user side by default: each user's groups
-- nested in the list (membership-side=groups leaves them to twingate.groups).
local emit = require "bt.emit"
local fields = require "lib.fields"
local log = require "bt.log"
local Q = require "twingate.queries"
local roles = require "twingate.roles"
local keep = require "lib.keep"
local batch = require "lib.batch"
local text = require "lib.text"

local M = {}

-- Twingate UserState -> baton user status.
M.STATUS = {
  ACTIVE = { status = "enabled" },
  DISABLED = { status = "disabled" },
  PENDING = { status = "enabled", details = "invite pending (user has not signed in yet)" },
}

-- Whether the sync keeps a user node (as queried, Q.FIELDS.user): false
-- leaves the user out with every grant naming it, on every path (API.md
-- "keep"). Replace it from an override, e.g. to skip DISABLED users.
function M.keep(node) return true end -- luacheck: no unused args

-- The types of the user fields M.map reads (the schema's, lib.fields): a
-- node with a value of another type makes its page damaged (asked again,
-- then the sync fails with a decode error). Names are repaired, counted.
M.TYPES = {
  firstName = "text", lastName = "text", email = "string", role = "string",
  state = "string", type = "string", createdAt = "string",
}

-- A lib.page check of user nodes.
M.check = fields.checker(M.TYPES, function(node) return "user " .. tostring(node.id) end)

-- One Twingate user node -> the emit.resource table (nil: left out, as keep false).
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
        id = node.id, is_admin = node.role == "ADMIN", role = node.role,
        state = node.state, type = node.type,
      },
    },
  }
end

-- The bundled keep and map, and whether an override replaced either: a
-- targeted sync then asks for the user fields of members and role holders
-- (twingate.targets), which it otherwise reads as ids.
local BUNDLED = { keep = M.keep, map = M.map }
function M.filters() return M.keep ~= BUNDLED.keep or M.map ~= BUNDLED.map end

-- Emits one user node and, through registry (a twingate.roles registry),
-- its role grant. Returns false when keep/map leave the user out (recorded
-- as filtered), true otherwise.
function M.emit(node, registry)
  local row = keep.row(M, "twingate.users", "user", node)
  if row == nil then return false end
  emit.resource(row)
  registry.grant(node.id, node.role)
  return true
end

-- Per-sync tally of the user side: the follow-up pages of users in more
-- than a page of groups.
local function tally()
  return { follow_ups = 0 }
end

-- The membership grants of one user, from the group table of
-- twingate.groups.list ({ [group id] = immutable }), through groups (the
-- twingate.groups module); counts into t. A group
-- not in that table was created after the group list was read: its grant
-- would name a resource the file lacks, so it is left out and counted.
local function memberships(groups, user_id, table_, t)
  local n = 0
  local out = groups.user_grants(user_id)
  local add = out.add
  return {
    id = user_id, label = "groups of user " .. user_id,
    each = function(group)
      n = n + 1
      local gid = group.id
      local immutable = table_[gid]
      if immutable == nil then
        if keep.filtered("group", gid) then return true end
        emit.skip("group_not_emitted", string.format("membership of user %s in group %s left "
          .. "out: the group is not in this sync (created during the sync)", user_id, gid))
        return true
      end
      add(gid, immutable)
      return true
    end,
    done = function() out.flush(); t.follow_ups = t.follow_ups + groups.follow_ups(n) end,
    flush = out.flush,
  }
end

-- Emits every user and its role grant (no memberships).
function M.walk(registry)
  return batch.walk{
    query = Q.USERS, variables = { first = Q.PAGE_SIZE }, path = "users", label = "users",
    check = M.check, partition = Q.PARTITION.users,
    each = function(node) M.emit(node, registry) end,
  }
end

-- Emits every user, its role grant and its membership grants, read from the
-- first page of its groups nested in the users list and, for users in more
-- groups, from USER_GROUPS after the users list. groups is the
-- twingate.groups module, list its list's result. Returns the tally
-- { follow_ups = }, or nil, err.
function M.walk_with_groups(registry, groups, list)
  local t = tally()
  local ok, err = batch.walk_nested{
    query = Q.USERS_WITH_GROUPS, variables = { first = Q.PAGE_SIZE }, path = "users",
    label = "users", nested = "groups", check = M.check, partition = Q.PARTITION.users,
    follow = { query = Q.USER_GROUPS, path = "user.groups", page_size = Q.PAGE_SIZE },
    parent = function(node)
      if M.emit(node, registry) == false then return nil end
      return memberships(groups, node.id, list.immutable, t)
    end,
  }
  if not ok then return nil, err end
  return t
end

-- Says what the user side cost against the group side, and which is cheaper.
local function report(t, list)
  log.info(string.format("memberships read from the user side: %d follow-up requests "
    .. "(the group side would have needed %d; see membership-side)",
    t.follow_ups, list.follow_ups))
  if list.follow_ups < t.follow_ups then
    log.warn(string.format("this tenant costs %d fewer requests with membership-side=groups",
      t.follow_ups - list.follow_ups))
  end
end

-- The user type's entry: every user with its role grant (through the sync's
-- twingate.roles registry) and, on the user side, its memberships. On the
-- user side the groups are listed first (twingate.groups.listed), so that
-- each grant's group is known.
function M.sync(ctx)
  local registry, scope = roles.for_sync(ctx), ctx.scope
  if ctx.membership_side ~= "users" or not scope.has("group") then
    return M.walk(registry)
  end
  -- required here, once per sync: twingate.groups reaches this module
  -- through twingate.principals
  local groups = require "twingate.groups"
  local list, err = groups.listed(ctx)
  if not list then return nil, err end
  if not scope.grants("group", "user") then return M.walk(registry) end
  local t
  t, err = M.walk_with_groups(registry, groups, list)
  if not t then return nil, err end
  report(t, list)
  return true
end

return M
