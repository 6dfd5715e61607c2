-- The runtime's rules for script modules under busted (`./dev test-scripts`,
-- through helpers/bundled.lua): every module of the scripts directory and of
-- the bundled scripts loads in one sandbox environment like the runtime's
-- (src/host/sandbox.c: the same removed functions, strict globals and
-- messages; package.path and package.cpath read-only; print to the log),
-- the entry module's table is checked against the connector contract
-- (helpers/contract.lua), and its sync ends with the runtime's reference
-- check: no grant may name a principal the sync did not emit.
local contract = require "helpers.contract"

local M = {}

-- The entry module (init.lua of the connector directory).
M.ENTRY = "twingate"

local NOT_AVAILABLE = "%s is not available in the connector sandbox"

-- Names the runtime removes; reading one raises (sandbox.c).
M.REMOVED = { dofile = true, loadfile = true, io = true, debug = true }
M.OS_REMOVED = { execute = true, exit = true, remove = true, rename = true, tmpname = true,
  setlocale = true, getenv = true }
M.READ_ONLY = { path = true, cpath = true, searchers = true }

M.BASE = { "assert", "collectgarbage", "error", "getmetatable", "ipairs", "next", "pairs", "pcall",
  "rawequal", "rawget", "rawlen", "rawset", "require", "select", "setmetatable", "tonumber",
  "tostring", "type", "xpcall", "warn", "_VERSION", "math", "string", "table", "utf8", "coroutine" }

local function guarded_os()
  local os_ = { clock = os.clock, date = os.date, difftime = os.difftime, time = os.time }
  return setmetatable(os_, { __index = function(_, k)
    if M.OS_REMOVED[k] then error(string.format(NOT_AVAILABLE, "os." .. tostring(k)), 2) end
  end })
end

-- package as the scripts see it: the real table read through, loadlib gone,
-- the search paths fixed at start-up.
local function guarded_package()
  return setmetatable({}, {
    __index = function(_, k)
      if k == "loadlib" then error(string.format(NOT_AVAILABLE, "package.loadlib"), 2) end
      return package[k]
    end,
    __newindex = function(_, k, v)
      if M.READ_ONLY[k] then
        error("package." .. k .. " is read-only in the connector sandbox (modules load only "
          .. "from the scripts dirs and C modules only from the system's Lua module dirs)", 2)
      end
      package[k] = v
    end,
  })
end

M.guarded_package = guarded_package

local function print_to_log(...)
  local parts = {}
  for i = 1, select("#", ...) do parts[i] = tostring((select(i, ...))) end
  local log = package.loaded["bt.log"]
  if type(log) == "table" then log.info(table.concat(parts, "\t")) end
end

M.print = print_to_log

-- A fresh environment shared by every script module, as the runtime's one
-- global table.
function M.env()
  local env = {}
  for _, name in ipairs(M.BASE) do env[name] = _G[name] end
  env.os = guarded_os()
  env.package = guarded_package()
  env.print = print_to_log
  env.load = function(chunk, name, _, chunk_env)
    return load(chunk, name, "t", chunk_env == nil and env or chunk_env)
  end
  env._G = env
  return setmetatable(env, {
    __index = function(_, k)
      if M.REMOVED[k] then error(string.format(NOT_AVAILABLE, tostring(k)), 2) end
      error("undeclared global '" .. tostring(k) .. "' (scripts use locals and require)", 2)
    end,
    __newindex = function(_, k)
      error("assignment to undeclared global '" .. tostring(k) .. "' (declare it local)", 2)
    end,
  })
end

local ENV = M.env()

-- The sync ends the way the runtime's commit does: every reference resolves.
local function finish(opts, ok)
  local fake = package.loaded["helpers.fake_runtime"]
  local rt = fake and fake.current()
  if not ok or not rt or not rt.dangling then return end
  local partial = type(opts) == "table" and type(opts.targets) == "table" and opts.targets[1] ~= nil
  local why = rt:dangling(partial)
  if why then
    error(why .. " (the runtime's commit refuses this file: emit the principal, or leave "
      .. "the grant out)", 0)
  end
end

-- The entry's handlers, with the end-of-sync check and errors placed at the
-- author's line (helpers.where).
local wrapped = setmetatable({}, { __mode = "k" })
local function wrap(c)
  if wrapped[c] then return end
  wrapped[c] = true
  local where = require "helpers.where"
  for _, name in ipairs{ "sync", "grant", "revoke", "create_account", "delete_resource", "validate" } do
    local fn = c[name]
    if type(fn) == "function" then
      c[name] = function(...)
        local opts = ...
        local out = where.call(fn, ...)
        if name == "sync" then finish(opts, out[1]) end
        return table.unpack(out, 1, out.n)
      end
    end
  end
end

-- Loads a script file in the sandbox; the entry module's table is checked.
function M.load(name, path)
  local chunk, err = loadfile(path, "t", ENV)
  if not chunk then error(err, 0) end
  local value = chunk(name, path)
  if name == M.ENTRY then
    local ok, why = contract.check(value, path, require)
    if not ok then error(why, 0) end
    wrap(value)
  end
  return value
end

-- A package searcher for the script modules under dirs (paths ending in "/").
function M.searcher(dirs)
  return function(name)
    if name:match("^bt%.") or name:match("^bundled:") or name:match("^helpers%.") then return nil end
    local path = package.searchpath(name, package.path)
    if not path or path:match("_spec%.lua$") then return nil end
    for _, dir in ipairs(dirs) do
      -- DIR/spec/ holds the specs' own helpers: they run outside the sandbox
      if path:sub(1, #dir) == dir and not path:sub(#dir + 1):match("^spec/") then
        return function() return M.load(name, path) end, path
      end
    end
    return nil
  end
end

return M
