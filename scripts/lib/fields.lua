-- The types of the fields a mapping reads from a node, checked before the
-- node is used: a value of another type is damage, not data (a group name
-- served as an array must not land in a profile). Generic: nothing here
-- knows Twingate; the mapping modules hold their specs. Extend it from
-- --scripts-dir (API.md).
--
-- A spec maps a field to its kind:
--   "string"  a string of valid UTF-8, at most M.MAX_STRING bytes
--   "text"    the same, but a name: bytes that are not UTF-8 (a lone
--             surrogate from the JSON) are repaired to U+FFFD with a counted
--             warning instead of refusing the node
--   "boolean", "integer", "number"
--   a table   an object whose fields follow that spec
-- A field absent (or null) passes: nullability is the mapping's business.
-- Ids are never repaired (the runtime refuses an id that is not UTF-8).
local log = require "bt.log"

local M = {}

-- Longest string a mapped field may hold (64 KiB); beyond it the node is damaged.
M.MAX_STRING = 64 * 1024

-- Names repaired in this run (the first few are logged one by one).
M.repaired = 0
local LOGGED = 20

local function repair(s)
  local out, i, n = {}, 1, #s
  while i <= n do
    local len = utf8.len(s, i, n)
    if len then out[#out + 1] = s:sub(i); break end
    local _, bad = utf8.len(s, i, n)
    out[#out + 1] = s:sub(i, bad - 1) .. "\u{FFFD}"
    i = bad + 1
    while i <= n and s:byte(i) >= 0x80 and s:byte(i) < 0xC0 do i = i + 1 end
  end
  return table.concat(out)
end

local function check_string(node, field, kind, label)
  local v = node[field]
  if #v > M.MAX_STRING then
    return nil, string.format("%s is a string of %d bytes, over the %d-byte limit", field, #v,
      M.MAX_STRING)
  end
  if utf8.len(v) then return true end
  if kind ~= "text" then return nil, field .. " is not valid UTF-8" end
  node[field] = repair(v)
  M.repaired = M.repaired + 1
  if M.repaired <= LOGGED then
    log.warn(string.format("%s: %s is not valid UTF-8; repaired to %q (%d names repaired so far)",
      label or "node", field, node[field], M.repaired))
  end
  return true
end

-- true, or nil, why for the first field of node that breaks spec. label names
-- the node in a repair warning.
function M.check(node, spec, label)
  if type(node) ~= "table" then return nil, "not an object" end
  for field, kind in pairs(spec) do
    local v = node[field]
    if v ~= nil then
      local ok, why = true, nil
      if type(kind) == "table" then
        if type(v) ~= "table" then
          ok, why = nil, field .. " is not an object"
        else
          ok, why = M.check(v, kind, label)
          if not ok then why = field .. "." .. why end
        end
      elseif kind == "string" or kind == "text" then
        if type(v) ~= "string" then
          ok, why = nil, string.format("%s is not a string (%s)", field, type(v))
        else
          ok, why = check_string(node, field, kind, label)
        end
      elseif kind == "integer" then
        -- not math.tointeger: it takes "12" and 12.0, which the list checks then ignore
        if math.type(v) ~= "integer" then ok, why = nil, field .. " is not an integer" end
      elseif type(v) ~= kind then
        ok, why = nil, string.format("%s is not a %s (%s)", field, kind, type(v))
      end
      if not ok then return nil, why end
    end
  end
  return true
end

-- A check(node) for lib.page's walks from a spec; label(node) names it.
function M.checker(spec, label)
  return function(node)
    return M.check(node, spec, label and label(node))
  end
end

return M
