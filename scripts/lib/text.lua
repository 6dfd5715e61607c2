-- Small string helpers shared by the mapping scripts (names, labels).
-- Generic: nothing here knows Twingate. Extend it from --scripts-dir (API.md).
local M = {}

-- s without leading and trailing white space; nil stays nil.
function M.trim(s)
  if type(s) ~= "string" then return nil end
  return (s:gsub("^%s+", ""):gsub("%s+$", ""))
end

-- s trimmed, or nil when s is nil, not a string, or blank.
function M.nonblank(s)
  local t = M.trim(s)
  if t == nil or t == "" then return nil end
  return t
end

-- "First Last" from two optional parts, trimmed; nil when both are blank.
function M.full_name(first, last)
  local parts = {}
  parts[#parts + 1] = M.nonblank(first)
  parts[#parts + 1] = M.nonblank(last)
  if #parts == 0 then return nil end
  return table.concat(parts, " ")
end

-- "ACCESS_REVIEWER" -> "Access Reviewer" (ASCII letters only change case).
function M.title_case(value)
  local words = {}
  for word in tostring(value):gmatch("[^_%s]+") do
    words[#words + 1] = word:sub(1, 1):upper() .. word:sub(2):lower()
  end
  return table.concat(words, " ")
end

return M
