-- Grant principals that the sync has not emitted: fetched, or the grant left
-- out and counted. Extend it from --scripts-dir (API.md).
-- A sync of a large tenant takes minutes and the tenant changes meanwhile:
-- a user invited during the sync joins Everyone at once, and Twingate's
-- cursors are offsets, so a user deleted during the users walk shifts a later
-- one past the page that should have held it. The rule, before a grant names a principal:
--   - a user not emitted yet is fetched (one request each, at most FETCH_CAP
--     per sync) and emitted with its role grant, so a user that existed for
--     the whole sync is never lost to a shifted page;
--   - a user that no longer exists, or one past the cap, loses the grant,
--     counted as a skip with a warning;
--   - a group or service account not emitted loses the grant, counted.
-- Memory stays flat: the sink answers "emitted?"; only the ids of users
-- found gone are kept (at most FETCH_CAP).
local emit = require "bt.emit"
local graphql = require "bt.graphql"
local log = require "bt.log"
local Q = require "twingate.queries"
local roles = require "twingate.roles"
local users = require "twingate.users"
local keep = require "lib.keep"

local M = {}

-- Users fetched one by one in one sync, at most.
M.FETCH_CAP = 200

-- A per-sync tracker. registry is the sync's twingate.roles registry (a fetched
-- user gets its role grant). user(id, what) and other(type, id, what) return
-- true when the principal is emitted (now), false when the grant `what` must
-- be left out (already counted), or nil, err when the fetch failed.
function M.tracker(registry)
  local t, fetched, gone = {}, 0, {}

  local function drop(cause, what, why)
    emit.skip(cause, string.format("%s left out: %s", what, why))
    return false
  end

  function t.user(id, what)
    if emit.has_resource("user", id) then return true end
    -- left out by users.keep / users.map: its grants go too, no request
    if keep.filtered("user", id) then return false end
    if gone[id] then return drop("principal_deleted_during_sync", what, "the user was deleted") end
    if fetched >= M.FETCH_CAP then
      return drop("principal_fetch_cap", what, string.format(
        "user %s appeared during the sync and %d users were fetched already", id, M.FETCH_CAP))
    end
    fetched = fetched + 1
    -- root: only an explicit null means deleted; an answer without the
    -- field is damage (asked again, then a decode error), never a deletion
    local data, err = graphql.query(Q.USER, { id = id }, { root = "user" })
    if not data then return nil, err end
    local node = data.user
    if node ~= nil then
      local ok, why = users.check(node)
      if not ok or node.id ~= id then
        return nil, { kind = "decode", message = string.format("user %s: the answer is damaged: %s",
          id, ok and "it names another id" or why) }
      end
    end
    if node == nil then
      gone[id] = true
      return drop("principal_deleted_during_sync", what, "the user was deleted during the sync")
    end
    if users.emit(node, registry) == false then return false end
    log.info("user " .. id .. " was not in the users list (it changed during the sync); fetched it")
    return true
  end

  function t.other(ptype, id, what)
    if emit.has_resource(ptype, id) then return true end
    if keep.filtered(ptype, id) then return false end
    return drop("principal_not_emitted", what, string.format(
      "%s %s is not in this sync (created, or moved in its list, during the sync)", ptype, id))
  end

  return t
end

-- The tracker of one sync (ctx from twingate.sync), shared by every type's
-- module, with the sync's role registry.
function M.for_sync(ctx)
  ctx.principals = ctx.principals or M.tracker(roles.for_sync(ctx))
  return ctx.principals
end

return M
