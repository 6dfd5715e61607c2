-- Recorded Twingate exchanges under tests/lua/fixtures/<name>.json:
-- { "exchanges": [ { "query": "<key of twingate.queries>", "variables": {...},
--   "response": { "data": ..., "errors": [...] } } | { ..., "fail": {kind, message, status} } ] }
-- JSON null (and an integer) decodes as in the runtime: an absent key inside an object, the
-- sentinel NULL (bt.graphql's graphql.null) inside an array.
local cjson = require "cjson"

local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)helpers/[^/]*$") or "tests/lua/"
M.DIR = here .. "fixtures/"

M.NULL = setmetatable({}, { __name = "graphql.null", __tostring = function() return "graphql.null" end })

local function is_array(t)
  local n = 0
  for k in pairs(t) do
    if math.type(k) ~= "integer" or k < 1 then return false end
    n = n + 1
  end
  return n > 0 and n == #t
end

-- lua-cjson decodes every number as a float; the runtime gives an integer for
-- an integer's text (12) and a float only for a fraction or exponent. The
-- fixtures write counts as integers, so an integral float becomes an integer.
local function strip_nulls(v)
  if v == cjson.null then return nil end
  if math.type(v) == "float" then return math.tointeger(v) or v end
  if type(v) ~= "table" then return v end
  local array = is_array(v)
  for k, x in pairs(v) do
    if array and x == cjson.null then v[k] = M.NULL else v[k] = strip_nulls(x) end
  end
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
