-- A change whose answer was lost (err.maybe_applied): one read tells the
-- truth. Applied -> success saying it was confirmed; not applied -> a clear
-- failure; the read fails too -> "outcome unknown". The mutation is never
-- sent twice, and an error that certainly was not applied is not read back.
local fake = require "helpers.fake_runtime"

local GID, UID = "R3JvdXA6MQ==", "VXNlcjoxMDE="
local EMAIL, NEW = "alice@acme.test", "new@acme.test"

local LOST = { kind = "transport", message = "transfer closed with 40 bytes remaining to read",
  maybe_applied = true }
local DOWN = { kind = "server", message = "bad gateway", status = 502 }
local REFUSED = { kind = "transport", message = "Failed to connect", maybe_applied = false }

local function grant_req(rtype, rid)
  return { entitlement = { id = rtype .. ":" .. rid .. ":member", type = rtype, resource = rid,
    slug = "member" }, principal = { type = "user", id = UID } }
end
local function revoke_req(rtype, rid)
  local req = grant_req(rtype, rid)
  req.grant = req.entitlement.id .. ":user:" .. UID
  return req
end

local function membership(rt, Q, in_group)
  local edges = in_group and { { node = { id = GID } } } or {}
  rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
    data = { group = { id = GID, name = "Engineering", type = "MANUAL" },
      user = { id = UID, email = EMAIL, groups = { pageInfo = { hasNextPage = false },
        edges = edges } } } }
end
local function membership_fails(rt, Q)
  rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
    fail = DOWN }
end
local function add_member(rt, Q, fail)
  rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } }, fail = fail }
end
local function remove_member(rt, Q, fail)
  rt:answer{ query = Q.GROUP_REMOVE_MEMBER, variables = { id = GID, userIds = { UID } },
    fail = fail }
end
local function user(role)
  return { id = UID, email = EMAIL, firstName = "Alice", role = role, state = "ACTIVE",
    type = "MANUAL" }
end
-- A user that does not exist reads as an explicit null, as the API answers.
local function read_user(rt, Q, u)
  if u == nil then u = require("helpers.fixtures").NULL end
  rt:answer{ query = Q.USER, variables = { id = UID }, data = { user = u } }
end
local function by_email(rt, Q, found)
  local edges = found and { { node = { id = "VXNlcjo5OQ==", email = NEW } } } or {}
  rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { NEW } },
    data = { users = { pageInfo = { hasNextPage = false }, edges = edges } } }
end
local function create(rt, Q)
  rt:answer{ query = Q.USER_CREATE, variables = { email = NEW, role = "MEMBER",
    shouldSendInvite = true }, fail = LOST }
end

local CASES = {
  { name = "grant: applied after all", handler = "grant", req = grant_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, false); add_member(rt, Q, LOST); membership(rt, Q, true) end,
    message = "added alice@acme.test to group Engineering (confirmed by reading it back",
    writes = { "GroupAddMember" }, requests = 3 },
  { name = "grant: not applied", handler = "grant", req = grant_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, false); add_member(rt, Q, LOST); membership(rt, Q, false) end,
    err = "adding alice@acme.test to group Engineering failed: it was not applied (the answer "
      .. "was lost: transport: transfer closed", writes = { "GroupAddMember" }, requests = 3 },
  { name = "grant: outcome unknown when the read fails too", handler = "grant",
    req = grant_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, false); add_member(rt, Q, LOST); membership_fails(rt, Q) end,
    err = "outcome unknown: adding alice@acme.test to group Engineering may or may not have been "
      .. "applied: the answer was lost (transport: transfer closed with 40 bytes remaining to "
      .. "read) and reading the state back failed (server: bad gateway (HTTP 502))",
    writes = { "GroupAddMember" }, requests = 3 },
  { name = "grant: certainly not applied is not read back", handler = "grant",
    req = grant_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, false); add_member(rt, Q, REFUSED) end,
    err = "transport: Failed to connect", writes = { "GroupAddMember" }, requests = 2 },
  { name = "revoke: applied after all", handler = "revoke", req = revoke_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, true); remove_member(rt, Q, LOST); membership(rt, Q, false) end,
    message = "removed alice@acme.test from group Engineering (confirmed by reading it back",
    writes = { "GroupRemoveMember" }, requests = 3 },
  { name = "revoke: not applied", handler = "revoke", req = revoke_req("group", GID),
    answers = function(rt, Q) membership(rt, Q, true); remove_member(rt, Q, LOST); membership(rt, Q, true) end,
    err = "removing alice@acme.test from group Engineering failed: it was not applied",
    writes = { "GroupRemoveMember" }, requests = 3 },
  { name = "role change: applied after all", handler = "grant", req = grant_req("role", "admin"),
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "ADMIN" }, fail = LOST }
      read_user(rt, Q, user("ADMIN"))
    end,
    message = "role changed from Member to Admin for alice@acme.test (confirmed by reading",
    writes = { "UserRoleUpdate" }, requests = 3 },
  { name = "role change: not applied", handler = "grant", req = grant_req("role", "admin"),
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "ADMIN" }, fail = LOST }
      read_user(rt, Q, user("MEMBER"))
    end,
    err = "changing the role of alice@acme.test failed: it was not applied",
    writes = { "UserRoleUpdate" }, requests = 3 },
  { name = "role change: outcome unknown", handler = "revoke", req = revoke_req("role", "admin"),
    answers = function(rt, Q)
      read_user(rt, Q, user("ADMIN"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "MEMBER" }, fail = LOST }
      rt:answer{ query = Q.USER, variables = { id = UID }, fail = DOWN }
    end,
    err = "outcome unknown: changing the role of alice@acme.test may or may not have been applied",
    writes = { "UserRoleUpdate" }, requests = 3 },
  { name = "create account: applied after all, with the id read back", handler = "create_account",
    req = { email = NEW }, answers = function(rt, Q) by_email(rt, Q, false); create(rt, Q); by_email(rt, Q, true) end,
    message = "created user new@acme.test with id VXNlcjo5OQ== (role Member, invite sent) "
      .. "(confirmed by reading it back", fields = { id = "VXNlcjo5OQ==" },
    writes = { "UserCreate" }, requests = 3 },
  { name = "create account: not applied", handler = "create_account", req = { email = NEW },
    answers = function(rt, Q) by_email(rt, Q, false); create(rt, Q); by_email(rt, Q, false) end,
    err = "creating user new@acme.test failed: it was not applied", writes = { "UserCreate" } },
  { name = "create account: outcome unknown", handler = "create_account", req = { email = NEW },
    answers = function(rt, Q)
      by_email(rt, Q, false); create(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { NEW } }, fail = DOWN }
    end,
    err = "outcome unknown: creating user new@acme.test may or may not have been applied",
    writes = { "UserCreate" } },
  { name = "delete: applied after all", handler = "delete_resource", req = { type = "user", id = UID },
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_DELETE, variables = { id = UID }, fail = LOST }
      read_user(rt, Q, nil)
    end,
    message = "deleted user alice@acme.test (id " .. UID .. ") (confirmed by reading it back",
    writes = { "UserDelete" }, requests = 3 },
  { name = "delete: not applied", handler = "delete_resource", req = { type = "user", id = UID },
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_DELETE, variables = { id = UID }, fail = LOST }
      read_user(rt, Q, user("MEMBER"))
    end,
    err = "deleting user alice@acme.test failed: it was not applied", writes = { "UserDelete" } },
}

describe("provisioning when the answer is lost", function()
  local rt, Q, connector
  before_each(function()
    rt = fake.install{ config = { domain = "acme" }, phase = "provision" }
    Q = require "twingate.queries"
    connector = require "twingate"
  end)
  after_each(fake.uninstall)

  for _, c in ipairs(CASES) do
    it(c.name, function()
      c.answers(rt, Q)
      local result, err = connector[c.handler](c.req)
      if c.err then
        assert.is_nil(result)
        assert.matches(c.err, tostring(err), 1, true)
      else
        assert.is_table(result, tostring(err))
        assert.matches(c.message, result.message, 1, true)
        assert.is_true(result.read_back)
        for k, v in pairs(c.fields or {}) do assert.equal(v, result[k], k) end
      end
      local names = {}
      for _, w in ipairs(rt:writes()) do names[#names + 1] = w.name end
      assert.same(c.writes, names) -- never sent twice
      if c.requests then assert.equal(c.requests, #rt.requests) end
      assert.same({}, rt:unused())
      if c.requests == 3 then
        assert.equal(1, #rt:logged("warn", "the answer was lost"))
      end
    end)
  end
end)
