-- busted --helper for specs run by `./dev test-scripts DIR`: require
-- "bundled:<module>" loads the bundled script of that name, skipping DIR, the
-- way the runtime does for an override that extends a bundled module.
local root = debug.getinfo(1, "S").source:match("^@(.*)tests/lua/helpers/[^/]*$") or "./"
local scripts = root .. "scripts/"

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
    local chunk = loadfile(path, "t")
    if chunk then return chunk, path end
    tried[#tried + 1] = "\n\tno bundled file '" .. path .. "'"
  end
  return table.concat(tried)
end

table.insert(package.searchers, 2, bundled_searcher)
