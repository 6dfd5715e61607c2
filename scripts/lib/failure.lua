-- Failures that report a fact about the world (the request, the configuration,
-- the target's state), not a bug in a script: a table {kind, message} that the
-- runtime shows as its message alone, with no script position (the position
-- goes to the debug log). Service mode maps the kind to a gRPC code (API.md
-- "Errors the user sees"). Generic; extend it from --scripts-dir (API.md).
local M = {}

-- tostring gives the message alone, as a string error would read.
local MT = { __tostring = function(e) return e.message end }

-- kind: "input" (the request or the settings are wrong), "precondition" (the
-- change cannot be made as asked), "not_found", "permission", or another word.
-- fields: more keys to copy into the failure (optional).
function M.new(kind, message, fields)
  local f = {}
  for k, v in pairs(fields or {}) do f[k] = v end
  f.kind, f.message = kind, message
  return setmetatable(f, MT)
end

-- A string error (or nil) as a failure of kind "input"; failures and the
-- runtime's error tables pass through unchanged.
function M.input(err)
  if type(err) == "table" then return err end
  return M.new("input", tostring(err or "malformed request"))
end

return M
