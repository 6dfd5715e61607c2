-- Loads the bundled scripts the way the runtime's sandbox does: text-only
-- chunks, an environment built from an allow-list (os.clock/date/difftime/time
-- only, package read-only, no io, debug, dofile or loadfile: using one raises "... is not
-- available in the connector sandbox"), strict globals (reading or writing an
-- undeclared global raises),
-- and a require that serves bt.* from package.loaded (the fake runtime) and
-- scripts from <override>/?.lua, then <scripts>/?.lua (and ?/init.lua);
-- "bundled:<name>" skips the override dir, as in the runtime.
local M = {}

local here = debug.getinfo(1, "S").source:match("^@(.*)tests/lua/helpers/[^/]*$") or ""
M.SCRIPTS = here .. "scripts/"

M.ALLOWED = { "assert", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
  "rawequal", "rawget", "rawlen", "rawset", "select", "setmetatable", "tonumber",
  "tostring", "type", "xpcall", "_VERSION", "math", "string", "table", "utf8", "coroutine" }

-- Names the runtime removes (src/host/sandbox.c): reading one says so.
M.REMOVED = { io = true, debug = true, dofile = true, loadfile = true }
M.OS_REMOVED = { execute = true, exit = true, remove = true, rename = true, tmpname = true,
  setlocale = true, getenv = true }

local function sandbox_os()
  local os_ = { clock = os.clock, date = os.date, difftime = os.difftime, time = os.time }
  return setmetatable(os_, { __index = function(_, k)
    if M.OS_REMOVED[k] then error("os." .. k .. " is not available in the connector sandbox", 2) end
  end })
end

local function strict(env)
  return setmetatable(env, {
    __index = function(_, k)
      if M.REMOVED[k] then error(tostring(k) .. " is not available in the connector sandbox", 2) end
      error("undeclared global '" .. tostring(k) .. "' (scripts use locals and require)", 2)
    end,
    __newindex = function(_, k)
      error("assignment to undeclared global '" .. tostring(k) .. "' (declare it local)", 2)
    end,
  })
end

local function find(dir, name)
  local rel = name:gsub("%.", "/")
  for _, pattern in ipairs{ "%s.lua", "%s/init.lua" } do
    local path = dir .. pattern:format(rel)
    local f = io.open(path, "rb")
    if f then
      f:close()
      return path
    end
  end
  return nil
end

-- A fresh sandbox: returns require(name) bound to it. scripts_dir defaults
-- to the bundled scripts; override_dir (optional, ending in "/") is searched first.
function M.new(scripts_dir, override_dir)
  scripts_dir = scripts_dir or M.SCRIPTS
  local env, loaded = {}, {}
  for _, name in ipairs(M.ALLOWED) do env[name] = _G[name] end
  local function require_(name)
    if loaded[name] ~= nil then return loaded[name] end
    if name:match("^bt%.") then
      local m = package.loaded[name]
      if m == nil then error("module " .. name .. " not installed", 2) end
      return m
    end
    local bare = name:match("^bundled:(.+)$")
    -- Without an override of it, "bundled:x" is module x itself (one instance).
    if bare and not (override_dir and find(override_dir, bare)) and find(scripts_dir, bare) then
      loaded[name] = require_(bare)
      return loaded[name]
    end
    local path = bare and find(scripts_dir, bare)
      or not bare and (override_dir and find(override_dir, name) or find(scripts_dir, name))
    if not path then error("module '" .. name .. "' not found in " .. scripts_dir, 2) end
    local chunk = assert(loadfile(path, "t", env))
    local value = chunk(name)
    if value == nil then value = true end
    loaded[name] = value
    return value
  end
  env.require = require_
  env.os = sandbox_os()
  local strict_env = require "helpers.strict"   -- the runtime's package and print rules
  env.package = strict_env.guarded_package()
  env.print = strict_env.print
  env.load = function(chunk, name, _, chunk_env) return load(chunk, name, "t", chunk_env or env) end
  strict(env)
  return require_
end

return M
