-- The fake runtime's contract check (helpers/contract.lua) is a port of the
-- runtime's (src/host/contract.c, with the provisioning handlers from the
-- action table, src/action/actions.c). A key the runtime learns and the port
-- does not makes ./dev test-scripts refuse a correct init.lua, so the key
-- lists are held equal here, read from the C sources.
local contract = require "helpers.contract"

local function read(path)
  local f = assert(io.open(path, "r"))
  local text = f:read("a")
  f:close()
  return text
end

local function c_list(source, name)
  local body = source:match("static const char %*const " .. name .. "%[%]%s*=%s*(%b{})")
  assert(body, "no array " .. name .. " in src/host/contract.c")
  local out = {}
  for key in body:gmatch('"([^"]+)"') do out[#out + 1] = key end
  return out
end

local function action_handlers()
  local out = {}
  for name in read("src/action/actions.c"):gmatch('%.handler%s*=%s*"([^"]+)"') do
    out[#out + 1] = name
  end
  assert(#out > 0, "no .handler rows in src/action/actions.c")
  return out
end

local function sorted(...)
  local out = {}
  for _, list in ipairs{ ... } do
    for _, v in ipairs(list) do out[#out + 1] = v end
  end
  table.sort(out)
  return out
end

describe("the fake runtime's contract keys", function()
  local source = read("src/host/contract.c")
  local actions = action_handlers()
  local want = {
    top = sorted(c_list(source, "top_head"), actions, c_list(source, "top_tail")),
    handler = sorted({ "sync" }, actions, c_list(source, "other_handlers")),
    field = sorted(c_list(source, "field_keys")),
    type = sorted(c_list(source, "type_keys")),
    account_field = sorted(c_list(source, "account_field_keys")),
  }
  for name, keys in pairs(want) do
    it("match the runtime's " .. name .. " keys", function()
      assert.same(keys, sorted(contract.KEYS[name]))
    end)
  end
end)
