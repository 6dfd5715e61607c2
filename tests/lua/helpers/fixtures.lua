-- Recorded Twingate exchanges under tests/lua/fixtures/<name>.json:
-- { "exchanges": [ { "query": "<key of twingate.queries>", "variables": {...},
--   "response": { "data": ..., "errors": [...] } } | { ..., "fail": {kind, message, status} } ] }
-- JSON null decodes to nil (a hole inside an array), as in the runtime.
local cjson = require "cjson"

local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)helpers/[^/]*$") or "tests/lua/"
M.DIR = here .. "fixtures/"

local function strip_nulls(v)
  if v == cjson.null then return nil end
  if type(v) ~= "table" then return v end
  for k, x in pairs(v) do v[k] = strip_nulls(x) end
  return v
end
M.strip_nulls = strip_nulls

function M.read(name)
  local path = M.DIR .. name .. ".json"
  local f = assert(io.open(path, "rb"))
  local body = f:read("a")
  f:close()
  return strip_nulls(cjson.decode(body))
end

-- Adds the fixture's exchanges to rt; query keys resolve in twingate.queries.
function M.replay(rt, name)
  local Q = require "twingate.queries"
  for i, ex in ipairs(M.read(name).exchanges) do
    local doc = Q[ex.query]
    assert(type(doc) == "string", name .. ": exchange " .. i .. " names unknown query " .. tostring(ex.query))
    local response = ex.response or {}
    rt:answer{ query = doc, variables = ex.variables, data = response.data,
      errors = response.errors, fail = ex.fail }
  end
  return rt
end

return M
