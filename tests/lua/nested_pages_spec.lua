-- Nested first pages outside lib.page.walk_nested (a targeted group's members,
-- a provisioning read of a user's groups, a user looked up by email) get
-- walk_nested's checks: graphql.check_page, the follow-up walk's
-- previous_page, an owner deleted between pages counted; a malformed read is
-- never taken for "absent".
local fake = require "helpers.fake_runtime"

local GID, UID = "R3JvdXA6MQ==", "VXNlcjoxMDE="
local EMAIL, NEW = "alice@acme.test", "new@acme.test"
local LOST = { kind = "transport", message = "transfer closed with 40 bytes remaining to read",
  maybe_applied = true }

local function members(ids, has_next, cursor, total)
  local edges = {}
  for i, id in ipairs(ids) do edges[i] = { node = { id = id } } end
  return { totalCount = total, edges = edges,
    pageInfo = { hasNextPage = has_next, endCursor = cursor } }
end

local function user_ids(from, to)
  local out = {}
  for i = from, to do out[#out + 1] = "VXNlcjo" .. i end
  return out
end

local function group_node(users)
  return { id = GID, name = "Engineering", type = "MANUAL", isActive = true, users = users }
end

describe("targeted group members", function()
  local rt, Q
  before_each(function()
    rt = fake.install{ config = { domain = "acme" } }
    Q = require "twingate.queries"
  end)
  after_each(fake.uninstall)

  local function sync()
    return require("twingate").sync{ targets = { { type = "group", id = GID } } }
  end

  it("asks for a null member page again from the start instead of writing no grant", function()
    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 }, data = { group = group_node(nil) } }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = GID, first = 100 },
      data = { group = { users = members(user_ids(1, 2), false) } } }
    assert.is_true(sync())
    assert.equal(2, #rt.rows.grants)
    assert.same({}, rt:unused())
    assert.equal(1, #rt:logged("warn", "members of group Engineering: the first page in the answer is not usable"))
  end)

  it("fails the sync when the member list stays malformed", function()
    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 }, data = { group = group_node(nil) } }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = GID, first = 100 },
      data = { group = { users = { pageInfo = { hasNextPage = false }, edges = { {} } } } } }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.equal("decode", err.kind)
  end)

  it("pages a member list over several pages, telling the walk the first page's count", function()
    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 },
      data = { group = group_node(members(user_ids(1, 100), true, "c1", 250)) } }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = GID, first = 100, after = "c1" },
      data = { group = { users = members(user_ids(101, 200), true, "c2", 250) } } }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = GID, first = 100, after = "c2" },
      data = { group = { users = members(user_ids(201, 250), false, nil, 250) } } }
    assert.is_true(sync())
    assert.equal(250, #rt.rows.grants)
    assert.same({}, rt:unused())
  end)

  it("counts a group deleted between its member pages instead of failing", function()
    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 },
      data = { group = group_node(members(user_ids(1, 100), true, "c1", 120)) } }
    rt:answer{ query = Q.GROUP_MEMBERS, variables = { id = GID, first = 100, after = "c1" },
      data = { group = require("helpers.fixtures").NULL } }
    assert.is_true(sync())
    assert.equal(100, #rt.rows.grants)
    assert.same({ owner_deleted_during_sync = 1 }, rt.skipped)
  end)

  it("names the id only when the error is about resolving it", function()
    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 },
      errors = { { message = "Unable to parse global ID", path = { "group" } } } }
    local ok, err = sync()
    assert.is_nil(ok)
    assert.matches('no group with id "' .. GID .. '"', tostring(err), 1, true)

    rt:answer{ query = Q.GROUP, variables = { id = GID, first = 100 },
      errors = { { message = "Cannot query field \"x\" on type \"Group\"." } } }
    ok, err = sync()
    assert.is_nil(ok)
    assert.is_table(err)
    assert.equal("graphql", err.kind)
    assert.no.matches("no group with id", tostring(err), 1, true)
  end)
end)

describe("provisioning reads", function()
  local rt, Q, p
  before_each(function()
    rt = fake.install{ config = { domain = "acme" },
      phase = "provision" }
    Q = require "twingate.queries"
    p = require "twingate.provisioning"
  end)
  after_each(fake.uninstall)

  local function grant_req()
    return { entitlement = { id = "group:" .. GID .. ":member", type = "group", resource = GID,
      slug = "member" }, principal = { type = "user", id = UID } }
  end
  local function membership(groups)
    rt:answer{ query = Q.MEMBERSHIP, variables = { groupId = GID, userId = UID, first = 100 },
      data = { group = { id = GID, name = "Engineering", type = "MANUAL" },
        user = { id = UID, email = EMAIL, type = "MANUAL", groups = groups } } }
  end

  it("does not take groups = null for 'not a member': the list is read again", function()
    membership(nil)
    rt:answer{ query = Q.USER_GROUPS, variables = { id = UID, first = 100 },
      data = { user = { groups = members({ GID }, false) } } }
    local out = assert(p.grant(grant_req()))
    assert.is_false(out.changed)
    assert.same({}, rt:writes())
  end)

  it("reads the user's groups over several pages, from the first page's cursor", function()
    membership(members(user_ids(1, 100), true, "c1", 150))
    rt:answer{ query = Q.USER_GROUPS, variables = { id = UID, first = 100, after = "c1" },
      data = { user = { groups = members({ GID }, false, nil, 150) } } }
    local out = assert(p.grant(grant_req()))
    assert.is_false(out.changed)
    assert.same({}, rt:unused())
  end)

  it("stops at the group on the first page: no further page is read", function()
    membership(members({ "R3JvdXA6OQ==", GID }, true, "c1", 150))
    local out = assert(p.grant(grant_req()))
    assert.is_false(out.changed)
    assert.equal(1, #rt.requests)
  end)

  it("reports the outcome unknown when the membership read back stays malformed", function()
    membership(members({}, false))
    rt:answer{ query = Q.GROUP_ADD_MEMBER, variables = { id = GID, userIds = { UID } }, fail = LOST }
    membership(nil)
    rt:answer{ query = Q.USER_GROUPS, variables = { id = UID, first = 100 },
      data = { user = { groups = { pageInfo = { hasNextPage = false } } } } }
    local ok, err = p.grant(grant_req())
    assert.is_nil(ok)
    assert.matches("outcome unknown", tostring(err), 1, true)
    assert.equal(1, #rt:writes())
  end)

  it("reports the outcome unknown when the email read back is malformed (users = null)", function()
    rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { NEW } },
      data = { users = { pageInfo = { hasNextPage = false }, edges = {} } } }
    rt:answer{ query = Q.USER_CREATE, variables = { email = NEW, role = "MEMBER",
      shouldSendInvite = true }, fail = LOST }
    rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { NEW } }, data = {} }
    local ok, err = p.create_account{ email = NEW }
    assert.is_nil(ok)
    assert.matches("outcome unknown", tostring(err), 1, true)
    assert.equal(1, #rt:writes())
  end)

  it("refuses to create an account when the email lookup is malformed", function()
    rt:answer{ query = Q.USER_BY_EMAIL, variables = { emails = { NEW } },
      data = { users = { pageInfo = { hasNextPage = false }, edges = { { node = { email = NEW } } } } } }
    local ok, err = p.create_account{ email = NEW }
    assert.is_nil(ok)
    assert.matches("could not be read", tostring(err), 1, true)
    assert.same({}, rt:writes())
  end)
end)

describe("lib.page.walk_nested", function()
  local rt
  before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
  after_each(fake.uninstall)

  it("uses the nested list of a root node once when its page is read again", function()
    local graphql = require "bt.graphql"
    graphql.configure{ url = "https://acme.twingate.com/api/graphql/", auth_header = "X-API-KEY",
      auth_config = "api-key" }
    local page = require "lib.page"
    local ROOT, KIDS = "query Root($first: Int!, $after: String) { x }",
      "query Kids($id: ID!, $first: Int!, $after: String) { x }"
    local function root(ids, has_next, cursor, kids_next)
      local edges = {}
      for i, id in ipairs(ids) do
        edges[i] = { node = { id = id, kids = members({ id .. "-k" }, kids_next, kids_next and "k1" or nil) } }
      end
      return { roots = { totalCount = 3, edges = edges,
        pageInfo = { hasNextPage = has_next, endCursor = cursor } } }
    end
    -- the second page repeats "b" (as a page read again after a deletion would)
    rt:answer{ query = ROOT, variables = { first = 2 }, data = root({ "a", "b" }, true, "c1", true) }
    rt:answer{ query = ROOT, variables = { first = 2, after = "c1" }, data = root({ "b", "c" }, false, nil, false) }
    rt:answer{ query = KIDS, variables = { id = "a", first = 2, after = "k1" },
      data = { kids = members({}, false) } }
    rt:answer{ query = KIDS, variables = { id = "b", first = 2, after = "k1" },
      data = { kids = members({}, false) } }
    local done = {}
    assert.is_true(page.walk_nested{
      query = ROOT, variables = { first = 2 }, path = "roots", label = "roots", nested = "kids",
      follow = { query = KIDS, path = "kids", page_size = 2 },
      parent = function(node)
        return { id = node.id, label = "kids of " .. node.id, each = function() return true end,
          done = function() done[#done + 1] = node.id end }
      end,
    })
    table.sort(done)
    assert.same({ "a", "b", "c" }, done)
    assert.same({}, rt:unused())
  end)
end)
