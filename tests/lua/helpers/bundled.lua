-- busted --helper for specs run by `./dev test-scripts DIR`: require
-- "bundled:<module>" loads the bundled script of that name, skipping DIR, the
-- way the runtime does for an override that extends a bundled module; every
-- script module (DIR's and the bundled ones) loads in the runtime's sandbox
-- with the entry's contract checked (helpers/strict.lua), and errors are
-- placed at the author's line in DIR (helpers/where.lua).
local root = debug.getinfo(1, "S").source:match("^@(.*)tests/lua/helpers/[^/]*$") or "./"
local scripts = root .. "scripts/"
-- DIR: the first entry of the search path (./dev test-scripts puts it there).
local dir = package.path:match("^([^;]*/)%?%.lua;")
package.path = package.path .. ";" .. root .. "tests/lua/?.lua"
local strict = require "helpers.strict"
local where = require "helpers.where"
if dir and dir ~= scripts then where.AUTHORS[1] = dir end

local function bundled_searcher(name)
  local bare = name:match("^bundled:(.+)$")
  if not bare then return nil end
  -- Without an override of it in DIR, "bundled:x" is module x itself (one instance).
  local found = package.searchpath(bare, package.path)
  if found and found:sub(1, #scripts) == scripts then
    return function() return require(bare) end, found
  end
  local rel = bare:gsub("%.", "/")
  local tried = {}
  for _, pattern in ipairs{ "%s.lua", "%s/init.lua" } do
    local path = scripts .. pattern:format(rel)
    local f = io.open(path, "rb")
    if f then
      f:close()
      return function() return strict.load(name, path) end, path
    end
    tried[#tried + 1] = "\n\tno bundled file '" .. path .. "'"
  end
  return table.concat(tried)
end

table.insert(package.searchers, 2, bundled_searcher)
table.insert(package.searchers, 3, strict.searcher{ dir or scripts, scripts })
