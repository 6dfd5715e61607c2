-- Twingate service accounts as baton `service_account` resources (opt-in with
-- --include-service-accounts): a user trait with account type "service" and a
-- profile that counts the account's API keys. Copy into --scripts-dir to edit.
local emit = require "bt.emit"
local log = require "bt.log"
local Q = require "twingate.queries"
local page = require "lib.page"
local text = require "lib.text"

local M = {}

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

-- One service account node, its name and its key tally -> the emit.resource table.
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
  local pending = {}
  local ok, err = page.walk{
    query = Q.SERVICE_ACCOUNTS, variables = { first = Q.PAGE_SIZE }, path = "serviceAccounts",
    label = "service accounts",
    each = function(node)
      if node.id == nil then
        log.warn("skipping a service account without id")
        return
      end
      local name, keys = M.name(node), M.tally()
      for key in page.nodes(node.keys, "keys of service account " .. name) do keys.add(key) end
      local info = page.info(node.keys)
      if info.hasNextPage then
        local kept = { id = node.id, name = node.name, createdAt = node.createdAt }
        pending[#pending + 1] = { node = kept, name = name, keys = keys, cursor = info.endCursor }
      else
        emit.resource(M.map(node, name, keys))
      end
    end,
  }
  if not ok then return nil, err end
  for _, p in ipairs(pending) do
    ok, err = page.walk{
      query = Q.SERVICE_ACCOUNT_KEYS, path = "serviceAccount.keys",
      variables = { id = p.node.id, first = Q.PAGE_SIZE, after = p.cursor },
      label = "keys of service account " .. p.name, each = p.keys.add,
    }
    if not ok then return nil, err end
    emit.resource(M.map(p.node, p.name, p.keys))
  end
  return true
end

return M
