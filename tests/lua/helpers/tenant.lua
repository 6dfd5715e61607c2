-- A synthetic Twingate tenant that answers the sync's read queries the way
-- Twingate (graphene) pages: offset cursors base64("arrayconnection:<n>"),
-- hasNextPage when items remain, `first` over 100 refused. Used to count
-- requests and to check that every membership and every access becomes a grant.
local M = {}

local B64 = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"

function M.base64(s)
  local out = {}
  for i = 1, #s, 3 do
    local a, b, c = s:byte(i, i + 2)
    local n = a * 65536 + (b or 0) * 256 + (c or 0)
    local chunk = {}
    for j = 3, 0, -1 do
      local k = (n >> (6 * j)) & 63
      chunk[#chunk + 1] = B64:sub(k + 1, k + 1)
    end
    if not b then chunk[3], chunk[4] = "=", "=" elseif not c then chunk[4] = "=" end
    out[#out + 1] = table.concat(chunk)
  end
  return table.concat(out)
end

local function unbase64(s)
  local bits, out = {}, {}
  for ch in s:gsub("=", ""):gmatch(".") do
    local k = B64:find(ch, 1, true)
    if not k then return nil end
    bits[#bits + 1] = k - 1
  end
  local n, count = 0, 0
  for _, v in ipairs(bits) do
    n, count = (n << 6) | v, count + 6
    if count >= 8 then
      count = count - 8
      out[#out + 1] = string.char((n >> count) & 255)
    end
  end
  return table.concat(out)
end

local function cursor(offset) return M.base64("arrayconnection:" .. offset) end

local function offset(after)
  if after == nil then return -1 end
  local n = (unbase64(after) or ""):match("^arrayconnection:(%d+)$")
  return n and tonumber(n) or -1     -- unparsable: from the start, like graphql-relay
end

-- One page of list (items mapped by map) after the cursor.
local function connection(list, first, after, map)
  local start = offset(after) + 1           -- 0-based index of the first item
  local edges = {}
  for i = start, math.min(start + first, #list) - 1 do
    edges[#edges + 1] = { cursor = cursor(i), node = map(list[i + 1]) }
  end
  return {
    pageInfo = { hasNextPage = start + first < #list, hasPreviousPage = start > 0,
      endCursor = #edges > 0 and cursor(start + #edges - 1) or nil },
    edges = edges, totalCount = #list,
  }
end

-- Resource kinds (the Resource interface's implementations), in turn.
M.KINDS = { "NetworkResource", "SSHResource", "KubernetesResource" }

-- The API's UserRole enum (vendor/twingate/schema.graphql).
M.USER_ROLES = { "ADMIN", "DEVOPS", "SUPPORT", "MEMBER", "ACCESS_REVIEWER", "HELPDESK", "BILLING" }

-- spec: { users = U, roles = { extra UserRole values the API has },
--         user_roles = { [i] = role of user i (default: ADMIN for user 1, else MEMBER) },
--         groups = { { members = n, type = "SYSTEM", name = ... }, ... },
--         service_accounts = { { keys = k, revoked = r, name = ... }, ... },
--         resources = { { groups = n, service_accounts = m, name = ... }, ... } }
-- Group k's members are users 1..n (n <= U). A service account's first r keys
-- are REVOKED, the others ACTIVE. A resource's access lists groups 1..n, then
-- service accounts 1..m.
function M.build(spec)
  local t = { users = {}, groups = {}, members = {}, service_accounts = {}, keys = {},
    resources = {}, access = {}, role_values = {} }
  for _, v in ipairs(M.USER_ROLES) do t.role_values[v] = true end
  for _, v in ipairs(spec.roles or {}) do t.role_values[v] = true end
  for i = 1, spec.users do
    t.users[i] = { id = M.base64("User:" .. i), firstName = "User", lastName = tostring(i),
      email = "user" .. i .. "@acme.test",
      role = (spec.user_roles or {})[i] or ((i == 1) and "ADMIN" or "MEMBER"),
      state = "ACTIVE", type = "MANUAL", isAdmin = i == 1,
      createdAt = "2026-01-01T00:00:00.000000+00:00" }
  end
  for k, g in ipairs(spec.groups) do
    local group = { id = M.base64("Group:" .. k), name = g.name or ("Group " .. k),
      type = g.type or "MANUAL", isActive = true, createdAt = "2026-01-01T00:00:00.000000+00:00" }
    t.groups[k] = group
    local members = {}
    for i = 1, g.members do members[i] = t.users[i] end
    t.members[group.id] = members
  end
  -- each user's groups, in group order (User.groups)
  t.groups_of = {}
  for _, u in ipairs(t.users) do t.groups_of[u.id] = {} end
  for _, g in ipairs(t.groups) do
    for _, u in ipairs(t.members[g.id]) do
      local list = t.groups_of[u.id]
      list[#list + 1] = g
    end
  end
  local n = 0
  for j, a in ipairs(spec.service_accounts or {}) do
    local account = { id = M.base64("ServiceAccount:" .. j), name = a.name or ("Robot " .. j),
      createdAt = "2026-01-02T00:00:00.000000+00:00" }
    t.service_accounts[j] = account
    local keys = {}
    for i = 1, a.keys do
      n = n + 1
      keys[i] = { id = M.base64("ServiceAccountKey:" .. n),
        status = i <= (a.revoked or 0) and "REVOKED" or "ACTIVE" }
    end
    t.keys[account.id] = keys
  end
  for k, r in ipairs(spec.resources or {}) do
    local resource = { __typename = M.KINDS[(k - 1) % #M.KINDS + 1], id = M.base64("Resource:" .. k),
      name = r.name or ("Resource " .. k), isActive = true, isVisible = true,
      createdAt = "2026-01-03T00:00:00.000000+00:00",
      address = { type = "DNS", value = "r" .. k .. ".internal" },
      remoteNetwork = { id = M.base64("RemoteNetwork:1"), name = "Office" } }
    t.resources[k] = resource
    local access = {}
    for i = 1, r.groups or 0 do
      access[#access + 1] = { __typename = "Group", id = t.groups[i].id }
    end
    for i = 1, r.service_accounts or 0 do
      access[#access + 1] = { __typename = "ServiceAccount", id = t.service_accounts[i].id }
    end
    t.access[resource.id] = access
  end
  return t
end

local function too_many(first)
  if type(first) ~= "number" or first > 100 then
    return { errors = { { message = "Requesting " .. tostring(first)
      .. " records exceeds the `first` limit of 100 records." } } }
  end
end

local function id_only(x) return { id = x.id } end
local function user_node(u) return u end
local function key_node(k) return { id = k.id, status = k.status } end
local function principal_node(p) return { __typename = p.__typename, id = p.id } end

-- node = a shallow copy of item with field set to a first page of list.
local function with_page(item, field, list, first, map)
  local node = {}
  for k, v in pairs(item) do node[k] = v end
  node[field] = connection(list, first, nil, map)
  return node
end

-- An unknown id is answered with an explicit null, as the API does.
local NULL = require("helpers.fixtures").NULL

-- A fake_runtime handler serving the sync's documents from tenant t.
function M.handler(t)
  local Q = require "twingate.queries"
  local by_id = {}
  for _, g in ipairs(t.groups) do by_id[g.id] = g end
  for _, a in ipairs(t.service_accounts) do by_id[a.id] = a end
  for _, r in ipairs(t.resources) do by_id[r.id] = r end
  local user_by_id = {}
  for _, u in ipairs(t.users) do user_by_id[u.id] = u end
  return function(query, vars)
    if query == Q.USERS then
      return too_many(vars.first) or
        { data = { users = connection(t.users, vars.first, vars.after, user_node) } }
    elseif query == Q.GROUPS then
      local err = too_many(vars.first)
      if err then return err end
      return { data = { groups = connection(t.groups, vars.first, vars.after, function(g)
        local node = {}
        for k, v in pairs(g) do node[k] = v end
        node.users = connection(t.members[g.id], vars.first, nil, id_only)
        return node
      end) } }
    elseif query == Q.GROUP_LIST then
      return too_many(vars.first) or { data = { groups = connection(t.groups, vars.first,
        vars.after, function(g)
          local node = {}
          for k, v in pairs(g) do node[k] = v end
          node.users = { totalCount = #t.members[g.id] }
          return node
        end) } }
    elseif query == Q.USERS_WITH_GROUPS then
      return too_many(vars.first) or { data = { users = connection(t.users, vars.first,
        vars.after, function(u)
          return with_page(u, "groups", t.groups_of[u.id], vars.first, id_only)
        end) } }
    elseif query == Q.USER_GROUPS then
      local err = too_many(vars.first)
      if err then return err end
      if not t.groups_of[vars.id] then return { data = { user = NULL } } end
      return { data = { user = {
        groups = connection(t.groups_of[vars.id], vars.first, vars.after, id_only) } } }
    elseif query == Q.GROUP or query == Q.GROUP_KEEP then
      local g = by_id[vars.id]
      if not g or not t.members[vars.id] then return { data = { group = NULL } } end
      return { data = { group = with_page(g, "users", t.members[g.id], vars.first,
        query == Q.GROUP_KEEP and user_node or id_only) } }
    elseif query == Q.USER then
      return { data = { user = user_by_id[vars.id] or NULL } }
    elseif query == Q.ROLE_HOLDERS or query == Q.ROLE_HOLDERS_KEEP then
      local err = too_many(vars.first)
      if err then return err end
      local want, holders = vars.filter.role["in"][1], {}
      if not t.role_values[want] then   -- the API's UserRole enum refuses it (HTTP 400)
        return { errors = { { message = "Variable '$filter' got invalid value '" .. tostring(want)
          .. "' at 'filter.role.in[0]'; Value '" .. tostring(want)
          .. "' does not exist in 'UserRole' enum." } } }
      end
      for _, u in ipairs(t.users) do
        if u.role == want then holders[#holders + 1] = u end
      end
      return { data = { users = connection(holders, vars.first, vars.after,
        query == Q.ROLE_HOLDERS_KEEP and user_node or id_only) } }
    elseif query == Q.GROUP_MEMBERS or query == Q.GROUP_MEMBERS_KEEP then
      local err = too_many(vars.first)
      if err then return err end
      if not by_id[vars.id] then return { data = { group = NULL } } end
      return { data = { group = {
        users = connection(t.members[vars.id], vars.first, vars.after,
          query == Q.GROUP_MEMBERS_KEEP and user_node or id_only) } } }
    elseif query == Q.SERVICE_ACCOUNTS then
      return too_many(vars.first) or { data = { serviceAccounts = connection(t.service_accounts,
        vars.first, vars.after, function(a)
          return with_page(a, "keys", t.keys[a.id], vars.first, key_node)
        end) } }
    elseif query == Q.SERVICE_ACCOUNT_KEYS then
      local err = too_many(vars.first)
      if err then return err end
      if not t.keys[vars.id] then return { data = { serviceAccount = NULL } } end
      return { data = { serviceAccount = {
        keys = connection(t.keys[vars.id], vars.first, vars.after, key_node) } } }
    elseif query == Q.RESOURCES then
      return too_many(vars.first) or { data = { resources = connection(t.resources,
        vars.first, vars.after, function(r)
          return with_page(r, "access", t.access[r.id], vars.first, principal_node)
        end) } }
    elseif query == Q.RESOURCE_ACCESS then
      local err = too_many(vars.first)
      if err then return err end
      if not t.access[vars.id] then return { data = { resource = NULL } } end
      return { data = { resource = {
        access = connection(t.access[vars.id], vars.first, vars.after, principal_node) } } }
    end
    return nil
  end
end

-- Requests an ideal client needs for t: one per page of users and groups
-- (at least one each) plus one per extra page of each member list (the group side); with
-- opts.service_accounts / opts.resources also one per page of that list (at
-- least one) plus one per extra page of each key / access list.
-- opts.side = "users" counts the user side instead: one per extra page of
-- each user's groups.
function M.ideal_requests(t, page, opts)
  opts = opts or {}
  -- every page after the first overlaps the one before by a node (the
  -- runtime continues from the second-to-last node's cursor): page - 1 new
  local function extra(n)
    if n <= page then return 0 end
    return (n - page + page - 2) // (page - 1)
  end
  local function pages(n) return 1 + extra(n) end
  local n = pages(#t.users) + pages(#t.groups)
  if opts.side == "users" then
    for _, u in ipairs(t.users) do n = n + extra(#t.groups_of[u.id]) end
  else
    for _, g in ipairs(t.groups) do n = n + extra(#t.members[g.id]) end
  end
  if opts.service_accounts then
    n = n + pages(#t.service_accounts)
    for _, a in ipairs(t.service_accounts) do n = n + extra(#t.keys[a.id]) end
  end
  if opts.resources then
    n = n + pages(#t.resources)
    for _, r in ipairs(t.resources) do n = n + extra(#t.access[r.id]) end
  end
  return n
end

return M
