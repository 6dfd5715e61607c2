-- Every GraphQL document the Twingate connector sends. Ids and cursors always
-- travel as variables; tests/e2e/test_queries.py validates each document
-- against vendor/twingate/schema.graphql. Extend from --scripts-dir to add fields.
local Q = {}

-- Largest page Twingate is known to serve (twingate-api.md section 3).
Q.PAGE_SIZE = 100

-- The parts a batched walk (page-batch, lib.batch) splits a root list into:
-- the filter input type and the non-null string field whose first characters
-- a regexp filter matches (twingate-api.md 9a).
Q.PARTITION = {
  users = { field = "users", filter_type = "UserFilterInput", by = "firstName" },
  groups = { field = "groups", filter_type = "GroupFilterInput", by = "name" },
}

-- The fields the sync asks for, where a document says {{user}}, {{group}} or
-- {{resource}}. To add one, from an override (require "bundled:twingate.queries"):
--   table.insert(Q.FIELDS.user, "updatedAt")
-- An entry is a field name, a name with a sub-selection ("address { type value }"),
-- or an inline fragment ("... on NetworkResource { isActive }").
Q.FIELDS = {
  -- (User.isAdmin is deprecated in favour of role: not asked for.)
  user = { "id", "firstName", "lastName", "email", "role", "state", "type", "createdAt" },
  group = { "id", "name", "type", "isActive", "originId", "createdAt" },
  -- Resource is an interface: isActive only on NetworkResource (the terraform
  -- provider's selection; on the interface it fails validation).
  resource = { "__typename", "id", "name", "alias", "isVisible", "createdAt",
    "address { type value }", "remoteNetwork { id name }", "... on NetworkResource { isActive }" },
}

-- Documents with {{set}} placeholders, built from Q.FIELDS when read (Q.USERS).
Q.TEMPLATES = {}

-- The lists read in a sync ask for totalCount and each edge's cursor:
-- Twingate's cursors are offsets, so the runtime continues each page from its
-- second-to-last node and reads back when the overlap node moved (a deletion
-- shifted the list), and checks at the end of each list that the nodes read
-- reach totalCount (lib.page, graphql.paginate).

-- Sync ---------------------------------------------------------------------

Q.TEMPLATES.USERS = [[
query Users($first: Int!, $after: String) {
  users(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        {{user}}
      }
    }
  }
}
]]

-- One user with the fields USERS reads: a principal that appeared during the
-- sync (twingate.principals), a user a targeted sync names (twingate.targets),
-- or a provisioning handler's read of a user (twingate.provisioning).
Q.TEMPLATES.USER = [[
query User($id: ID!) {
  user(id: $id) {
    {{user}}
  }
}
]]

-- Users with the first page of their groups: memberships read from the user
-- side (twingate-api.md: User.groups is a connection like Group.users). Longer
-- group lists continue with USER_GROUPS from the nested endCursor.
Q.TEMPLATES.USERS_WITH_GROUPS = [[
query UsersWithGroups($first: Int!, $after: String) {
  users(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        {{user}}
        groups(first: $first) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id } }
        }
      }
    }
  }
}
]]

-- Groups without their members (the user side reads memberships), with the
-- member count that prices the group side (twingate.sync logs both).
Q.TEMPLATES.GROUP_LIST = [[
query GroupList($first: Int!, $after: String) {
  groups(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        {{group}}
        users { totalCount }
      }
    }
  }
}
]]

-- Groups with the first page of their members; longer member lists continue
-- with GROUP_MEMBERS from the nested endCursor.
Q.TEMPLATES.GROUPS = [[
query Groups($first: Int!, $after: String) {
  groups(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        {{group}}
        users(first: $first) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id } }
        }
      }
    }
  }
}
]]

Q.GROUP_MEMBERS = [[
query GroupMembers($id: ID!, $first: Int!, $after: String) {
  group(id: $id) {
    users(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id } }
    }
  }
}
]]

-- Targeted sync (--sync-resources) ---------------------------------------

-- One group with the first page of its members (GROUP_MEMBERS continues).
Q.TEMPLATES.GROUP = [[
query Group($id: ID!, $first: Int!) {
  group(id: $id) {
    {{group}}
    users(first: $first) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id } }
    }
  }
}
]]

-- The same with the user fields of each member (GROUP_MEMBERS_KEEP continues):
-- a targeted sync emits no user, so when an override replaced users.keep or
-- users.map (twingate.users.filters) the hook decides on each member's grant
-- from these fields, without a request of its own.
Q.TEMPLATES.GROUP_KEEP = [[
query GroupKeep($id: ID!, $first: Int!) {
  group(id: $id) {
    {{group}}
    users(first: $first) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { {{user}} } }
    }
  }
}
]]

Q.TEMPLATES.GROUP_MEMBERS_KEEP = [[
query GroupMembersKeep($id: ID!, $first: Int!, $after: String) {
  group(id: $id) {
    users(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { node { {{user}} } }
    }
  }
}
]]


-- The holders of one role: the users list with filter { role = { in = { ROLE } } }.
Q.ROLE_HOLDERS = [[
query RoleHolders($filter: UserFilterInput!, $first: Int!, $after: String) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { cursor node { id } }
  }
}
]]

-- The same with the user fields the users' keep hook reads (see GROUP_KEEP).
Q.TEMPLATES.ROLE_HOLDERS_KEEP = [[
query RoleHoldersKeep($filter: UserFilterInput!, $first: Int!, $after: String) {
  users(first: $first, after: $after, filter: $filter) {
    totalCount pageInfo { hasNextPage endCursor }
    edges { node { {{user}} } }
  }
}
]]

-- Opt-in: service accounts (--include-service-accounts) -------------------

-- Service accounts with the first page of their keys (counted into the
-- profile); longer key lists continue with SERVICE_ACCOUNT_KEYS.
Q.SERVICE_ACCOUNTS = [[
query ServiceAccounts($first: Int!, $after: String) {
  serviceAccounts(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        id name createdAt
        keys(first: $first) {
          totalCount pageInfo { hasNextPage endCursor }
          edges { cursor node { id status } }
        }
      }
    }
  }
}
]]

Q.SERVICE_ACCOUNT_KEYS = [[
query ServiceAccountKeys($id: ID!, $first: Int!, $after: String) {
  serviceAccount(id: $id) {
    keys(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id status } }
    }
  }
}
]]

-- Opt-in: network resources (--include-network-resources) -----------------

-- A page of a resource's access list, written once for both documents below.
local ACCESS_CONNECTION = [[
totalCount pageInfo { hasNextPage endCursor }
edges {
  cursor
  node {
    __typename
    ... on Group { id }
    ... on ServiceAccount { id }
  }
}]]

local function with_access(document)
  return (document:gsub("ACCESS_CONNECTION", ACCESS_CONNECTION))
end

-- Resources (the interface: Network, SSH and Kubernetes resources) with the
-- first page of their access list, whose principals are a union of Group and
-- ServiceAccount; longer lists continue with RESOURCE_ACCESS.
Q.TEMPLATES.RESOURCES = with_access[[
query Resources($first: Int!, $after: String) {
  resources(first: $first, after: $after) {
    totalCount pageInfo { hasNextPage endCursor }
    edges {
      cursor
      node {
        {{resource}}
        access(first: $first) { ACCESS_CONNECTION }
      }
    }
  }
}
]]

Q.RESOURCE_ACCESS = with_access[[
query ResourceAccess($id: ID!, $first: Int!, $after: String) {
  resource(id: $id) {
    access(first: $first, after: $after) { ACCESS_CONNECTION }
  }
}
]]

-- Provisioning -------------------------------------------------------------

-- The group, the user and the first page of the user's groups in one request
-- (the sync's fields: the keep hooks decide on them as in a sync).
Q.TEMPLATES.MEMBERSHIP = [[
query Membership($groupId: ID!, $userId: ID!, $first: Int!, $after: String) {
  group(id: $groupId) { {{group}} }
  user(id: $userId) {
    {{user}}
    groups(first: $first, after: $after) {
      pageInfo { hasNextPage endCursor }
      edges { cursor node { id } }
    }
  }
}
]]

Q.USER_GROUPS = [[
query UserGroups($id: ID!, $first: Int!, $after: String) {
  user(id: $id) {
    groups(first: $first, after: $after) {
      totalCount pageInfo { hasNextPage endCursor }
      edges { cursor node { id } }
    }
  }
}
]]

-- The users whose email is one of $emails (the address as given and in
-- lower case: whether the API compares case-insensitively is not known, so
-- provisioning compares the answers itself, case-insensitively).
Q.USER_BY_EMAIL = [[
query UserByEmail($emails: [String!]!) {
  users(first: 10, filter: { email: { in: $emails } }) {
    pageInfo { hasNextPage endCursor }
    edges { node { id email } }
  }
}
]]

Q.GROUP_ADD_MEMBER = [[
mutation GroupAddMember($id: ID!, $userIds: [ID]) {
  groupUpdate(id: $id, addedUserIds: $userIds) { ok error }
}
]]

Q.GROUP_REMOVE_MEMBER = [[
mutation GroupRemoveMember($id: ID!, $userIds: [ID]) {
  groupUpdate(id: $id, removedUserIds: $userIds) { ok error }
}
]]

Q.USER_ROLE_UPDATE = [[
mutation UserRoleUpdate($id: ID!, $role: UserRole!) {
  userRoleUpdate(id: $id, role: $role) { ok error entity { id role } }
}
]]

Q.USER_CREATE = [[
mutation UserCreate($email: String!, $firstName: String, $lastName: String,
                    $role: UserRole, $shouldSendInvite: Boolean) {
  userCreate(email: $email, firstName: $firstName, lastName: $lastName,
             role: $role, shouldSendInvite: $shouldSendInvite) {
    ok error entity { id email state }
  }
}
]]

Q.USER_DELETE = [[
mutation UserDelete($id: ID!) {
  userDelete(id: $id) { ok error }
}
]]

-- A field entry: a name, optionally with one sub-selection of names, or an
-- inline fragment on a type name. Nothing else (arguments, literals,
-- variables) can reach a document this way.
local function field_text(set, entry)
  local ok = type(entry) == "string" and (entry:match("^[_%a][_%w]*$")
    or entry:match("^[_%a][_%w]*%s*{[_%w%s{}]*}$")
    or entry:match("^%.%.%.%s*on%s+[_%a][_%w]*%s*{[_%w%s{}]*}$"))
  if not ok then
    error(string.format("twingate.queries: Q.FIELDS.%s holds %q, not a field name", set,
      tostring(entry)), 4)
  end
  return entry
end

local function expand(template)
  return (template:gsub("{{(%a+)}}", function(set)
    local fields = Q.FIELDS[set]
    if type(fields) ~= "table" then error("twingate.queries: no Q.FIELDS." .. set, 3) end
    local parts = {}
    for i, entry in ipairs(fields) do parts[i] = field_text(set, entry) end
    return table.concat(parts, " ")
  end))
end

-- Q.USERS etc. are built on each read, so fields added after this file loaded count;
-- pairs(Q) lists them too (the document checks enumerate every document).
setmetatable(Q, {
  __index = function(_, name)
    local template = Q.TEMPLATES[name]
    return template and expand(template) or nil
  end,
  __pairs = function(t)
    local all = {}
    for k, v in next, t do all[k] = v end
    for name in next, Q.TEMPLATES do all[name] = expand(Q.TEMPLATES[name]) end
    return next, all, nil
  end,
})

return Q
