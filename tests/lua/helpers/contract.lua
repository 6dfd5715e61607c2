-- The entry script's contract, checked the way the runtime checks it at load
-- (src/host/contract.c): same rules, same messages, same "did you mean"
-- suggestions (src/util/suggest.c). check(t, file, require_) returns true,
-- or nil and "<file>: <what>".
local M = {}

M.API_VERSION = 1

local TOP = { "api_version", "name", "display_name", "description", "config", "resource_types",
  "sync", "grant", "revoke", "create_account", "delete_resource", "validate",
  "account_creation_schema", "external_link" }
local FIELD = { "name", "help", "default", "required_unless", "type", "required", "secret", "ops",
  "display_name" }
local TYPE = { "id", "display_name", "description", "traits", "skip_entitlements_and_grants",
  "provision", "account_provisioning", "resource_delete", "opt_in", "targeted_sync", "sync" }
local HANDLERS = { "sync", "grant", "revoke", "create_account", "delete_resource", "validate",
  "external_link" }
local ACCOUNT_FIELD = { "key", "display_name", "description", "placeholder", "required", "type" }
local TRAITS = { user = true, group = true, role = true, app = true }
local MAX_TRAITS = 4

-- Optimal string alignment distance (adjacent swaps are one edit).
local function distance(a, b)
  if #a > 64 or #b > 64 then return math.huge end
  local d = {}
  for i = 0, #a do d[i] = { [0] = i } end
  for j = 0, #b do d[0][j] = j end
  for i = 1, #a do
    for j = 1, #b do
      local cost = a:byte(i) == b:byte(j) and 0 or 1
      d[i][j] = math.min(d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + cost)
      if i > 1 and j > 1 and a:byte(i) == b:byte(j - 1) and a:byte(i - 1) == b:byte(j)
          and d[i - 2][j - 2] + 1 < d[i][j] then
        d[i][j] = d[i - 2][j - 2] + 1
      end
    end
  end
  return d[#a][#b]
end

function M.suggest(word, candidates)
  local limit = math.max(#word // 3, 1)
  local best, best_d = nil, limit + 1
  for _, c in ipairs(candidates) do
    local dist = distance(word, c)
    if dist < best_d then best, best_d = c, dist end
  end
  return best
end

local Fail = {}

local function fail(fmt, ...) error(setmetatable({ what = string.format(fmt, ...) }, Fail), 0) end

local function check_keys(t, path, allowed)
  local set = {}
  for _, k in ipairs(allowed) do set[k] = true end
  for k in pairs(t) do
    if type(k) ~= "string" then
      fail("unexpected %s key in '%s' (fields are named)", type(k), path ~= "" and path or "the contract")
    end
    if not set[k] then
      local best = M.suggest(k, allowed)
      fail("unknown field '%s%s'%s", path, k, best and (" (did you mean '" .. best .. "'?)") or "")
    end
  end
end

local function get_string(t, key, path, required)
  local v = t[key]
  if v == nil and not required then return nil end
  if type(v) ~= "string" then fail("field '%s%s' must be a string (got %s)", path, key, type(v)) end
  return v
end

local function get_bool(t, key, path)
  local v = t[key]
  if v ~= nil and type(v) ~= "boolean" then
    fail("field '%s%s' must be a boolean (got %s)", path, key, type(v))
  end
  return v == true
end

local function get_list(t, key, required)
  local v = t[key]
  if v == nil and not required then return {} end
  if type(v) ~= "table" then fail("field '%s' must be a list (got %s)", key, type(v)) end
  return v
end

local function read_field(f, i)
  local path = "config[" .. i .. "]."
  if type(f) ~= "table" then fail("field 'config[%d]' must be a table", i) end
  check_keys(f, path, FIELD)
  local out = { name = get_string(f, "name", path, true) }
  get_string(f, "help", path, true)
  get_string(f, "default", path, false)
  get_string(f, "required_unless", path, false)
  local ftype = get_string(f, "type", path, false)
  get_bool(f, "required", path)
  get_bool(f, "secret", path)
  get_bool(f, "ops", path)
  if ftype ~= nil and ftype ~= "string" and ftype ~= "bool" and ftype ~= "int" then
    fail("field '%stype' must be \"string\", \"bool\" or \"int\" (got \"%s\")", path, ftype)
  end
  out.type = ftype or "string"
  return out
end

local function read_type(t, i)
  local path = "resource_types[" .. i .. "]."
  if type(t) ~= "table" then fail("field 'resource_types[%d]' must be a table", i) end
  check_keys(t, path, TYPE)
  local out = { id = get_string(t, "id", path, true) }
  get_string(t, "display_name", path, true)
  get_string(t, "description", path, false)
  if type(t.traits) ~= "table" then fail("field '%straits' must be a list of trait names", path) end
  if #t.traits > MAX_TRAITS then fail("field '%straits' lists more than %d traits", path, MAX_TRAITS) end
  for j = 1, #t.traits do
    if not TRAITS[t.traits[j]] then
      fail("field '%straits[%d]' must be one of user, group, role, app", path, j)
    end
  end
  get_bool(t, "skip_entitlements_and_grants", path)
  out.provision = get_bool(t, "provision", path)
  out.account_provisioning = get_bool(t, "account_provisioning", path)
  out.resource_delete = get_bool(t, "resource_delete", path)
  get_bool(t, "targeted_sync", path)
  out.opt_in = get_string(t, "opt_in", path, false)
  out.sync = get_string(t, "sync", path, false)
  return out
end

local function check_functions(c, types)
  for i, name in ipairs(HANDLERS) do
    local kind = type(c[name])
    if kind ~= "nil" and kind ~= "function" then
      fail("field '%s' must be a function (got %s)", name, kind)
    end
    if i == 1 and kind ~= "function" then fail("field 'sync' must be a function (got %s)", kind) end
  end
  for _, t in ipairs(types) do
    local need = { t.provision and "grant", t.provision and "revoke",
      t.account_provisioning and "create_account", t.resource_delete and "delete_resource" }
    for j = 1, 4 do
      if need[j] and type(c[need[j]]) ~= "function" then
        fail("resource type '%s' promises it but field '%s' is not a function", t.id, need[j])
      end
    end
  end
end

local function check_opt_ins(types, fields)
  for i, t in ipairs(types) do
    if t.opt_in then
      local found
      for _, f in ipairs(fields) do if f.name == t.opt_in and not found then found = f end end
      if not found or found.type ~= "bool" then
        fail("field 'resource_types[%d].opt_in' must name a bool config field (\"%s\" is %s)", i,
          t.opt_in, found and "not a bool" or "not a config field")
      end
    end
  end
end

local function check_sync_modules(types, require_)
  for i, t in ipairs(types) do
    if t.sync then
      local ok, m = pcall(require_, t.sync)
      if not ok then fail("field 'resource_types[%d].sync': %s", i, tostring(m)) end
      if type(m) ~= "table" or type(m.sync) ~= "function" then
        fail("field 'resource_types[%d].sync': module '%s' has no sync function", i, t.sync)
      end
    end
  end
end

local function check_account_schema(c)
  for i, f in ipairs(get_list(c, "account_creation_schema", false)) do
    local path = "account_creation_schema[" .. i .. "]."
    if type(f) ~= "table" then fail("field 'account_creation_schema[%d]' must be a table", i) end
    check_keys(f, path, ACCOUNT_FIELD)
    get_string(f, "key", path, true)
    local ftype = get_string(f, "type", path, false)
    if ftype and ftype ~= "string" and ftype ~= "bool" then
      fail("field '%stype' must be \"string\" or \"bool\" (got \"%s\")", path, ftype)
    end
  end
end

local function validate(c, require_)
  if type(c) ~= "table" then fail("the entry script must return a table (got %s)", type(c)) end
  check_keys(c, "", TOP)
  local v = c.api_version
  v = (type(v) == "number" or type(v) == "string") and math.tointeger(tonumber(v)) or nil
  if v == nil then
    fail("field 'api_version' must be an integer (the runtime provides API version %d)", M.API_VERSION)
  end
  if v ~= M.API_VERSION then
    fail("script targets runtime API version %d but this runtime provides version %d", v,
      M.API_VERSION)
  end
  get_string(c, "name", "", true)
  get_string(c, "display_name", "", true)
  get_string(c, "description", "", false)
  local fields = {}
  for i, f in ipairs(get_list(c, "config", true)) do fields[i] = read_field(f, i) end
  local list, types = get_list(c, "resource_types", true), {}
  if #list == 0 then fail("field 'resource_types' must list at least one resource type") end
  for i, t in ipairs(list) do types[i] = read_type(t, i) end
  check_opt_ins(types, fields)
  check_functions(c, types)
  check_sync_modules(types, require_)
  check_account_schema(c)
end

function M.check(c, file, require_)
  local ok, err = pcall(validate, c, require_ or require)
  if ok then return true end
  if getmetatable(err) ~= Fail then error(err, 0) end
  return nil, file .. ": " .. err.what
end

-- The key lists, for the spec that holds them equal to src/host/contract.c's.
M.KEYS = { top = TOP, field = FIELD, type = TYPE, handler = HANDLERS, account_field = ACCOUNT_FIELD }

return M
