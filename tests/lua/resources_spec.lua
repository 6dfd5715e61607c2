-- Network resources (opt-in): mapping of Network/SSH/Kubernetes resources,
-- null and odd names, the `access` entitlement, one grant per access entry over
-- every page (follow-ups start at the nested endCursor), group grants
-- expandable to the group's members, service-account grants only when service
-- accounts are synced too.
local fake = require "helpers.fake_runtime"
local fixtures = require "helpers.fixtures"

local R = { "UmVzb3VyY2U6NzAwMQ==", "UmVzb3VyY2U6NzAwMg==", "UmVzb3VyY2U6NzAwMw==",
  "UmVzb3VyY2U6NzAwNA==" }
local G = { "R3JvdXA6MQ==", "R3JvdXA6Mg==", "R3JvdXA6Mw==", "R3JvdXA6NA==", "R3JvdXA6NQ==" }
local SA = { "U2VydmljZUFjY291bnQ6NTAwMQ==", "U2VydmljZUFjY291bnQ6NTAwMg==" }
local AWS = { id = "UmVtb3RlTmV0d29yazoyMDAx", name = "AWS Production" }
local LAN = { id = "UmVtb3RlTmV0d29yazoyMDAy", name = "Office LAN" }

local RESOURCES = {
  { id = R[1], name = "Production DB", display = "Production DB", typename = "NetworkResource",
    address = { "DNS", "db.prod.internal" }, alias = "db.acme.tg", network = AWS,
    active = true, visible = true, status = "enabled", created = "2022-01-15T10:00:00.606060+00:00",
    description = "Network resource db.prod.internal in remote network AWS Production",
    access = { { "group", G[1] }, { "service_account", SA[1] }, { "group", G[2] } } },
  { id = R[2], name = nil, display = R[2], typename = "SSHResource",
    address = { "IP", "10.0.0.5" }, network = AWS,
    active = false, visible = false, status = "disabled", created = "2022-02-20T11:11:11.707070+00:00",
    description = "SSH resource 10.0.0.5 in remote network AWS Production", access = {} },
  { id = R[3], name = "Clúster \"staging\": k8s ☸", display = "Clúster \"staging\": k8s ☸",
    typename = "KubernetesResource", address = { "DNS", "k8s.staging.office.lan" },
    alias = "k8s.acme.tg", network = LAN, active = true, visible = true, status = "enabled",
    created = "2023-09-09T20:39:15.125431+00:00",
    description = "Kubernetes resource k8s.staging.office.lan in remote network Office LAN",
    access = { { "group", G[1] }, { "group", G[3] }, { "service_account", SA[2] }, { "group", G[4] },
      { "group", G[5] } } },
  { id = R[4], name = "   ", display = R[4], typename = "NetworkResource",
    address = { "IP", "10.1.0.0/16" }, network = {}, active = true, visible = true,
    status = "enabled", created = "2024-01-01T00:00:00.000000+00:00",
    description = "Network resource 10.1.0.0/16", access = { { "service_account", SA[1] } } },
}

-- The groups the access entries name exist (groups_mixed holds G[1..5]).
local function run(rt)
  fixtures.replay(rt, "users_two_pages")
  fixtures.replay(rt, "groups_mixed")
  fixtures.replay(rt, "resources_mixed")
  rt.phase = "sync"
  return require("twingate").sync()
end

-- The access grants of one resource, as sorted "type:id" strings.
local function grants_of(rt, rid)
  local out = {}
  for _, row in ipairs(rt.rows.grants) do
    if row.resource.type == "resource" and row.resource.id == rid then
      out[#out + 1] = row.principal.type .. ":" .. row.principal.id
    end
  end
  table.sort(out)
  return out
end

local function want_grants(r, with_accounts)
  local out = {}
  for _, a in ipairs(r.access) do
    if with_accounts or a[1] ~= "service_account" then out[#out + 1] = a[1] .. ":" .. a[2] end
  end
  table.sort(out)
  return out
end

local function type_ids(rt)
  local out = {}
  for _, t in ipairs(rt.rows.resource_types) do out[#out + 1] = t.id end
  return out
end

describe("resources with service accounts", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups",
      ["include-service-accounts"] = "true", ["include-network-resources"] = "true" } }
    fixtures.replay(rt, "service_accounts_mixed")
    ok, err = run(rt)
  end)
  after_each(fake.uninstall)

  it("succeeds and reads every recorded page", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
  end)

  it("reads resources last and continues the long access list from the nested endCursor", function()
    local seq = {}
    for _, r in ipairs(rt.requests) do seq[#seq + 1] = r.name end
    assert.same({ "Users", "Users", "Groups", "Groups", "GroupMembers", "GroupMembers",
      "GroupMembers", "ServiceAccounts", "ServiceAccounts", "ServiceAccountKeys",
      "ServiceAccountKeys", "Resources", "Resources", "ResourceAccess", "ResourceAccess" }, seq)
    local follow = {}
    for _, r in ipairs(rt:requests_of(require("twingate.queries").RESOURCE_ACCESS)) do
      follow[#follow + 1] = r.variables
    end
    assert.same({
      { id = R[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
      { id = R[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjU=" },
    }, follow)
  end)

  it("emits both opt-in types, service_account before resource", function()
    assert.same({ "user", "group", "role", "service_account", "resource" }, type_ids(rt))
    assert.same({ id = "resource", display_name = "Resource", traits = {},
      description = "A Twingate network resource (Network, SSH or Kubernetes) and who can access it" },
      rt.rows.resource_types[5])
  end)

  for _, r in ipairs(RESOURCES) do
    it("maps resource " .. r.display, function()
      assert.same({
        type = "resource", id = r.id, display_name = r.display, description = r.description,
        created_at = r.created, status = r.status,
        profile = { resource_id = r.id, name = r.name, typename = r.typename,
          address_type = r.address[1], address = r.address[2], alias = r.alias,
          remote_network_id = r.network.id, remote_network_name = r.network.name,
          is_active = r.active, is_visible = r.visible },
      }, rt:resource("resource", r.id))
      assert.same({ id = "resource:" .. r.id .. ":access", resource = { type = "resource", id = r.id },
        slug = "access", display_name = r.display .. " Access",
        description = "Can access the " .. r.display .. " resource in Twingate",
        purpose = "permission", grantable_to = { "group", "service_account" } },
        rt:entitlement("resource:" .. r.id .. ":access"))
    end)

    it("grants exactly the access entries of resource " .. r.display, function()
      assert.same(want_grants(r, true), grants_of(rt, r.id))
    end)
  end

  it("makes group grants expandable to the group's members, service-account grants not", function()
    local groups, accounts = 0, 0
    for _, row in ipairs(rt.rows.grants) do
      if row.resource.type ~= "resource" then goto next end
      assert.equal("access", row.slug)
      assert.is_nil(row.immutable)
      if row.principal.type == "group" then
        groups = groups + 1
        assert.same({ entitlement_ids = { "group:" .. row.principal.id .. ":member" } }, row.expandable)
      else
        accounts = accounts + 1
        assert.equal("service_account", row.principal.type)
        assert.is_nil(row.expandable)
      end
      ::next::
    end
    assert.same({ 6, 3 }, { groups, accounts })
  end)

  it("emits one resource per node and warns about what it skips", function()
    local n = 0
    for _, row in ipairs(rt.rows.resources) do if row.type == "resource" then n = n + 1 end end
    assert.equal(#RESOURCES, n)
    assert.equal(1, #rt:logged("warn", "principal User VXNlcjoxMDE="))
    assert.same({ access_principal_unknown = 1 }, rt.skipped)
    assert.equal(1, #rt:logged("warn", "resource " .. R[2] .. " has no name"))
    assert.equal(1, #rt:logged("warn", "resource " .. R[4] .. " has no name"))
    assert.same({}, rt:logged("debug", "not synced"))
  end)

  it("lets the runtime drop a group repeated across access pages", function()
    assert.equal(2, rt.duplicates) -- and groups_mixed's member repeated across pages
  end)
end)

describe("resources without service accounts", function()
  local rt, ok, err
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups",
      ["include-network-resources"] = "true", ["include-service-accounts"] = "false" } }
    ok, err = run(rt)
  end)
  after_each(fake.uninstall)

  it("succeeds without reading service accounts", function()
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.same({}, rt:requests_of(require("twingate.queries").SERVICE_ACCOUNTS))
    assert.equal(11, #rt.requests)
  end)

  it("emits the resource type but not the service_account type", function()
    assert.same({ "user", "group", "role", "resource" }, type_ids(rt))
  end)

  it("offers the access entitlement to groups only", function()
    for _, r in ipairs(RESOURCES) do
      assert.same({ "group" }, rt:entitlement("resource:" .. r.id .. ":access").grantable_to)
    end
  end)

  for _, r in ipairs(RESOURCES) do
    it("grants only the group access entries of resource " .. r.display, function()
      assert.same(want_grants(r, false), grants_of(rt, r.id))
    end)
  end

  it("skips each service-account principal with a debug line, not a warning", function()
    local skipped = rt:logged("debug", "service accounts are not synced")
    assert.equal(3, #skipped)
    assert.truthy(skipped[1]:find(SA[1], 1, true))
    assert.same({}, rt:logged("warn", "ServiceAccount"))
  end)
end)

describe("resources failing", function()
  before_each(function()
    fake.install{ config = { domain = "acme", ["membership-side"] = "groups", ["include-network-resources"] = "1" } }
  end)
  after_each(fake.uninstall)

  it("returns the runtime's error on an access follow-up and stops there", function()
    local rt = fake.current()
    rt:answer{ query = require("twingate.queries").RESOURCE_ACCESS,
      variables = { id = R[3], first = 100, after = "YXJyYXljb25uZWN0aW9uOjI=" },
      fail = { kind = "rate_limited", message = "retries exhausted", status = 429 } }
    local ok, err = run(rt)
    assert.is_nil(ok)
    assert.equal("rate_limited: retries exhausted (HTTP 429)", tostring(err))
    assert.equal(10, #rt.requests)
  end)
end)

-- Review: an access list was walked with id_field = false (an entry of an
-- unknown principal type carries no id), so its pages had no anchor: a
-- deletion before the cursor moved the entry at the next page boundary out
-- of reach, unseen by the list-end check. Now ids are optional and the pages
-- are anchored on the principals' ids: the follow-up starts after the
-- second-to-last entry and must begin with the last one.
describe("resource access lists with edge cursors", function()
  local rt, Q
  local function entry(cursor, typename, id) return { cursor = cursor, node = { __typename = typename, id = id } } end
  local function resource(access)
    return { __typename = "NetworkResource", id = R[1], name = "Production DB", alias = nil,
      isActive = true, isVisible = true, createdAt = "2022-01-15T10:00:00.606060+00:00",
      address = { type = "DNS", value = "db.prod.internal" }, remoteNetwork = AWS, access = access }
  end
  local function sync(first_page, after, rest)
    fixtures.replay(rt, "users_two_pages")
    fixtures.replay(rt, "groups_mixed")
    rt:answer{ query = Q.RESOURCES, variables = { first = 100 }, data = { resources = {
      pageInfo = { hasNextPage = false, endCursor = "r0" },
      edges = { { cursor = "r0", node = resource(first_page) } } } } }
    rt:answer{ query = Q.RESOURCE_ACCESS, variables = { id = R[1], first = 100, after = after },
      data = { resource = { access = rest } } }
    rt.phase = "sync"
    return require("twingate").sync()
  end
  before_each(function()
    rt = fake.install{ config = { domain = "acme", ["membership-side"] = "groups",
      ["include-network-resources"] = "true", ["include-service-accounts"] = "false" } }
    Q = require "twingate.queries"
  end)
  after_each(fake.uninstall)

  it("continues after the second-to-last entry, anchored on the last one", function()
    local ok, err = sync({ pageInfo = { hasNextPage = true, endCursor = "a2" },
      edges = { entry("a0", "Group", G[1]), entry("a1", "User", nil), entry("a2", "Group", G[2]) } },
      "a1",
      { pageInfo = { hasNextPage = false, endCursor = "a3" },
        edges = { entry("a2", "Group", G[2]), entry("a3", "Group", G[3]) } })
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.same({ "group:" .. G[1], "group:" .. G[2], "group:" .. G[3] }, grants_of(rt, R[1]))
    assert.same({ access_principal_unknown = 1 }, rt.skipped)
  end)

  it("continues after an entry without an id from its own cursor", function()
    local ok, err = sync({ pageInfo = { hasNextPage = true, endCursor = "a1" },
      edges = { entry("a0", "Group", G[1]), entry("a1", "User", nil) } },
      "a1",
      { pageInfo = { hasNextPage = false, endCursor = "a2" },
        edges = { entry("a2", "Group", G[2]) } })
    assert.is_true(ok, tostring(err))
    assert.same({}, rt:unused())
    assert.same({ "group:" .. G[1], "group:" .. G[2] }, grants_of(rt, R[1]))
    assert.same({ access_principal_unknown = 1 }, rt.skipped)
  end)
end)
