-- What one sync writes, from the options the driver passes to the entry
-- script's sync (API.md, "sync options"). Generic baton rules, no Twingate;
-- extend it from --scripts-dir (API.md). Which resource types, whether
-- entitlements and grants, and which resources a targeted sync names.
local M = {}

local function set_of(list)
  if type(list) ~= "table" or #list == 0 then return nil end
  local set = {}
  for _, v in ipairs(list) do set[v] = true end
  return set
end

-- opts: nil (a full sync) or { resource_types = { id, ... },
-- skip_entitlements_and_grants = bool, skip_grants = bool,
-- targets = { { type =, id = }, ... } }. enabled(type_id) says whether the
-- connector syncs that type at all (opt-in settings).
function M.new(opts, enabled)
  opts = opts or {}
  local only = set_of(opts.resource_types)
  local s = {
    skip_entitlements = opts.skip_entitlements_and_grants == true,
    skip_grants = opts.skip_entitlements_and_grants == true or opts.skip_grants == true,
    targeted = type(opts.targets) == "table" and #opts.targets > 0,
  }

  -- Resources of this type are written.
  function s.has(rtype)
    return enabled(rtype) and (only == nil or only[rtype] == true)
  end

  function s.entitlements(rtype)
    return s.has(rtype) and not s.skip_entitlements
  end

  -- Grants on rtype's entitlements to principals of ptype. A full sync
  -- writes them only when the principal's type is written too (a grant
  -- whose principal is missing would dangle); a targeted sync's principals
  -- live in the full sync it amends.
  function s.grants(rtype, ptype)
    if s.skip_grants or not s.entitlements(rtype) then return false end
    return s.targeted or s.has(ptype)
  end

  -- The targets whose type is written, without repeats, in the given order.
  function s.targets()
    local out, seen = {}, {}
    for _, t in ipairs(s.targeted and opts.targets or {}) do
      local key = tostring(t.type) .. "\0" .. tostring(t.id)
      if only == nil or only[t.type] then
        if not seen[key] then out[#out + 1] = t end
        seen[key] = true
      end
    end
    return out
  end

  return s
end

return M
