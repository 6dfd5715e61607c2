-- Prints, as one JSON object, every GraphQL document the connector's scripts
-- can send: each string value of a script module's table (or of a table one
-- level down) that starts with `query` or `mutation`. Modules load under the
-- busted fake runtime and the sandbox helper, DIR (optional) searched first,
-- so an override's added fields show in the documents it changes.
--   lua5.4 tests/tools/documents.lua REPO_ROOT [DIR]
local root, dir = arg[1], arg[2]
package.path = root .. "/tests/lua/?.lua;" .. package.path
local cjson = require "cjson"
local fake = require "helpers.fake_runtime"
local sandbox = require "helpers.sandbox"

-- Module names of the .lua files under base (specs left out).
local function modules(base)
  local out = {}
  local p = io.popen("cd '" .. base .. "' && find . -name '*.lua' ! -name '*_spec.lua' | sort")
  for path in p:lines() do
    local name = path:gsub("^%./", ""):gsub("%.lua$", ""):gsub("/init$", ""):gsub("/", ".")
    if not name:match("^spec%.") and not name:match("^spec$") then out[#out + 1] = name end
  end
  p:close()
  return out
end

local function is_document(v)
  return type(v) == "string" and (v:match("^%s*query[%s({]") or v:match("^%s*mutation[%s({]"))
end

fake.install{ phase = "load" }
local override = dir and (dir:gsub("/?$", "/")) or nil
local require_ = sandbox.new(root .. "/scripts/", override)
local loaded, docs = {}, {}
local names = override and modules(override) or {}
for _, name in ipairs(modules(root .. "/scripts")) do names[#names + 1] = name end
for _, name in ipairs(names) do
  loaded[name] = loaded[name] or require_(name)
  local ok, bundled = pcall(require_, "bundled:" .. name)
  if override and ok then loaded["bundled:" .. name] = bundled end
end
-- Modules in name order, "bundled:" copies after the rest; a text seen once is kept once.
local order, seen = {}, {}
for name in pairs(loaded) do order[#order + 1] = name end
table.sort(order, function(a, b)
  local ba, bb = a:match("^bundled:") ~= nil, b:match("^bundled:") ~= nil
  if ba ~= bb then return bb end
  return a < b
end)
local function add(key, doc)
  if seen[doc] then return end
  seen[doc] = true
  docs[key] = doc
end
for _, name in ipairs(order) do
  local m = loaded[name]
  if type(m) == "table" then
    for k, v in pairs(m) do
      if is_document(v) then add(name .. "." .. tostring(k), v) end
      if type(v) == "table" and k ~= "TEMPLATES" then
        for k2, v2 in pairs(v) do
          if is_document(v2) then add(name .. "." .. tostring(k) .. "." .. tostring(k2), v2) end
        end
      end
    end
  end
end
io.write(cjson.encode(docs), "\n")
