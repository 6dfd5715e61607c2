-- Twingate network resources (opt-in: --include-network-resources) as baton
-- `resource` resources with an `access` entitlement granted to groups (expandable
-- to their members) and service accounts. Extend it from --scripts-dir (API.md).
local emit = require "bt.emit"
local fields = require "lib.fields"
local log = require "bt.log"
local Q = require "twingate.queries"
local ids = require "lib.ids"
local keep = require "lib.keep"
local page = require "lib.page"
local tracking = require "twingate.principals"
local text = require "lib.text"

local M = {}

-- The types of the resource fields this module reads (lib.fields): another
-- type makes the page damaged (asked again, then a decode error).
M.TYPES = {
  __typename = "string", name = "text", alias = "text", isActive = "boolean",
  isVisible = "boolean", createdAt = "string",
  address = { type = "string", value = "string" }, remoteNetwork = { id = "string", name = "text" },
}
M.check = fields.checker(M.TYPES, function(node) return "resource " .. tostring(node.id) end)

-- Resource __typename -> how the description names it.
M.KIND = {
  NetworkResource = "Network resource",
  SSHResource = "SSH resource",
  KubernetesResource = "Kubernetes resource",
}

-- Access principal __typename -> baton principal type, and the entitlement of
-- that principal whose holders baton expands the grant to (a group's members
-- can reach what the group can).
M.PRINCIPAL = {
  Group = { type = "group", label = "group", expand = "member" },
  ServiceAccount = { type = "service_account", label = "service account" },
}

-- Resource isActive -> baton resource status.
M.STATUS = { [true] = "enabled", [false] = "disabled" }

-- The resource's name, or its id when the name is null or blank.
function M.name(node)
  if text.nonblank(node.name) then return node.name end
  log.warn("resource " .. node.id .. " has no name; using its id")
  return node.id
end

local function table_or_empty(v)
  return type(v) == "table" and v or {}
end

-- "SSH resource 10.0.0.5 in remote network AWS Production", leaving out what is unknown.
function M.describe(node)
  local address, network = table_or_empty(node.address), table_or_empty(node.remoteNetwork)
  local parts = { M.KIND[node.__typename] or "Resource" }
  parts[#parts + 1] = text.nonblank(address.value)
  if text.nonblank(network.name) then parts[#parts + 1] = "in remote network " .. network.name end
  return table.concat(parts, " ")
end

-- Whether the sync keeps a resource node (as queried, Q.FIELDS.resource):
-- false leaves it out with its entitlement and access grants. API.md "keep".
function M.keep(node) return true end -- luacheck: no unused args

-- One resource node and its name -> the emit.resource table (nil: left out). No trait: a
-- network resource is something access is granted to, like a repository or a
-- database in other connectors. The app trait would make C1 treat every
-- address as an application of its own (catalog entry, owners, app-level
-- reviews), which a Twingate resource is not; it stays inside the Twingate app.
function M.map(node, name)
  local address, network = table_or_empty(node.address), table_or_empty(node.remoteNetwork)
  return {
    type = "resource", id = node.id, display_name = name, description = M.describe(node),
    created_at = node.createdAt, status = M.STATUS[node.isActive],
    profile = {
      resource_id = node.id, name = node.name, typename = node.__typename,
      address = address.value, address_type = address.type, alias = node.alias,
      remote_network_id = network.id, remote_network_name = network.name,
      is_active = node.isActive, is_visible = node.isVisible,
    },
  }
end

-- grantable_to lists the principal types this sync emits (see twingate.sync).
function M.entitlement(node, name, grantable_to)
  return {
    resource = { type = "resource", id = node.id }, slug = "access",
    display_name = name .. " Access",
    description = "Can access the " .. name .. " resource in Twingate",
    purpose = "permission", grantable_to = grantable_to,
  }
end

-- The emit.grant table of access to resource rid for a principal of kind
-- (an entry of M.PRINCIPAL) with id pid.
function M.grant(rid, kind, pid)
  local grant = {
    resource = { type = "resource", id = rid }, slug = "access",
    principal = { type = kind.type, id = pid },
  }
  if kind.expand then
    grant.expandable = { entitlement_ids = { ids.entitlement_id(kind.type, pid, kind.expand) } }
  end
  return grant
end

-- A grant emitter for one resource: grant(principal_node). Principals whose
-- type this sync does not emit are skipped: their grants would dangle. A
-- principal of an emitted type that this sync has not emitted (created during
-- the sync) loses its grant, counted (twingate.principals). Access nodes carry
-- no id when Twingate adds a principal type newer than this script.
local function granter(resource, emitted, principals)
  return function(principal)
    local kind = M.PRINCIPAL[principal.__typename]
    if kind == nil or principal.id == nil then
      emit.skip("access_principal_unknown", string.format(
        "an access entry of resource %s (principal %s %s) left out: unknown principal type",
        resource.name, tostring(principal.__typename), tostring(principal.id)))
      return true
    end
    if not emitted[kind.type] then
      log.debug(string.format("resource %s: skipping the access of %s %s (%ss are not synced)",
        resource.name, kind.label, principal.id, kind.label))
      return true
    end
    if principals.other(kind.type, principal.id, string.format(
        "access of %s %s to resource %s", kind.label, principal.id, resource.name)) then
      emit.grant(M.grant(resource.id, kind, principal.id))
    end
    return true
  end
end

-- The principal types this sync writes (twingate.sync's scope): access may
-- be granted only to types the file holds. Without service accounts,
-- grantable_to names groups alone and their grants are skipped.
function M.principals(ctx)
  local scope, principals = ctx.scope, {}
  for _, p in ipairs{ "group", "service_account" } do
    if scope.has(p) then principals[#principals + 1] = p end
  end
  return principals
end

-- Every resource and (unless --skip-entitlements-and-grants) its entitlement,
-- without access lists: what a sync without grants writes.
local function without_grants(principals, entitlements)
  return page.walk{
    query = Q.RESOURCES, variables = { first = Q.PAGE_SIZE }, path = "resources",
    label = "resources", check = M.check,
    each = function(node)
      local name = M.name(node)
      local row = keep.row(M, "twingate.resources", "resource", node, name)
      if row == nil then return end
      emit.resource(row)
      if entitlements then emit.entitlement(M.entitlement(node, name, principals)) end
    end,
  }
end

-- Emits every resource, its entitlement and its access grants to the
-- principals of M.principals(ctx) (the entitlement's grantable_to, and the
-- grants kept). Access lists longer than the nested first page continue from
-- their endCursor after the resource list is done, so only those cost extra
-- requests. --skip-entitlements-and-grants and --skip-grants page no access list.
function M.sync(ctx)
  local principals, emitted = M.principals(ctx), {}
  local scope = ctx.scope
  if scope.skip_grants or not scope.entitlements("resource") then
    return without_grants(principals, scope.entitlements("resource"))
  end
  for _, t in ipairs(principals) do emitted[t] = true end
  local tracker = tracking.for_sync(ctx)
  return page.walk_nested{
    query = Q.RESOURCES, variables = { first = Q.PAGE_SIZE }, path = "resources",
    label = "resources", nested = "access", check = M.check,
    -- access nodes of an unknown principal type carry no id (granter above):
    -- ids are optional, and the pages are anchored on the ids present (a
    -- deletion before the cursor would otherwise lose the node after it)
    follow = { query = Q.RESOURCE_ACCESS, path = "resource.access", page_size = Q.PAGE_SIZE,
               ids_optional = true },
    parent = function(node)
      local resource = { id = node.id, name = M.name(node) }
      local row = keep.row(M, "twingate.resources", "resource", node, resource.name)
      if row == nil then return nil end
      emit.resource(row)
      emit.entitlement(M.entitlement(node, resource.name, principals))
      return { id = resource.id, label = "access of resource " .. resource.name,
               each = granter(resource, emitted, tracker) }
    end,
  }
end


return M
