-- Provisioning for Twingate: membership of MANUAL groups, user roles, account
-- creation (invite) and user deletion; refusals send no request that changes
-- anything. Runs only under --provisioning. Extend it from --scripts-dir (API.md).
-- When a change's answer is lost, one read tells whether it was applied;
-- nothing is ever sent twice.
local graphql = require "bt.graphql"
local log = require "bt.log"
local client = require "twingate.client"
local Q = require "twingate.queries"
local groups = require "twingate.groups"
local roles = require "twingate.roles"
local users = require "twingate.users"
local ids = require "lib.ids"
local keep = require "lib.keep"
local page = require "lib.page"
local text = require "lib.text"
local fail = require "lib.failure"

local M = {}

-- Why membership of a non-MANUAL group is refused (%s = group name).
M.GROUP_REFUSAL = {
  SYNCED = "membership of group %s is managed by the identity provider",
  SYSTEM = "membership of group %s is managed by Twingate",
}

-- A failure with a kind (lib.failure), which service mode answers with a
-- matching gRPC code (API.md "Provisioning errors"): "input" (the request is
-- malformed), "precondition" (a refusal: the change cannot be made as asked),
-- "not_found", "permission". The user sees its message without a script
-- position. Other failures are the runtime's error tables (their kind is the
-- runtime's).
local failure = fail.new
M.failure = failure

-- The user as messages name them.
local function who(user)
  return text.nonblank(user.email) or user.id
end

-- The answer to a mutation may be lost after Twingate applied it (the runtime
-- then sets err.maybe_applied). One read tells what is true: check() returns
-- true[, entity] (applied), false (not applied) or nil, err (the read failed
-- too). The mutation is never sent again. Returns true[, entity] or nil, err.
local function settle(what, err, check)
  if type(err) ~= "table" or err.maybe_applied ~= true then return nil, err end
  log.warn(what .. ": the answer was lost (" .. tostring(err) .. "); reading the state back")
  local applied, found = check()
  if applied == true then return true, found end
  if applied == false then
    return nil, failure("failed", string.format("%s failed: it was not applied (the answer was "
      .. "lost: %s)", what, tostring(err)))
  end
  return nil, failure("outcome_unknown", string.format("outcome unknown: %s may or may not "
    .. "have been applied: the answer was lost (%s) and reading the state back failed (%s); "
    .. "check before trying again",
    what, tostring(err), tostring(found)))
end

-- A change the key may not make (client.permission_refused): the one line
-- that says what to do, kind "permission" (never retried).
local function refused(verb, cause)
  return fail.new("permission", client.read_only_refusal(verb), { cause = cause })
end

-- Sends a mutation and checks its {ok, error} payload: payload | nil, err.
-- check reads the state back when the answer is lost (see settle); the
-- payload is then { ok = true, entity = <what check found>, read_back = true }.
-- verb names the change in a permission refusal ("grant", "role change", ...).
local function mutate(doc, vars, field, what, check, verb)
  local data, err = graphql.query(doc, vars)
  if not data and client.permission_refused(err) then return nil, refused(verb, err) end
  if not data then
    local applied, entity = settle(what, err, check)
    if not applied then return nil, entity end
    return { ok = true, entity = entity, read_back = true }
  end
  local payload = data[field]
  if type(payload) ~= "table" then
    return nil, failure("failed", what .. ": Twingate returned no result")
  end
  if payload.ok ~= true then
    if client.permission_refused(payload.error) then return nil, refused(verb, payload.error) end
    return nil, failure("failed", what .. " failed: "
      .. tostring(payload.error or "Twingate gave no reason"))
  end
  return payload
end

-- The handler's result table: message, then fields; a change confirmed by
-- reading it back (its answer was lost) says so in both.
local function result(message, payload, fields)
  local out = fields or {}
  out.message = message
  if payload.read_back then
    out.message = message .. " (confirmed by reading it back: the answer to the change was lost)"
    out.read_back = true
  end
  return out
end

-- A user or group the sync leaves out (its module's keep returns false or
-- its map nil) is not this connector's to change: refused before any change.
local function left_out(rtype, id, module_name)
  return failure("precondition", string.format("%s %s is left out of this connector by %s.keep "
    .. "(or its map); it cannot be provisioned", rtype, id, module_name))
end

local function user_kept(user)
  return keep.accepts(users, "twingate.users", user)
end

local function group_kept(group)
  return keep.accepts(groups, "twingate.groups", group, text.nonblank(group.name) or group.id)
end

-- The by-id field ("user" or "group") whose id the API could not resolve:
-- Twingate answers an id it cannot parse ("Unable to parse global ID") with a
-- GraphQL error at that field's path. nil for any other failure.
local function unresolved_field(err)
  if type(err) ~= "table" or err.kind ~= "graphql" or type(err.errors) ~= "table" then return nil end
  local field
  for _, e in ipairs(err.errors) do
    local path = type(e) == "table" and e.path or nil
    if type(path) ~= "table" or path[2] ~= nil or (path[1] ~= "user" and path[1] ~= "group")
        or (field and path[1] ~= field) then
      return nil
    end
    field = path[1]
  end
  return field
end

-- A read's failure: an id the API cannot resolve is "no <field> with id X".
local function read_failed(err, ids_by_field)
  local field = unresolved_field(err)
  if field == nil then return err end
  log.debug("Twingate could not resolve the " .. field .. " id: " .. tostring(err))
  return failure("not_found", string.format("no %s with id %s", field, ids_by_field[field]))
end

local function read_user(uid)
  -- root: only an explicit null is "gone"; {"data":{}} is a damaged answer
  local data, err = graphql.query(Q.USER, { id = uid }, { root = "user" })
  if not data then return nil, read_failed(err, { user = uid }) end
  if data.user == nil then return nil, failure("not_found", "user " .. uid .. " not found") end
  if not user_kept(data.user) then return nil, left_out("user", uid, "twingate.users") end
  return data.user
end

-- Request -> entitlement and user principal, validated.
local function parse(req, is_revoke)
  if type(req) ~= "table" then return nil, fail.input("malformed request") end
  local ent, err = ids.entitlement(req.entitlement)
  if not ent then return nil, fail.input(err) end
  if ent.type ~= "group" and ent.type ~= "role" then
    return nil, failure("precondition", "cannot provision entitlements of resource type " .. ent.type)
  end
  if ent.slug ~= "member" then
    return nil, failure("precondition", string.format("%s %s has no entitlement %q (only \"member\")",
      ent.type, ent.id, ent.slug))
  end
  local principal
  principal, err = ids.principal(req.principal, "user")
  if not principal then
    local p = req.principal
    if type(p) == "table" and p.type ~= nil and p.type ~= "user" then
      return nil, failure("precondition", err)   -- a well-formed principal of another type
    end
    return nil, fail.input(err)
  end
  if is_revoke then
    local ok
    ok, err = ids.check_grant(req.grant, ent, principal)
    if not ok then return nil, fail.input(err) end
  end
  return ent, principal
end

-- Group membership ---------------------------------------------------------

-- How a user's groups are paged past the first page (lib.page.first/rest).
local USER_GROUPS = { query = Q.USER_GROUPS, path = "user.groups", page_size = Q.PAGE_SIZE }

-- Reads the group and the user; refuses non-MANUAL groups. Returns group,
-- user, is_member, or nil, err.
local function membership(gid, uid)
  local data, err = graphql.query(Q.MEMBERSHIP,
    { groupId = gid, userId = uid, first = Q.PAGE_SIZE }, { root = "group" })
  if not data then return nil, read_failed(err, { group = gid, user = uid }) end
  local group, user = data.group, data.user
  if group == nil then return nil, failure("not_found", "group " .. gid .. " not found") end
  local name = text.nonblank(group.name) or gid
  if group.type ~= "MANUAL" then
    local refusal = M.GROUP_REFUSAL[group.type]
      or ("membership of group %s (type " .. tostring(group.type) .. ") cannot be changed")
    return nil, failure("precondition", refusal:format(name))
  end
  if user == nil then return nil, failure("not_found", "user " .. uid .. " not found") end
  if not group_kept(group) then return nil, left_out("group", gid, "twingate.groups") end
  if not user_kept(user) then return nil, left_out("user", uid, "twingate.users") end
  -- The user's groups: the first page nested here, the rest paged like
  -- lib.page.walk_nested's lists. A first page of the wrong shape is read
  -- again from its start; a read that stays malformed fails (outcome unknown
  -- when it is a read back), never "not a member".
  local member = false
  local owner = { id = uid, label = "groups of user " .. uid,
    each = function(g)
      if g.id == gid then member = true; return false end
      return true
    end }
  local entry
  entry, err = page.first(owner, user.groups, USER_GROUPS)
  if entry == nil then return nil, err end
  if entry ~= true then
    local ok
    ok, err = page.rest(entry, USER_GROUPS)
    if ok == nil then return nil, err end
    if ok == false then
      return nil, failure("not_found", "user " .. uid .. " not found (deleted while its groups were read)")
    end
  end
  return { id = gid, name = name }, user, member
end

local function change_group(gid, uid, add)
  local group, user, member = membership(gid, uid)
  if not group then return nil, user end
  if member == add then
    local state = add and "is already a member" or "is not a member"
    return { message = string.format("%s %s of group %s; nothing to do", who(user), state, group.name),
             changed = false }
  end
  local doc = add and Q.GROUP_ADD_MEMBER or Q.GROUP_REMOVE_MEMBER
  local verb = add and "adding %s to group %s" or "removing %s from group %s"
  local function check()
    local again, u, now_member = membership(gid, uid)
    if not again then return nil, u end
    return now_member == add
  end
  local payload, err = mutate(doc, { id = gid, userIds = { uid } }, "groupUpdate",
    verb:format(who(user), group.name), check, add and "grant" or "revoke")
  if not payload then return nil, err end
  local done = add and "added %s to group %s" or "removed %s from group %s"
  return result(done:format(who(user), group.name), payload, { changed = true })
end

-- Roles --------------------------------------------------------------------

local function role_value(ent)
  local value = ent.id:upper()
  if not roles.is_known(value) then return nil, failure("input", "unknown Twingate role " .. ent.id) end
  return value
end

local function set_role(user, uid, value)
  local function check()
    local now, err = read_user(uid)
    if not now then return nil, err end
    return now.role == value
  end
  local payload, err = mutate(Q.USER_ROLE_UPDATE, { id = uid, role = value }, "userRoleUpdate",
    "changing the role of " .. who(user), check, "role change")
  if not payload and roles.refused(err, value) then
    return nil, failure("precondition", roles.refusal(value))
  end
  if not payload then return nil, err end
  return result(string.format("role changed from %s to %s for %s", roles.display(user.role),
    roles.display(value), who(user)), payload,
    { changed = true, previous_role = user.role, role = value })
end

local function change_role(value, uid, add)
  if not add and value == roles.BASE then
    return nil, failure("precondition", "every user holds a role; grant another role instead of "
      .. "revoking " .. roles.display(value))
  end
  local user, err = read_user(uid)
  if not user then return nil, err end
  if add and user.role == value then
    return { message = string.format("%s already has role %s; nothing to do", who(user),
      roles.display(value)), changed = false }
  end
  if not add and user.role ~= value then
    return { message = string.format("%s does not hold role %s (holds %s); nothing to do",
      who(user), roles.display(value), roles.display(user.role)), changed = false }
  end
  return set_role(user, uid, add and value or roles.BASE)
end

-- Handlers -----------------------------------------------------------------

local function grant_or_revoke(req, add)
  local ent, principal = parse(req, not add)
  if not ent then return nil, principal end
  local value, err
  if ent.type == "role" then
    value, err = role_value(ent)
    if not value then return nil, err end
  end
  local ok
  ok, err = client.configure()
  if not ok then return nil, err end
  if ent.type == "group" then return change_group(ent.id, principal.id, add) end
  return change_role(value, principal.id, add)
end

function M.grant(req) return grant_or_revoke(req, true) end
function M.revoke(req) return grant_or_revoke(req, false) end

-- true/false from a boolean or "true"/"false"; nil, err otherwise.
local function flag(v, name)
  if type(v) == "boolean" then return v end
  local s = type(v) == "string" and v:lower() or nil
  if s == "true" then return true end
  if s == "false" then return false end
  return nil, fail.input(name .. " must be true or false, not " .. tostring(v))
end

-- The userCreate variables from the request, or nil, err.
local function new_user(req)
  if type(req) ~= "table" then return nil, fail.input("malformed request") end
  local profile = req.profile or {}
  if type(profile) ~= "table" then return nil, fail.input("profile must be a table") end
  local email = text.nonblank(req.email) or text.nonblank(req.login)
  if not email or not email:find("@", 1, true) then
    return nil, fail.input("creating a Twingate user needs an email address")
  end
  local role = roles.BASE
  if profile.role ~= nil then
    role = tostring(profile.role):upper()
    if not roles.is_known(role) then
      return nil, fail.input("unknown Twingate role " .. tostring(profile.role))
    end
  end
  local invite = true
  if profile.send_invite ~= nil then
    local err
    invite, err = flag(profile.send_invite, "send_invite")
    if invite == nil then return nil, err end
  end
  return {
    email = email, firstName = text.nonblank(profile.first_name),
    lastName = text.nonblank(profile.last_name), role = role, shouldSendInvite = invite,
  }
end

-- The user with this email: user | nil (none) | nil, err. The answer's
-- shape is checked first: a malformed answer (users null, a null edge) is an
-- error, never "no such user", so a read back after a lost answer reports
-- the outcome unknown instead of concluding the user was not created.
-- Emails compare case-insensitively (Alice@Acme.com is alice@acme.com).
local function user_with_email(email)
  local want = email:lower()
  local emails = { email }
  if want ~= email then emails[2] = want end
  local data, err = graphql.query(Q.USER_BY_EMAIL, { emails = emails })
  if not data then return nil, err end
  local ok, bad = graphql.check_page(data.users)
  if not ok then
    return nil, failure("decode", "the users with email " .. email .. " could not be read: "
      .. tostring(bad))
  end
  for node in page.nodes(data.users) do
    if type(node.email) == "string" and node.email:lower() == want then return node end
  end
  return nil
end

local function create_account(req)
  local vars, err = new_user(req)
  if not vars then return nil, err end
  local ok
  ok, err = client.configure()
  if not ok then return nil, err end
  local existing
  existing, err = user_with_email(vars.email)
  if err then return nil, err end
  if existing then
    return nil, failure("precondition", string.format("a user with email %s already exists (id %s)",
      vars.email, tostring(existing.id)))
  end
  local function check()
    local user, read_err = user_with_email(vars.email)
    if read_err then return nil, read_err end
    return user ~= nil, user
  end
  local payload
  payload, err = mutate(Q.USER_CREATE, vars, "userCreate", "creating user " .. vars.email, check,
    "account creation")
  if not payload and roles.refused(err, vars.role) then
    return nil, failure("precondition", roles.refusal(vars.role))
  end
  if not payload then return nil, err end
  local user = payload.entity
  if type(user) ~= "table" or user.id == nil then
    return nil, failure("failed", "Twingate created " .. vars.email .. " but returned no id")
  end
  return result(string.format("created user %s with id %s (role %s, %s)", vars.email, user.id,
    roles.display(vars.role), vars.shouldSendInvite and "invite sent" or "no invite"), payload,
    { id = user.id, email = vars.email,
      display_name = text.full_name(vars.firstName, vars.lastName) or vars.email })
end

local function delete_resource(req)
  if type(req) ~= "table" or type(req.type) ~= "string" or type(req.id) ~= "string"
      or req.id == "" then
    return nil, fail.input("malformed request: type and id are required")
  end
  if req.type ~= "user" then
    return nil, failure("precondition",
      "deleting " .. req.type .. " resources is not supported; only users can be deleted")
  end
  local ok, err = client.configure()
  if not ok then return nil, err end
  local user
  user, err = read_user(req.id)
  if not user then return nil, err end
  if user.type == "SYNCED" then
    return nil, failure("precondition",
      "user " .. who(user) .. " is managed by the identity provider; delete it there")
  end
  -- A deleted user reads back as user = null. An answer that lost the user
  -- object some other way (a malformed answer with user null) cannot be told
  -- apart from that: null is exactly what the API answers for a deleted user.
  local function check()
    local data, read_err = graphql.query(Q.USER, { id = req.id }, { root = "user" })
    if not data then return nil, read_err end
    if data.user ~= nil and (type(data.user) ~= "table" or data.user.id ~= req.id) then
      return nil, failure("decode", "the answer reading user " .. req.id .. " back is malformed")
    end
    return data.user == nil
  end
  local payload
  payload, err = mutate(Q.USER_DELETE, { id = req.id }, "userDelete",
    "deleting user " .. who(user), check, "account deletion")
  if not payload then return nil, err end
  return result(string.format("deleted user %s (id %s)", who(user), req.id), payload,
    { changed = true })
end

M.create_account = create_account
M.delete_resource = delete_resource

return M
