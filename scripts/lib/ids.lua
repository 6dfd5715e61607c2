-- Baton id conventions (entitlement "type:id:slug", grant
-- "entitlement:principal-type:principal-id") and checks of the ids the driver
-- hands to provisioning handlers. Generic; extend it from --scripts-dir (API.md).
local M = {}

local function is_id(v)
  return type(v) == "string" and v ~= ""
end

function M.entitlement_id(rtype, rid, slug)
  return rtype .. ":" .. rid .. ":" .. slug
end

function M.grant_id(entitlement_id, ptype, pid)
  return entitlement_id .. ":" .. ptype .. ":" .. pid
end

-- Normalises req.entitlement to {type, id (resource id), slug, id_string}.
-- Accepts the API.md shape {type, id = resource id, slug, id_string} and the
-- driver shape {type, id = entitlement id, resource = resource id, slug}.
-- The full id, when given, must agree with its parts.
function M.entitlement(ent)
  if type(ent) ~= "table" then
    return nil, "the request names no entitlement"
  end
  local rid, full = ent.id, ent.id_string
  if ent.resource ~= nil then
    rid, full = ent.resource, ent.id
  end
  if not is_id(ent.type) or not is_id(rid) or not is_id(ent.slug) then
    return nil, "malformed entitlement: type, resource id and slug are required"
  end
  local built = M.entitlement_id(ent.type, rid, ent.slug)
  if full ~= nil and full ~= built then
    return nil, string.format("malformed entitlement: id %q does not match %q",
      tostring(full), built)
  end
  return { type = ent.type, id = rid, slug = ent.slug, id_string = built }
end

-- Normalises req.principal to {type, id}; want_type, when given, is enforced
-- and stands in for a missing type (--grant-principal-type is optional).
function M.principal(p, want_type)
  if type(p) == "table" and p.type == nil and want_type then
    p = { type = want_type, id = p.id }
  end
  if type(p) ~= "table" or not is_id(p.type) or not is_id(p.id) then
    return nil, "malformed principal: type and id are required"
  end
  if want_type and p.type ~= want_type then
    return nil, string.format("only %s principals can hold this entitlement, not %s",
      want_type, p.type)
  end
  return { type = p.type, id = p.id }
end

-- Checks req.grant (when present) against the entitlement and principal.
function M.check_grant(grant, ent, principal)
  if grant == nil then return true end
  local built = M.grant_id(ent.id_string, principal.type, principal.id)
  if grant ~= built then
    return nil, string.format("malformed grant: id %q does not match %q",
      tostring(grant), built)
  end
  return true
end

return M
