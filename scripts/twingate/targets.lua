-- Targeted sync (--sync-resources): only the named resources, their
-- entitlements and the grants on those entitlements, as baton-sdk defines
-- it. Extend it from --scripts-dir (API.md). A group brings its members' grants,
-- a role its holders' grants, a user only itself (its memberships are grants
-- on the groups' entitlements). Each target costs one request plus its
-- member or holder pages, never a walk of a whole list.
local emit = require "bt.emit"
local log = require "bt.log"
local graphql = require "bt.graphql"
local Q = require "twingate.queries"
local groups = require "twingate.groups"
local page = require "lib.page"
local roles = require "twingate.roles"
local users = require "twingate.users"

local M = {}

-- The error of a target the tenant does not hold.
local function missing(rtype, id, err)
  local why = err and (": " .. tostring(err)) or ""
  return string.format("--sync-resources: no %s with id %q in this tenant%s", rtype, id, why)
end

-- Whether a GraphQL error is the API refusing to resolve the id of the
-- by-id field (an unknown or malformed id): every error sits at path { field }.
local function unresolved(err, field)
  if type(err.errors) ~= "table" or err.errors[1] == nil then return false end
  for _, e in ipairs(err.errors) do
    local path = type(e) == "table" and e.path or nil
    if type(path) ~= "table" or path[1] ~= field or path[2] ~= nil then return false end
  end
  return true
end

-- data.<field> of a by-id query, or nil, message. The API answers an unknown
-- or malformed id with null or an error on that field; both mean "no such
-- id". An answer without the field is damage, not "no such id" (asked again,
-- then a decode error). Any other failure is returned unchanged.
local function fetch(query, field, rtype, id, variables)
  local data, err = graphql.query(query, variables, { root = field })
  if data == nil then
    if type(err) == "table" and (err.kind == "not_found"
        or (err.kind == "graphql" and unresolved(err, field))) then
      return nil, missing(rtype, id, err)
    end
    return nil, err
  end
  local node = data[field]
  if type(node) ~= "table" or node.id == nil then return nil, missing(rtype, id) end
  -- the mapped fields' types, as the full sync checks them (lib.fields)
  local check = (rtype == "group" and groups.check) or (rtype == "user" and users.check) or nil
  local ok, why = true, nil
  if check then ok, why = check(node) end
  if not ok then
    return nil, string.format("--sync-resources: %s %s: the answer is damaged: %s", rtype, id, why)
  end
  return node
end

-- The member list of a group fetched by id (its first page nested), paged
-- to the end like lib.page.walk_nested's lists.
local MEMBERS = { query = Q.GROUP_MEMBERS, path = "group.users", page_size = Q.PAGE_SIZE }

function M.group(id, scope)
  local node, err = fetch(Q.GROUP, "group", "group", id, { id = id, first = Q.PAGE_SIZE })
  if not node then return nil, err end
  local group = { id = node.id, name = groups.name(node), immutable = groups.IMMUTABLE[node.type] == true }
  emit.resource(groups.map(node, group.name))
  if not scope.entitlements("group") then return true end
  emit.entitlement(groups.entitlement(node, group.name))
  if not scope.grants("group", "user") then return true end
  local owner = { id = node.id, label = "members of group " .. group.name,
    each = groups.granter(group) }
  local entry
  entry, err = page.first(owner, node.users, MEMBERS)
  if entry == nil then return nil, err end
  if entry == true then return true end
  local ok
  ok, err = page.rest(entry, MEMBERS)
  if ok == nil then return nil, err end
  if ok == false then page.skip_deleted(owner) end
  return true
end

function M.user(id)
  local node, err = fetch(Q.USER, "user", "user", id, { id = id })
  if not node then return nil, err end
  emit.resource(users.map(node))
  return true
end

-- Roles are Twingate's UserRole values: no request for a known role itself.
-- An id no known role has names a value newer than this script (as the full
-- sync emits it); one request asks the API whether it has that value, which
-- it refuses with a GraphQL error when it does not.
function M.role(id, scope)
  local value = roles.value_of(id)
  if value == nil then return nil, missing("role", id) end
  local filter = { role = { ["in"] = { value } } }
  if not roles.is_known(value) then
    local data, err = graphql.query(Q.ROLE_HOLDERS, { filter = filter, first = 1 })
    if data == nil then
      if type(err) == "table" and err.kind == "graphql" then return nil, missing("role", id, err) end
      return nil, err
    end
  end
  local registry = roles.registry{ resources = true, entitlements = scope.entitlements("role"),
    grants = scope.grants("role", "user") }
  registry.ensure(value)
  if not scope.grants("role", "user") then return true end
  local ok, err = page.walk{
    query = Q.ROLE_HOLDERS, path = "users", label = "holders of role " .. id,
    variables = { filter = filter, first = Q.PAGE_SIZE },
    each = function(user) registry.grant(user.id, value) end,
  }
  -- a role of the admin docs that this API's UserRole lacks has no holders:
  -- the sync goes on (twingate-api.md 9a)
  if not ok and roles.refused(err, value) then
    log.warn(roles.refusal(value) .. "; no user holds it")
    return true
  end
  return ok, err
end

-- The resource types a targeted sync can name, and who syncs each.
M.HANDLERS = { group = M.group, user = M.user, role = M.role }

-- The resource types a targeted sync of these targets writes: the targets'
-- own, and user when an entitlement lists it in grantable_to.
local function types_needed(targets, scope)
  local need = {}
  for _, t in ipairs(targets) do
    need[t.type] = true
    if t.type ~= "user" and scope.entitlements(t.type) then need.user = true end
  end
  return need
end

-- Checks every target before the first request: a type this connector cannot
-- target fails the sync with one message and no file.
local function check(targets)
  for _, t in ipairs(targets) do
    if M.HANDLERS[t.type] == nil then
      return nil, string.format("--sync-resources: resources of type %q cannot be synced alone "
        .. "(targeted sync covers user, group and role)", tostring(t.type))
    end
  end
  return true
end

-- Emits the resource types (entries of init.lua's resource_types, through
-- emit_type) and every target. Returns true or nil, err.
function M.run(scope, resource_types, emit_type)
  local targets = scope.targets()
  local ok, err = check(targets)
  if not ok then return nil, err end
  local need = types_needed(targets, scope)
  for _, rt in ipairs(resource_types) do
    if need[rt.id] then emit_type(rt) end
  end
  for _, t in ipairs(targets) do
    ok, err = M.HANDLERS[t.type](t.id, scope)
    if not ok then return nil, err end
  end
  return true
end

return M
