-- The fake runtime's contract check (helpers/contract.lua) is a port of the
-- runtime's (src/host/contract.c). A key the runtime learns and the port does
-- not makes ./dev test-scripts refuse a correct init.lua, so the key lists are
-- held equal here, read from the C source.
local contract = require "helpers.contract"

local function c_list(source, name)
  local body = source:match("static const char %*const " .. name .. "%[%]%s*=%s*(%b{})")
  assert(body, "no array " .. name .. " in src/host/contract.c")
  local out = {}
  for key in body:gmatch('"([^"]+)"') do out[#out + 1] = key end
  table.sort(out)
  return out
end

local function sorted(list)
  local out = {}
  for i, v in ipairs(list) do out[i] = v end
  table.sort(out)
  return out
end

describe("the fake runtime's contract keys", function()
  local f = assert(io.open("src/host/contract.c", "r"))
  local source = f:read("a")
  f:close()
  local pairs_ = {
    top = "top_keys", field = "field_keys", type = "type_keys",
    handler = "handler_names", account_field = "account_field_keys",
  }
  for lua_name, c_name in pairs(pairs_) do
    it("match the runtime's " .. c_name, function()
      assert.same(c_list(source, c_name), sorted(contract.KEYS[lua_name]))
    end)
  end
end)
