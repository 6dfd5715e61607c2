-- Twingate service accounts as baton `service_account` resources (opt-in with
-- --include-service-accounts): a user trait with account type "service" and a
-- profile that counts the account's API keys. Extend it from --scripts-dir (API.md).
local emit = require "bt.emit"
local fields = require "lib.fields"
local log = require "bt.log"
local Q = require "twingate.queries"
local keep = require "lib.keep"
local page = require "lib.page"
local text = require "lib.text"

local M = {}

-- The types of the account fields this module reads (lib.fields).
M.TYPES = { name = "text", createdAt = "string" }
M.check = fields.checker(M.TYPES, function(node) return "service account " .. tostring(node.id) end)

-- ServiceAccountKeyStatus values counted as active keys (REVOKED and EXPIRED
-- keys no longer authenticate).
M.ACTIVE_KEY = { ACTIVE = true }

-- The account's name, or its id when the name is null or blank.
function M.name(node)
  if text.nonblank(node.name) then return node.name end
  log.warn("service account " .. node.id .. " has no name; using its id")
  return node.id
end

-- A key tally: add(key_node) counts each key id once (offset cursors can
-- repeat an item across pages); total and active are the counts so far.
function M.tally()
  local seen, t = {}, { total = 0, active = 0 }
  function t.add(key)
    if key.id == nil or seen[key.id] then return end
    seen[key.id] = true
    t.total = t.total + 1
    if M.ACTIVE_KEY[key.status] then t.active = t.active + 1 end
  end
  return t
end

-- Whether the sync keeps a service account node (as queried: id name
-- createdAt keys): false leaves it out with every grant naming it. API.md "keep".
function M.keep(node) return true end -- luacheck: no unused args

-- One service account node, its name and its key tally -> the emit.resource
-- table (nil: left out, as keep false).
function M.map(node, name, keys)
  return {
    type = "service_account", id = node.id, display_name = name,
    user = {
      login = name, status = "enabled", account_type = "service",
      created_at = node.createdAt,
      profile = {
        service_account_id = node.id, name = node.name,
        key_count = keys.total, active_key_count = keys.active,
      },
    },
  }
end

-- Emits every service account. An account whose keys run past the nested
-- first page is emitted after the account list is done, once the remaining
-- key pages are counted; only those accounts cost extra requests.
function M.sync()
  return page.walk_nested{
    query = Q.SERVICE_ACCOUNTS, variables = { first = Q.PAGE_SIZE }, path = "serviceAccounts",
    label = "service accounts", nested = "keys", check = M.check,
    follow = { query = Q.SERVICE_ACCOUNT_KEYS, path = "serviceAccount.keys", page_size = Q.PAGE_SIZE },
    parent = function(node)
      if not keep.kept(M, "twingate.service_accounts", node) then
        emit.filter("service_account", node.id)
        return nil
      end
      local name, keys = M.name(node), M.tally()
      -- only what the mapping needs is kept while more key pages are pending
      local kept = { id = node.id, name = node.name, createdAt = node.createdAt }
      return {
        id = node.id, label = "keys of service account " .. name, each = keys.add,
        done = function()
          local row = M.map(kept, name, keys)
          if row == nil then emit.filter("service_account", kept.id) else emit.resource(row) end
        end,
      }
    end,
  }
end


return M
