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
local keep = require "lib.keep"
local page = require "lib.page"
local roles = require "twingate.roles"
local users = require "twingate.users"
local fail = require "lib.failure"

local M = {}

-- The error of a target the tenant does not hold; what the API answered
-- goes to the debug log.
local function missing(rtype, id, err)
  if err then log.debug("--sync-resources: " .. rtype .. " " .. id .. ": " .. tostring(err)) end
  return fail.new("not_found",
    string.format("--sync-resources: no %s with id %q in this tenant", rtype, id))
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
  if type(node) ~= "table" then return nil, missing(rtype, id) end
  -- the mapped fields' types, as the full sync checks them (lib.fields); a
  -- node without its id is damage too, as in twingate.principals
  local check = (rtype == "group" and groups.check) or (rtype == "user" and users.check) or nil
  local ok, why = true, nil
  if check then ok, why = check(node) end
  if ok and node.id == nil then ok, why = nil, "it has no id" end
  if not ok then
    return nil, { kind = "decode", message = string.format(
      "--sync-resources: %s %s: the answer is damaged: %s", rtype, id, why) }
  end
  return node
end

-- The member list of a group fetched by id (its first page nested), paged
-- to the end like lib.page.walk_nested's lists.
-- The documents of a targeted sync's member and holder lists: ids, or the
-- user fields when an override filters users (twingate.users.filters). Built
-- at each call: Q.FIELDS.user may grow after this file loaded.
local function documents()
  if users.filters() then
    return { group = Q.GROUP_KEEP, members = Q.GROUP_MEMBERS_KEEP, holders = Q.ROLE_HOLDERS_KEEP,
      filters = true }
  end
  return { group = Q.GROUP, members = Q.GROUP_MEMBERS, holders = Q.ROLE_HOLDERS }
end

-- Whether a member or role holder node is kept; one left out is recorded as
-- filtered and gets no grant.
local function user_kept(docs, node)
  if not docs.filters or keep.accepts(users, "twingate.users", node) then return true end
  emit.filter("user", node.id)
  return false
end

function M.group(id, scope)
  local docs = documents()
  local node, err = fetch(docs.group, "group", "group", id, { id = id, first = Q.PAGE_SIZE })
  if not node then return nil, err end
  local group = { id = node.id, name = groups.name(node), immutable = groups.IMMUTABLE[node.type] == true }
  local row = keep.row(groups, "twingate.groups", "group", node, group.name)
  if row == nil then return true end
  emit.resource(row)
  if not scope.entitlements("group") then return true end
  emit.entitlement(groups.entitlement(node, group.name))
  if not scope.grants("group", "user") then return true end
  local grant = groups.granter(group)
  local owner = { id = node.id, label = "members of group " .. group.name,
    each = function(member)
      if not user_kept(docs, member) then return true end
      return grant(member)
    end }
  local entry
  local follow = { query = docs.members, path = "group.users", page_size = Q.PAGE_SIZE }
  entry, err = page.first(owner, node.users, follow)
  if entry == nil then return nil, err end
  if entry == true then return true end
  local ok
  ok, err = page.rest(entry, follow)
  if ok == nil then return nil, err end
  if ok == false then page.skip_deleted(owner) end
  return true
end

function M.user(id)
  local node, err = fetch(Q.USER, "user", "user", id, { id = id })
  if not node then return nil, err end
  local row = keep.row(users, "twingate.users", "user", node)
  if row ~= nil then emit.resource(row) end
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
  local docs = documents()
  local ok, err = page.walk{
    query = docs.holders, path = "users", label = "holders of role " .. id,
    variables = { filter = filter, first = Q.PAGE_SIZE },
    -- with an override's filter the holders carry the user fields keep reads:
    -- checked as the full sync checks them
    check = docs.filters and users.check or nil,
    each = function(user)
      if user_kept(docs, user) then registry.grant(user.id, value) end
    end,
  }
  if ok then registry.flush() end -- (this module's own registry)
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
      return nil, fail.new("input", string.format("--sync-resources: resources of type %q cannot "
        .. "be synced alone (targeted sync covers user, group and role)", tostring(t.type)))
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
