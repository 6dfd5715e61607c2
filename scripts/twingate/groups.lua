-- Twingate groups as baton `group` resources with a `member` entitlement and
-- one grant per member, over every page of members (Everyone included).
-- Copy into --scripts-dir to change the mapping.
local emit = require "bt.emit"
local log = require "bt.log"
local Q = require "twingate.queries"
local page = require "lib.page"
local tracking = require "twingate.principals"
local text = require "lib.text"

local M = {}

-- Twingate GroupType -> baton group source type.
M.SOURCE_TYPE = { MANUAL = "native", SYNCED = "directory_synced", SYSTEM = "built_in" }

-- Group types whose membership the API cannot change (IdP-owned, built in).
M.IMMUTABLE = { SYNCED = true, SYSTEM = true }

-- The group's name, or its id when the name is null or blank.
function M.name(node)
  if text.nonblank(node.name) then return node.name end
  log.warn("group " .. node.id .. " has no name; using its id")
  return node.id
end

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

-- A grant emitter for one group: grant(member_node) -> true | nil, err.
-- principals (a twingate.principals tracker) fetches a member that joined
-- after the users were read, or drops the grant with a counted warning.
local function granter(group, principals)
  return function(member)
    local ok, err = principals.user(member.id, string.format(
      "grant of group %s to user %s", group.name, member.id))
    if ok == nil then return nil, err end
    if not ok then return true end
    emit.grant{
      resource = { type = "group", id = group.id }, slug = "member",
      principal = { type = "user", id = member.id }, immutable = group.immutable,
    }
    return true
  end
end

-- Emits every group, its entitlement and its members' grants. Member lists
-- longer than the nested first page continue from their endCursor after the
-- group list is done, so only those groups cost extra requests.
function M.sync(ctx)
  local principals = tracking.for_sync(ctx)
  return page.walk_nested{
    query = Q.GROUPS, variables = { first = Q.PAGE_SIZE }, path = "groups", label = "groups",
    nested = "users",
    follow = { query = Q.GROUP_MEMBERS, path = "group.users", page_size = Q.PAGE_SIZE },
    parent = function(node)
      local group = { id = node.id, name = M.name(node), immutable = M.IMMUTABLE[node.type] == true }
      emit.resource(M.map(node, group.name))
      emit.entitlement(M.entitlement(node, group.name))
      return { id = group.id, label = "members of group " .. group.name,
               each = granter(group, principals) }
    end,
  }
end


return M
