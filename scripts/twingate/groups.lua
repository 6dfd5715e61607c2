-- Twingate groups as baton `group` resources with a `member` entitlement and
-- one grant per member, over every page of members (Everyone included).
-- Extend it from --scripts-dir (API.md).
local emit = require "bt.emit"
local fields = require "lib.fields"
local log = require "bt.log"
local Q = require "twingate.queries"
local keep = require "lib.keep"
local batch = require "lib.batch"
local tracking = require "twingate.principals"
local text = require "lib.text"

local M = {}

-- Twingate GroupType -> baton group source type.
M.SOURCE_TYPE = { MANUAL = "native", SYNCED = "directory_synced", SYSTEM = "built_in" }

-- Group types whose membership the API cannot change (IdP-owned, built in).
M.IMMUTABLE = { SYNCED = true, SYSTEM = true }

-- The types of the group fields this module reads (the schema's,
-- lib.fields): another type makes the page damaged (asked again, then a
-- decode error), so a name served as an array never lands in a profile.
M.TYPES = {
  name = "text", type = "string", isActive = "boolean", originId = "string",
  createdAt = "string", users = { totalCount = "integer" },
}

-- A lib.page check of group nodes.
M.check = fields.checker(M.TYPES, function(node) return "group " .. tostring(node.id) end)

-- The group's name, or its id when the name is null or blank.
function M.name(node)
  if text.nonblank(node.name) then return node.name end
  log.warn("group " .. node.id .. " has no name; using its id")
  return node.id
end

-- Whether the sync keeps a group node (as queried, Q.FIELDS.group): false
-- leaves the group out with its entitlement and every grant naming it
-- (memberships, resource access). API.md "keep".
function M.keep(node) return true end -- luacheck: no unused args

-- One group node and its name -> the emit.resource table (nil: left out).
function M.map(node, name)
  return {
    type = "group", id = node.id, display_name = name, created_at = node.createdAt,
    group = {
      profile = {
        group_id = node.id, group_name = node.name, type = node.type,
        is_active = node.isActive, origin_id = node.originId,
      },
      source_type = M.SOURCE_TYPE[node.type], raw_source_type = node.type,
    },
  }
end

function M.entitlement(node, name)
  return {
    resource = { type = "group", id = node.id }, slug = "member",
    display_name = name .. " Group Member",
    description = "Is member of the " .. name .. " group in Twingate",
    purpose = "assignment", grantable_to = { "user" },
    immutable = M.IMMUTABLE[node.type] == true,
  }
end

-- The membership grant of user uid in group gid.
function M.grant(gid, uid, immutable)
  emit.grant{
    resource = { type = "group", id = gid }, slug = "member",
    principal = { type = "user", id = uid }, immutable = immutable,
  }
end

-- Membership grants of one owner collected and written together with
-- emit.grants (one call per list instead of one emit.grant per membership;
-- the rows are the same). add(id[, immutable]) collects, flush() writes.
-- M.member_grants(gid, immutable): a group's members (ids of users);
-- M.user_grants(uid): a user's groups (ids of groups, with their immutable flag).
-- (The ids without the flag are written first, then those with it.)
local function collector(write)
  local plain, flagged, n_plain, n_flagged = {}, {}, 0, 0
  local c = {}
  function c.add(id, flag)
    if flag == true then
      n_flagged = n_flagged + 1
      flagged[n_flagged] = id
    else
      n_plain = n_plain + 1
      plain[n_plain] = id
    end
  end
  function c.flush()
    local ids, flagged_ids, n, n_f = plain, flagged, n_plain, n_flagged
    plain, flagged, n_plain, n_flagged = {}, {}, 0, 0
    if n > 0 then write(ids, false) end
    if n_f > 0 then write(flagged_ids, true) end
  end
  return c
end

function M.member_grants(gid, immutable)
  local c = collector(function(ids)
    emit.grants{ resource = { type = "group", id = gid }, slug = "member",
      principals = { type = "user", ids = ids }, immutable = immutable }
  end)
  local add = c.add
  c.add = function(uid) add(uid, false) end
  return c
end

function M.user_grants(uid)
  return collector(function(ids, immutable)
    emit.grants{ resources = { type = "group", ids = ids }, slug = "member",
      principal = { type = "user", id = uid }, immutable = immutable }
  end)
end

-- A grant emitter for one group: grant(member_node) -> true | nil, err.
-- principals (a twingate.principals tracker; nil in a targeted sync, whose
-- principals live in the full sync it amends) fetches a member that joined
-- after the users were read, or drops the grant with a counted warning.
-- With out (a M.member_grants collector) the grant is collected there
-- instead of written at once.
function M.granter(group, principals, out)
  return function(member)
    if principals then
      local ok, err = principals.user(member.id, string.format(
        "grant of group %s to user %s", group.name, member.id))
      if ok == nil then return nil, err end
      if not ok then return true end
    end
    if out then out.add(member.id) else M.grant(group.id, member.id, group.immutable) end
    return true
  end
end

-- Requests paging the rest of a list of n items costs, beyond its first page:
-- each further page overlaps the one before by a node (lib.page), so it
-- brings PAGE_SIZE - 1 new ones.
function M.follow_ups(n)
  n = math.tointeger(n)
  if n == nil or n <= Q.PAGE_SIZE then return 0 end
  return (n - 2) // (Q.PAGE_SIZE - 1)
end

-- Emits every group and (opts.entitlements) its entitlement, without members:
-- the user side reads memberships. Returns { immutable = { [group id] = bool },
-- follow_ups = n } (O(groups): what a membership grant needs, and what the
-- group side would have cost beyond its list pages), or nil, err.
function M.list(opts)
  local seen = { immutable = {}, follow_ups = 0 }
  local ok, err = batch.walk{
    query = Q.GROUP_LIST, variables = { first = Q.PAGE_SIZE }, path = "groups", label = "groups",
    check = M.check, partition = Q.PARTITION.groups,
    each = function(node)
      local name = M.name(node)
      local row = keep.row(M, "twingate.groups", "group", node, name)
      if row == nil then return end
      emit.resource(row)
      if opts.entitlements then emit.entitlement(M.entitlement(node, name)) end
      seen.immutable[node.id] = M.IMMUTABLE[node.type] == true
      local members = type(node.users) == "table" and node.users.totalCount or nil
      seen.follow_ups = seen.follow_ups + M.follow_ups(members)
    end,
  }
  if not ok then return nil, err end
  return seen
end

-- The group list of one sync (ctx from twingate.sync), read once by whichever
-- runs first: the users' membership walk or the group type's own entry.
function M.listed(ctx)
  if ctx.group_list then return ctx.group_list end
  local list, err = M.list{ entitlements = ctx.scope.entitlements("group") }
  if not list then return nil, err end
  ctx.group_list = list
  return list
end

-- The group side: emits every group, its entitlement and (opts.grants) its
-- members' grants, through principals (a twingate.principals tracker).
-- Member lists longer than the nested first page continue from their
-- endCursor after the group list is done, so only those groups cost extra
-- requests. Returns the number of those extra requests, or nil, err.
function M.walk(opts)
  local extra = 0
  local ok, err = batch.walk_nested{
    query = Q.GROUPS, variables = { first = Q.PAGE_SIZE }, path = "groups", label = "groups",
    nested = "users", check = M.check, partition = Q.PARTITION.groups,
    follow = { query = Q.GROUP_MEMBERS, path = "group.users", page_size = Q.PAGE_SIZE },
    parent = function(node)
      local group = { id = node.id, name = M.name(node), immutable = M.IMMUTABLE[node.type] == true }
      local row = keep.row(M, "twingate.groups", "group", node, group.name)
      if row == nil then return nil end
      emit.resource(row)
      if not opts.entitlements then return nil end
      emit.entitlement(M.entitlement(node, group.name))
      if not opts.grants then return nil end
      local out = M.member_grants(group.id, group.immutable)
      local grant, n = M.granter(group, opts.principals, out), 0
      return {
        id = group.id, label = "members of group " .. group.name,
        each = function(member) n = n + 1; return grant(member) end,
        done = function() out.flush(); extra = extra + M.follow_ups(n) end,
        flush = out.flush,
      }
    end,
  }
  if not ok then return nil, err end
  return extra
end

-- The group type's entry. On the user side (the default) the groups are a
-- list without members, read by the users' walk when it ran first; on the
-- group side (membership-side=groups) the full walk with members, unless
-- this sync writes no membership grant (--skip-grants,
-- --skip-entitlements-and-grants, --sync-resource-types without user): then
-- the member-less list, as on the user side.
function M.sync(ctx)
  local scope = ctx.scope
  if ctx.membership_side == "users" or not scope.grants("group", "user") then
    local list, err = M.listed(ctx)
    if not list then return nil, err end
    return true
  end
  local extra, err = M.walk{ entitlements = scope.entitlements("group"),
    grants = scope.grants("group", "user"), principals = tracking.for_sync(ctx) }
  if not extra then return nil, err end
  log.info(string.format("memberships read from the group side: %d follow-up requests", extra))
  return true
end

return M
