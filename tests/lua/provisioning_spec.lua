-- Every provisioning decision: group membership (MANUAL only, idempotent),
-- roles (one per user, revoke returns to MEMBER), account creation (duplicate
-- email refused), user deletion (synced users refused), malformed requests.
-- Refusals send no mutation; every id travels as a variable.
local fake = require "helpers.fake_runtime"

local GID, UID = "R3JvdXA6MQ==", "VXNlcjoxMDE="
local EMAIL = "alice@acme.test"

local function ent(rtype, rid, slug)
  return { id = rtype .. ":" .. rid .. ":" .. slug, type = rtype, resource = rid, slug = slug }
end
local function grant_req(rtype, rid, slug, ptype, pid)
  return { entitlement = ent(rtype, rid, slug), principal = { type = ptype or "user", id = pid or UID } }
end
local function revoke_req(rtype, rid, slug)
  local req = grant_req(rtype, rid, slug)
  req.grant = req.entitlement.id .. ":user:" .. UID
  return req
end

local function group(gtype, name)
  return { id = GID, name = name or "Engineering", type = gtype, isActive = true }
end
-- A user whose first page of groups holds gids (has_next: more pages follow).
local function user_in(gids, has_next)
  local edges = {}
  for i, gid in ipairs(gids) do edges[i] = { node = { id = gid } } end
  return { id = UID, email = EMAIL, type = "MANUAL", groups = {
    pageInfo = { hasNextPage = has_next or false, endCursor = has_next and "c1" or nil },
    edges = edges } }
end
local function membership(rt, Q, g, u)
  local NULL = require("helpers.fixtures").NULL
  rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
    data = { group = g == nil and NULL or g, user = u == nil and NULL or u } }
end
local function user(role, utype)
  return { id = UID, email = EMAIL, firstName = "Alice", lastName = "A", role = role,
    state = "ACTIVE", type = utype or "MANUAL" }
end
-- A user that does not exist reads as an explicit null, as the API answers.
local function read_user(rt, Q, u)
  if u == nil then u = require("helpers.fixtures").NULL end
  rt:answer{ query = Q.USER, variables = { id = UID }, data = { user = u } }
end
local function payload(field, ok, error_text, entity)
  return { [field] = { ok = ok, error = error_text, entity = entity } }
end

-- The one line a read-only key's refusal gives (twingate.client).
local function READ_ONLY(verb)
  return verb .. " refused: the Twingate API key is read-only; provisioning needs a key with "
    .. "Read & Write permission (Twingate: Settings → API → Generate Token)"
end

local CASES = {
  -- group membership --------------------------------------------------------
  { name = "grant adds a user to a MANUAL group", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{ "R3JvdXA6OQ==" })
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", true) }
    end,
    message = "added alice@acme.test to group Engineering", changed = true,
    writes = { "GroupAddMember" }, requests = 2 },
  { name = "grant accepts the API.md entitlement shape", handler = "grant",
    req = { entitlement = { type = "group", id = GID, slug = "member",
      id_string = "group:" .. GID .. ":member" },
      principal = { type = "user", id = UID } },
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", true) }
    end,
    message = "added alice@acme.test to group Engineering", writes = { "GroupAddMember" } },
  { name = "grant to an existing member changes nothing", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("MANUAL"), user_in{ "R3JvdXA6OQ==", GID }) end,
    message = "already a member", changed = false, writes = {}, requests = 1 },
  { name = "grant finds a membership on the user's second page of groups", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in({ "R3JvdXA6OQ==" }, true))
      rt:answer{ query = Q.USER_GROUPS, variables = { id = UID, first = 100, after = "c1" },
        data = { user = { groups = { pageInfo = { hasNextPage = false },
          edges = { { node = { id = GID } } } } } } }
    end,
    message = "already a member", writes = {}, requests = 2 },
  { name = "grant after reading every page of the user's groups", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in({ "R3JvdXA6OQ==" }, true))
      rt:answer{ query = Q.USER_GROUPS, variables = { id = UID, first = 100, after = "c1" },
        data = { user = { groups = { pageInfo = { hasNextPage = false },
          edges = { { node = { id = "R3JvdXA6Nw==" } }, { node = { id = "R3JvdXA6OA==" } } } } } } }
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", true) }
    end,
    message = "added", writes = { "GroupAddMember" }, requests = 3 },
  { name = "grant on a SYNCED group is refused", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("SYNCED", "Okta Sales"), user_in{}) end,
    err_kind = "precondition",
    err = "membership of group Okta Sales is managed by the identity provider", writes = {} },
  { name = "grant on a SYSTEM group is refused", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("SYSTEM", "Everyone"), user_in{}) end,
    err_kind = "precondition", err = "membership of group Everyone is managed by Twingate", writes = {} },
  { name = "grant on a group of an unknown type is refused", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("DYNAMIC", "Smart"), user_in{}) end,
    err_kind = "precondition", err = "membership of group Smart (type DYNAMIC) cannot be changed", writes = {} },
  { name = "grant on a missing group", handler = "grant", req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, nil, user_in{}) end,
    err_kind = "not_found", err = "group " .. GID .. " not found", writes = {} },
  { name = "grant to a missing user", handler = "grant", req = grant_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("MANUAL"), nil) end,
    err_kind = "not_found", err = "user " .. UID .. " not found", writes = {} },
  { name = "grant surfaces ok:false", handler = "grant", req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", false, "Group is read-only") }
    end,
    err = "adding alice@acme.test to group Engineering failed: Group is read-only",
    writes = { "GroupAddMember" } },
  { name = "grant reports a payload-less answer", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } }, data = {} }
    end,
    err = "Twingate returned no result", writes = { "GroupAddMember" } },
  { name = "grant: graphene-django's permission refusal is a read-only key", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        errors = { { message = "You do not have permission to perform this action" } } }
    end,
    err_kind = "permission", err = READ_ONLY("grant"), writes = { "GroupAddMember" } },
  { name = "grant: an older permission wording is a read-only key too", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        errors = { { message = "permission denied" } } }
    end,
    err_kind = "permission", err = READ_ONLY("grant"), writes = { "GroupAddMember" } },
  { name = "revoke: an HTTP 403 on the mutation is a read-only key", handler = "revoke",
    req = revoke_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{ GID })
      rt:answer{ query = Q.GROUP_REMOVE_MEMBER, variables = { id = GID, userIds = { UID } },
        fail = { kind = "auth", message = "forbidden", status = 403 } }
    end,
    err_kind = "permission", err = READ_ONLY("revoke"), writes = { "GroupRemoveMember" } },
  { name = "grant: an ok:false answer refusing permission is a read-only key", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{})
      rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", false, "You do not have permission to perform this action") }
    end,
    err_kind = "permission", err = READ_ONLY("grant"), writes = { "GroupAddMember" } },
  { name = "grant passes an auth failure on the read through", handler = "grant",
    req = grant_req("group", GID, "member"),
    answers = function(rt, Q)
      rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
        fail = { kind = "auth", message = "invalid API key", status = 401 } }
    end,
    err_kind = "auth", err = "auth: invalid API key (HTTP 401)", writes = {} },
  { name = "revoke removes a member of a MANUAL group", handler = "revoke",
    req = revoke_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{ GID })
      rt:answer{ query = Q.GROUP_REMOVE_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", true) }
    end,
    message = "removed alice@acme.test from group Engineering", changed = true,
    writes = { "GroupRemoveMember" } },
  { name = "revoke of a missing membership changes nothing", handler = "revoke",
    req = revoke_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("MANUAL"), user_in{}) end,
    message = "not a member", changed = false, writes = {} },
  { name = "revoke on a SYNCED group is refused", handler = "revoke",
    req = revoke_req("group", GID, "member"),
    answers = function(rt, Q) membership(rt, Q, group("SYNCED", "Okta Sales"), user_in{ GID }) end,
    err_kind = "precondition",
    err = "membership of group Okta Sales is managed by the identity provider", writes = {} },
  { name = "revoke surfaces ok:false", handler = "revoke", req = revoke_req("group", GID, "member"),
    answers = function(rt, Q)
      membership(rt, Q, group("MANUAL"), user_in{ GID })
      rt:answer{ query = Q.GROUP_REMOVE_MEMBER, variables = { id = GID, userIds = { UID } },
        data = payload("groupUpdate", false, "nope") }
    end,
    err = "removing alice@acme.test from group Engineering failed: nope",
    writes = { "GroupRemoveMember" } },

  -- roles ---------------------------------------------------------------------
  { name = "grant role replaces the user's role", handler = "grant",
    req = grant_req("role", "admin", "member"),
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "ADMIN" },
        data = payload("userRoleUpdate", true, nil, { id = UID, role = "ADMIN" }) }
    end,
    message = "role changed from Member to Admin for alice@acme.test", changed = true,
    fields = { previous_role = "MEMBER", role = "ADMIN" }, writes = { "UserRoleUpdate" } },
  { name = "grant of a two-word role", handler = "grant",
    req = grant_req("role", "access_reviewer", "member"),
    answers = function(rt, Q)
      read_user(rt, Q, user("DEVOPS"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "ACCESS_REVIEWER" },
        data = payload("userRoleUpdate", true) }
    end,
    message = "role changed from DevOps to Access Reviewer", writes = { "UserRoleUpdate" } },
  { name = "grant of the role the user already holds changes nothing", handler = "grant",
    req = grant_req("role", "admin", "member"),
    answers = function(rt, Q) read_user(rt, Q, user("ADMIN")) end,
    message = "already has role Admin", changed = false, writes = {} },
  { name = "grant of an unknown role is refused before any request", handler = "grant",
    req = grant_req("role", "auditor", "member"), answers = function() end,
    err = "unknown Twingate role auditor", writes = {}, requests = 0 },
  { name = "grant role to a missing user", handler = "grant", req = grant_req("role", "admin", "member"),
    answers = function(rt, Q) read_user(rt, Q, nil) end,
    err_kind = "not_found", err = "user " .. UID .. " not found", writes = {} },
  { name = "grant role surfaces ok:false", handler = "grant", req = grant_req("role", "admin", "member"),
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "ADMIN" },
        data = payload("userRoleUpdate", false, "cannot demote the last admin") }
    end,
    err = "changing the role of alice@acme.test failed: cannot demote the last admin",
    writes = { "UserRoleUpdate" } },
  -- issue 17: HELPDESK and BILLING are in the admin docs, not in every schema;
  -- the API refusing the enum value (HTTP 400, a variables error) says so
  { name = "grant of a role this API does not accept", handler = "grant",
    req = grant_req("role", "helpdesk", "member"),
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "HELPDESK" },
        fail = { kind = "graphql", status = 400, message = "Variable '$role' got invalid value "
          .. "'HELPDESK'; Value 'HELPDESK' does not exist in 'UserRole' enum." } }
    end,
    err_kind = "precondition", err = "this Twingate API does not accept role HELPDESK",
    writes = { "UserRoleUpdate" } },
  { name = "revoke role returns the user to Member", handler = "revoke",
    req = revoke_req("role", "admin", "member"),
    answers = function(rt, Q)
      read_user(rt, Q, user("ADMIN"))
      rt:answer{ query = Q.USER_ROLE_UPDATE, variables = { id = UID, role = "MEMBER" },
        data = payload("userRoleUpdate", true) }
    end,
    message = "role changed from Admin to Member for alice@acme.test", changed = true,
    writes = { "UserRoleUpdate" } },
  { name = "revoke of a role the user does not hold changes nothing", handler = "revoke",
    req = revoke_req("role", "admin", "member"),
    answers = function(rt, Q) read_user(rt, Q, user("DEVOPS")) end,
    message = "does not hold role Admin (holds DevOps)", changed = false, writes = {} },
  { name = "revoke of Member is refused before any request", handler = "revoke",
    req = revoke_req("role", "member", "member"), answers = function() end,
    err_kind = "precondition", err = "every user holds a role; grant another role instead", writes = {}, requests = 0 },

  -- malformed requests ----------------------------------------------------------
  { name = "no request at all", handler = "grant", req = nil, answers = function() end,
    err = "malformed request", requests = 0 },
  { name = "an entitlement of an unknown resource type", handler = "grant",
    req = grant_req("user", UID, "member"), answers = function() end,
    err_kind = "precondition", err = "cannot provision entitlements of resource type user", requests = 0 },
  { name = "an unknown slug", handler = "grant", req = grant_req("group", GID, "owner"),
    answers = function() end, err_kind = "precondition", err = 'has no entitlement "owner"', requests = 0 },
  { name = "a group principal", handler = "grant", req = grant_req("group", GID, "member", "group", "g2"),
    answers = function() end, err_kind = "precondition", err = "only user principals", requests = 0 },
  { name = "a principal without id", handler = "grant",
    req = { entitlement = ent("group", GID, "member"), principal = { type = "user" } },
    answers = function() end, err = "malformed principal", requests = 0 },
  { name = "an entitlement id that disagrees with its parts", handler = "grant",
    req = { entitlement = { id = "group:other:member", type = "group", resource = GID, slug = "member" },
      principal = { type = "user", id = UID } },
    answers = function() end, err = "does not match", requests = 0 },
  { name = "an entitlement without resource id", handler = "revoke",
    req = { entitlement = { type = "group", slug = "member" }, principal = { type = "user", id = UID } },
    answers = function() end, err = "malformed entitlement", requests = 0 },
  { name = "a grant id that disagrees with the entitlement", handler = "revoke",
    req = { grant = "group:" .. GID .. ":member:user:someone-else", entitlement = ent("group", GID, "member"),
      principal = { type = "user", id = UID } },
    answers = function() end, err = "malformed grant", requests = 0 },

  -- create_account ---------------------------------------------------------------
  { name = "create_account invites a new member by default", handler = "create_account",
    req = { email = "new@acme.test", login = "new@acme.test",
      profile = { first_name = "New", last_name = "Person" } },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "new@acme.test" } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
      rt:answer{ query = Q.USER_CREATE, variables = { email = "new@acme.test", firstName = "New",
        lastName = "Person", role = "MEMBER", shouldSendInvite = true },
        data = payload("userCreate", true, nil, { id = "VXNlcjo5OTk=", email = "new@acme.test",
          state = "PENDING" }) }
    end,
    message = "created user new@acme.test with id VXNlcjo5OTk= (role Member, invite sent)",
    fields = { id = "VXNlcjo5OTk=", display_name = "New Person" }, writes = { "UserCreate" } },
  { name = "create_account with a role and no invite", handler = "create_account",
    req = { email = "ops@acme.test", profile = { role = "devops", send_invite = "false" } },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "ops@acme.test" } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
      rt:answer{ query = Q.USER_CREATE, variables = { email = "ops@acme.test", role = "DEVOPS",
        shouldSendInvite = false }, data = payload("userCreate", true, nil, { id = "VXNlcjo4ODg=" }) }
    end,
    message = "(role DevOps, no invite)", fields = { id = "VXNlcjo4ODg=", display_name = "ops@acme.test" },
    writes = { "UserCreate" } },
  { name = "create_account refuses an email in use", handler = "create_account",
    req = { email = EMAIL, profile = { send_invite = false } },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { EMAIL } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = { { node = { id = UID, email = EMAIL } } } } } }
    end,
    err_kind = "precondition",
    err = "a user with email alice@acme.test already exists (id " .. UID .. ")", writes = {} },
  -- issue 17: the address in another case is the same user (asked for as
  -- given and in lower case; the answer compared case-insensitively)
  { name = "create_account refuses an email in use in another case", handler = "create_account",
    req = { email = "Alice@ACME.test", profile = { send_invite = false } },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "Alice@ACME.test", EMAIL } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = { { node = { id = UID, email = EMAIL } } } } } }
    end,
    err_kind = "precondition",
    err = "a user with email Alice@ACME.test already exists (id " .. UID .. ")", writes = {} },
  { name = "create_account with a role this API does not accept", handler = "create_account",
    req = { email = "new@acme.test", profile = { role = "billing" } },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "new@acme.test" } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
      rt:answer{ query = Q.USER_CREATE, variables = { email = "new@acme.test", role = "BILLING",
        shouldSendInvite = true }, fail = { kind = "graphql", status = 400,
        message = "Variable '$role' got invalid value 'BILLING'; Value 'BILLING' does not exist "
          .. "in 'UserRole' enum." } }
    end,
    err_kind = "precondition", err = "this Twingate API does not accept role BILLING",
    writes = { "UserCreate" } },
  { name = "create_account surfaces ok:false", handler = "create_account",
    req = { email = "new@acme.test" },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "new@acme.test" } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
      rt:answer{ query = Q.USER_CREATE, variables = { email = "new@acme.test", role = "MEMBER",
        shouldSendInvite = true }, data = payload("userCreate", false, "Invalid email domain") }
    end,
    err = "creating user new@acme.test failed: Invalid email domain", writes = { "UserCreate" } },
  { name = "create_account reports a success without an id", handler = "create_account",
    req = { email = "new@acme.test" },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { "new@acme.test" } },
        data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
      rt:answer{ query = Q.USER_CREATE, variables = { email = "new@acme.test", role = "MEMBER",
        shouldSendInvite = true }, data = payload("userCreate", true) }
    end,
    err = "returned no id", writes = { "UserCreate" } },
  { name = "create_account without an email", handler = "create_account",
    req = { login = "alice", profile = {} }, answers = function() end,
    err = "needs an email address", requests = 0 },
  { name = "create_account with an unknown role", handler = "create_account",
    req = { email = "x@acme.test", profile = { role = "owner" } }, answers = function() end,
    err = "unknown Twingate role owner", requests = 0 },
  { name = "create_account with a bad send_invite", handler = "create_account",
    req = { email = "x@acme.test", profile = { send_invite = "maybe" } }, answers = function() end,
    err = "send_invite must be true or false", requests = 0 },

  -- delete_resource --------------------------------------------------------------
  { name = "delete_resource deletes a MANUAL user", handler = "delete_resource",
    req = { type = "user", id = UID },
    answers = function(rt, Q)
      read_user(rt, Q, user("MEMBER"))
      rt:answer{ query = Q.USER_DELETE, variables = { id = UID }, data = payload("userDelete", true) }
    end,
    message = "deleted user alice@acme.test (id " .. UID .. ")", writes = { "UserDelete" } },
  { name = "delete_resource refuses a SYNCED user", handler = "delete_resource",
    req = { type = "user", id = UID },
    answers = function(rt, Q) read_user(rt, Q, user("MEMBER", "SYNCED")) end,
    err_kind = "precondition", err = "user alice@acme.test is managed by the identity provider", writes = {} },
  -- only an explicit null is "gone": an answer without its root field is damage
  { name = "delete_resource on an answer without the user field", handler = "delete_resource",
    req = { type = "user", id = UID },
    answers = function(rt, Q)
      rt:answer{ query = Q.USER, variables = { id = UID }, data = {} }
    end,
    err_kind = "decode", err = "user is missing in the answer", writes = {} },
  { name = "delete_resource of a missing user", handler = "delete_resource",
    req = { type = "user", id = UID }, answers = function(rt, Q) read_user(rt, Q, nil) end,
    err_kind = "not_found", err = "user " .. UID .. " not found", writes = {} },
  { name = "delete_resource surfaces ok:false", handler = "delete_resource",
    req = { type = "user", id = UID },
    answers = function(rt, Q)
      read_user(rt, Q, user("ADMIN"))
      rt:answer{ query = Q.USER_DELETE, variables = { id = UID },
        data = payload("userDelete", false, "cannot delete yourself") }
    end,
    err = "deleting user alice@acme.test failed: cannot delete yourself", writes = { "UserDelete" } },
  { name = "delete_resource refuses other resource types", handler = "delete_resource",
    req = { type = "group", id = GID }, answers = function() end,
    err_kind = "precondition", err = "deleting group resources is not supported", requests = 0 },
  { name = "delete_resource without id", handler = "delete_resource", req = { type = "user" },
    answers = function() end, err = "malformed request", requests = 0 },
}

describe("provisioning", function()
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
        if c.err_kind then assert.equal(c.err_kind, err.kind) end
      else
        assert.is_table(result, tostring(err))
        assert.is_string(result.message)
        assert.is_nil(result.message:find("\n"), "one line")
        assert.matches(c.message, result.message, 1, true)
        if c.changed ~= nil then assert.equal(c.changed, result.changed) end
        for k, v in pairs(c.fields or {}) do assert.equal(v, result[k], k) end
      end
      if c.writes then
        local names = {}
        for _, w in ipairs(rt:writes()) do names[#names + 1] = w.name end
        assert.same(c.writes, names)
      end
      if c.requests then assert.equal(c.requests, #rt.requests) end
      assert.same({}, rt:unused())
      for _, r in ipairs(rt.requests) do
        for _, id in ipairs{ GID, UID, EMAIL, "new@acme.test" } do
          assert.is_nil(r.query:find(id, 1, true), "id spliced into " .. r.name)
        end
      end
    end)
  end

  it("points bt.graphql at the tenant before the first request", function()
    membership(rt, Q, group("MANUAL"), user_in{ GID })
    assert.is_table(connector.grant(grant_req("group", GID, "member")))
    assert.equal("https://acme.twingate.com/api/graphql/", rt.configured.url)
  end)
end)
