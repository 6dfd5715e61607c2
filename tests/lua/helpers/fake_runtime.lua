-- A fake of the C runtime for busted specs: installs package.loaded["bt.*"]
-- with exactly the functions of scripts/API.md (API_NAMES; the e2e parity
-- test compares it with the binary's modules). graphql answers from recorded
-- exchanges (or a handler) matched by document + variables and records every
-- request; emit collects rows and builds ids like the runtime.
--
--   local fake = require "helpers.fake_runtime"
--   before_each(function() rt = fake.install{ config = { domain = "acme" } } end)
--   after_each(fake.uninstall)
local M = {}

M.API_NAMES = {
  ["bt.clock"] = { "monotonic", "now" },
  ["bt.config"] = { "get", "is_set" },
  ["bt.emit"] = { "counts", "entitlement", "filter", "grant", "grants", "has_resource",
    "is_filtered", "resource", "resource_type", "skip" },
  ["bt.graphql"] = { "array", "check_page", "configure", "null", "paginate", "query", "stats" },
  ["bt.log"] = { "debug", "error", "info", "warn" },
}

-- Script modules that cache runtime modules at load; unloaded around a test.
local SCRIPT_PATTERNS = { "^twingate$", "^twingate%.", "^lib%.", "^bundled:" }

local ERROR_MT = {
  __tostring = function(e)
    local s = tostring(e.kind) .. ": " .. tostring(e.message)
    if e.status then s = s .. " (HTTP " .. tostring(e.status) .. ")" end
    return s
  end,
}

-- An error value shaped like the runtime's {kind, status, message, ...}.
function M.error(kind, message, status, extra)
  local e = { kind = kind, message = message, status = status }
  for k, v in pairs(extra or {}) do e[k] = v end
  return setmetatable(e, ERROR_MT)
end

-- Value helpers --------------------------------------------------------------

local function copy(v)
  if type(v) ~= "table" or v == require("helpers.fixtures").NULL then return v end
  local t = {}
  for k, x in pairs(v) do t[k] = copy(x) end
  return t
end
M.copy = copy

local function equal(a, b)
  if type(a) ~= "table" or type(b) ~= "table" then return a == b end
  for k, v in pairs(a) do if not equal(v, b[k]) then return false end end
  for k in pairs(b) do if a[k] == nil then return false end end
  return true
end
M.equal = equal

local function dump(v)
  if type(v) == "string" then return string.format("%q", v) end
  if type(v) ~= "table" then return tostring(v) end
  local keys = {}
  for k in pairs(v) do keys[#keys + 1] = k end
  table.sort(keys, function(a, b) return tostring(a) < tostring(b) end)
  local parts = {}
  for _, k in ipairs(keys) do parts[#parts + 1] = tostring(k) .. "=" .. dump(v[k]) end
  return "{" .. table.concat(parts, ", ") .. "}"
end
M.dump = dump

-- The operation name of a document ("query Users(...)" -> "Users").
function M.operation(doc)
  return doc:match("^%s*%a+%s+([%w_]+)") or "(anonymous)"
end

local function is_mutation(doc)
  local s = doc:gsub("^%s+", "")
  while s:sub(1, 1) == "#" do s = s:gsub("^[^\n]*\n?", ""):gsub("^%s+", "") end
  return s:match("^mutation[%s({]") ~= nil or s == "mutation"
end

-- Argument checks (misuse raises, like the runtime) ---------------------------

-- Raises at the first frame outside this file, as the runtime's C checks
-- raise at their Lua caller: the author's line, not a line in here.
local HERE = debug.getinfo(1, "S").source
local function fail(fmt, ...)
  local level = 2
  while true do
    local info = debug.getinfo(level, "S")
    if info == nil then level = 1; break end
    if info.source ~= HERE and info.what ~= "C" then break end
    level = level + 1
  end
  error(string.format(fmt, ...), level)
end

-- prefix names the nested table as the runtime does ("user." for the user trait).
local function check_keys(where, t, allowed, prefix)
  if type(t) ~= "table" then fail("%s: expected a table, got %s", where, type(t)) end
  for k in pairs(t) do
    if not allowed[k] then fail("%s: unknown field '%s%s'", where, prefix or "", tostring(k)) end
  end
end

local function set(list)
  local s = {}
  for _, v in ipairs(list) do s[v] = true end
  return s
end

local function need_string(where, v, name)
  if type(v) ~= "string" or v == "" then
    fail("%s: field %s must be a non-empty string, got %s", where, name, dump(v))
  end
end

local function opt_string(where, v, name)
  if v ~= nil and type(v) ~= "string" then
    fail("%s: field %s must be a string, got %s", where, name, type(v))
  end
end

local function opt_enum(where, v, name, values)
  if v ~= nil and not values[v] then fail("%s: field %s has bad value %s", where, name, dump(v)) end
end

local function opt_bool(where, v, name)
  if v ~= nil and type(v) ~= "boolean" then fail("%s: field %s must be a boolean", where, name) end
end

local function check_struct(where, v, depth)
  if v == nil then return end
  if type(v) ~= "table" then fail("%s: profile must be a table", where) end
  for k, x in pairs(v) do
    local t = type(x)
    if type(k) ~= "string" and math.type(k) ~= "integer" then
      fail("%s: profile key %s is not a string", where, tostring(k))
    end
    if t == "table" then
      if depth > 8 then fail("%s: profile nested too deep", where) end
      check_struct(where, x, depth + 1)
    elseif t ~= "string" and t ~= "number" and t ~= "boolean" then
      fail("%s: profile value %s has type %s", where, tostring(k), t)
    end
  end
end

local function check_list(where, v, name, values)
  if v == nil then return end
  if type(v) ~= "table" then fail("%s: field %s must be a list", where, name) end
  for _, x in ipairs(v) do
    if values then opt_enum(where, x, name, values) else need_string(where, x, name) end
  end
end

local TRAITS = set{ "user", "group", "role", "app" }
local STATUS = set{ "enabled", "disabled", "deleted" }
local ACCOUNT = set{ "human", "service", "system" }
local PURPOSE = set{ "assignment", "permission", "ownership" }

local RESOURCE_TYPE_KEYS = set{ "id", "display_name", "traits", "description",
  "skip_entitlements_and_grants" }
local RESOURCE_KEYS = set{ "type", "id", "display_name", "description", "parent", "profile",
  "status", "status_details", "created_at", "user", "group", "role", "external_link" }
local USER_KEYS = set{ "emails", "login", "login_aliases", "status", "status_details",
  "account_type", "profile", "created_at", "given_name", "family_name" }
local GROUP_KEYS = set{ "profile", "source_type", "raw_source_type" }
local ROLE_KEYS = set{ "profile" }
local REF_KEYS = set{ "type", "id" }
local EMAIL_KEYS = set{ "address", "primary" }
local ENTITLEMENT_KEYS = set{ "resource", "slug", "display_name", "description", "purpose",
  "grantable_to", "immutable" }
local GRANT_KEYS = set{ "resource", "slug", "principal", "immutable", "expandable" }
local EXPANDABLE_KEYS = set{ "entitlement_ids", "shallow" }
local CONFIGURE_KEYS = set{ "url", "auth_header", "auth_config", "reads_per_minute",
  "writes_per_minute", "user_agent_suffix", "redirect_host_suffix", "rate_limit_errors" }
local PAGINATE_KEYS = set{ "query", "variables", "path", "cursor_var", "on_page", "id_field",
  "ids_optional", "max_nodes", "previous_page", "progress", "check" }

local function check_ref(where, ref, name)
  check_keys(where .. " " .. name, ref, REF_KEYS)
  need_string(where, ref.type, name .. ".type")
  need_string(where, ref.id, name .. ".id")
end

local function check_user_trait(u)
  local w = "emit.resource user"
  check_keys(w, u, USER_KEYS, "user.")
  if u.emails ~= nil then
    if type(u.emails) ~= "table" then fail("%s: emails must be a list", w) end
    for _, e in ipairs(u.emails) do
      check_keys(w .. " email", e, EMAIL_KEYS)
      need_string(w, e.address, "emails.address")
      opt_bool(w, e.primary, "emails.primary")
    end
  end
  opt_string(w, u.login, "login")
  check_list(w, u.login_aliases, "login_aliases")
  opt_enum(w, u.status, "status", STATUS)
  opt_string(w, u.status_details, "status_details")
  opt_enum(w, u.account_type, "account_type", ACCOUNT)
  check_struct(w, u.profile, 0)
  opt_string(w, u.created_at, "created_at")
  opt_string(w, u.given_name, "given_name")
  opt_string(w, u.family_name, "family_name")
end

local function check_group_trait(g)
  check_keys("emit.resource group", g, GROUP_KEYS, "group.")
  check_struct("emit.resource group", g.profile, 0)
  opt_string("emit.resource group", g.source_type, "source_type")
  opt_string("emit.resource group", g.raw_source_type, "raw_source_type")
end

local function check_role_trait(r)
  check_keys("emit.resource role", r, ROLE_KEYS, "role.")
  check_struct("emit.resource role", r.profile, 0)
end

-- Install / uninstall ------------------------------------------------------

local saved      -- { modules = {name = value}, scripts = {name = value} }
local current    -- the installed rt

local function is_script_module(name)
  for _, p in ipairs(SCRIPT_PATTERNS) do
    if name:match(p) then return true end
  end
  return false
end

local function unload_scripts()
  local out = {}
  for name, value in pairs(package.loaded) do
    if type(name) == "string" and is_script_module(name) then out[name] = value end
  end
  for name in pairs(out) do package.loaded[name] = nil end
  return out
end

local RT = {}
RT.__index = RT

-- Adds a recorded exchange: { query = doc, variables = {...}, data = ...,
-- errors = {...} } or { query, variables, fail = { kind, message, status } }.
-- Each exchange answers one request.
function RT:answer(ex)
  assert(type(ex.query) == "string", "answer: query document required")
  self.exchanges[#self.exchanges + 1] = {
    query = ex.query, variables = copy(ex.variables or {}),
    response = ex.fail == nil and { data = copy(ex.data), errors = copy(ex.errors) } or nil,
    fail = copy(ex.fail),
  }
  return self
end

-- Exchanges never used (a spec's recorded tenant should be read entirely).
function RT:unused()
  local out = {}
  for _, ex in ipairs(self.exchanges) do
    if not ex.used then out[#out + 1] = M.operation(ex.query) .. " " .. dump(ex.variables) end
  end
  return out
end

-- Requests whose document is doc (all requests when doc is nil).
function RT:requests_of(doc)
  local out = {}
  for _, r in ipairs(self.requests) do
    if doc == nil or r.query == doc then out[#out + 1] = r end
  end
  return out
end

function RT:writes()
  local out = {}
  for _, r in ipairs(self.requests) do if r.write then out[#out + 1] = r end end
  return out
end

-- Log lines at level (all levels when nil) whose text contains plain.
function RT:logged(level, plain)
  local out = {}
  for _, l in ipairs(self.logs) do
    if (level == nil or l.level == level) and (plain == nil or l.msg:find(plain, 1, true)) then
      out[#out + 1] = l.msg
    end
  end
  return out
end

function RT:resource(rtype, id) return self.index.resources[rtype .. "\0" .. id] end

-- The first reference the runtime's commit would refuse, or nil: a grant's
-- entitlement or principal (not in a partial sync: its principals live in
-- the full sync), a resource's type or parent never emitted.
function RT:dangling(partial)
  local idx = self.index
  for _, r in ipairs(self.rows.resources) do
    local row = r.type .. ":" .. r.id
    if not idx.resource_types[r.type] then
      return string.format("resource %s: resource type %s was never emitted", row, r.type)
    end
    if r.parent and not idx.resources[r.parent.type .. "\0" .. r.parent.id] then
      return string.format("resource %s: parent %s:%s was never emitted", row, r.parent.type, r.parent.id)
    end
  end
  for _, g in ipairs(self.rows.grants) do
    if not idx.entitlements[g.entitlement_id] then
      return string.format("grant %s: entitlement %s was never emitted", g.id, g.entitlement_id)
    end
    if not partial and not idx.resources[g.principal.type .. "\0" .. g.principal.id] then
      return string.format("grant %s: principal %s:%s was never emitted", g.id, g.principal.type,
        g.principal.id)
    end
  end
  return nil
end
function RT:entitlement(id) return self.index.entitlements[id] end
function RT:grant(id) return self.index.grants[id] end

local function respond(rt, query, variables)
  for _, ex in ipairs(rt.exchanges) do
    if not ex.used and ex.query == query and equal(ex.variables, variables) then
      ex.used = true
      return ex
    end
  end
  if rt.handler then
    -- handler(query, variables) -> { data =, errors = } | { fail = {...} } | nil
    local r = rt.handler(query, copy(variables))
    if r then
      if r.fail then return { fail = r.fail } end
      return { response = { data = r.data, errors = r.errors } }
    end
  end
  error("fake bt.graphql: no recorded answer for " .. M.operation(query) .. " "
    .. dump(variables) .. M.near_misses(rt, query, variables), 0)
end

-- The words of a document (field names, arguments), for a diff.
local function words(doc)
  local out = {}
  for w in doc:gsub("#[^\n]*", ""):gmatch("[_%a][_%w]*") do out[w] = true end
  return out
end

local function missing_from(a, b)
  local out = {}
  for w in pairs(a) do if not b[w] then out[#out + 1] = w end end
  table.sort(out)
  return out
end

-- What was recorded for the same operation, and how it differs from the
-- request: the usual cause is an answer recorded with a document read before
-- an override added to Q.FIELDS (require the scripts first, then read Q).
function M.near_misses(rt, query, variables)
  local name, lines = M.operation(query), {}
  for _, ex in ipairs(rt.exchanges) do
    if M.operation(ex.query) == name then
      local why = {}
      if ex.used then why[#why + 1] = "already used" end
      if ex.query ~= query then
        local want, got = words(query), words(ex.query)
        local extra, lacking = missing_from(want, got), missing_from(got, want)
        local d = {}
        if #extra > 0 then d[#d + 1] = "the request asks for " .. table.concat(extra, ", ")
          .. " that the recorded document lacks" end
        if #lacking > 0 then d[#d + 1] = "the recorded document has " .. table.concat(lacking, ", ")
          .. " that the request lacks" end
        if #d == 0 then d[1] = "the documents differ in layout" end
        why[#why + 1] = "another document (" .. table.concat(d, "; ") .. ")"
      end
      if not equal(ex.variables, variables) then
        why[#why + 1] = "variables " .. dump(ex.variables)
      end
      lines[#lines + 1] = "\n  recorded: " .. name .. " " .. dump(ex.variables) .. ": "
        .. table.concat(why, ", ")
    end
  end
  if #lines == 0 then
    return "\n  expected: an answer recorded with rt:answer{ query = <this document>, variables = "
      .. dump(variables) .. " }; none is recorded for " .. name
  end
  local hint = ""
  for _, l in ipairs(lines) do
    if l:find("another document", 1, true) then
      hint = "\n  (a document read from twingate.queries before an override added its fields: "
        .. "require the connector first, then read Q to record answers)"
      break
    end
  end
  return table.concat(lines) .. hint
end

-- The runtime's endpoint rule (API.md "The endpoint rule"): credentials go
-- only to the operator's endpoint (api-url, else the template filled with the
-- domain's network name), under the bundled endpoint file's header and field.
local function operator_endpoint(rt, endpoint)
  local url = rt.config[endpoint.url_config]
  if url ~= nil and url ~= "" then return url end
  local name = rt.config[endpoint.name_config]
  if type(name) ~= "string" or name == "" then return nil end -- a spec that set neither
  name = name:gsub("^https://", ""):gsub("/$", ""):gsub("%.twingate%.com$", "")
  return (endpoint.template:gsub("{name}", name))
end

local function check_endpoint_rule(rt, opts)
  need_string("graphql.configure", opts.auth_header, "auth_header")
  need_string("graphql.configure", opts.auth_config, "auth_config")
  local endpoint = require "twingate.endpoint"
  if opts.auth_header:lower() ~= endpoint.auth_header:lower()
      or opts.auth_config ~= endpoint.auth_config then
    fail("graphql.configure: credentials go only as the connector's own header %s from %s",
      endpoint.auth_header, endpoint.auth_config)
  end
  local want = operator_endpoint(rt, endpoint)
  if want ~= nil and opts.url ~= want then
    fail("graphql.configure: credentials go only to the operator's endpoint %s, not to %s",
      want, opts.url)
  end
end

local function build_graphql(rt)
  local graphql = { null = require("helpers.fixtures").NULL }
  -- The runtime marks a table to encode as a JSON array even when empty.
  function graphql.array(t) return t end
  -- The runtime's keys (tests/e2e/test_parity.py compares them).
  local stats = { requests = 0, reads = 0, writes = 0, retries = 0, retries_rate_limited = 0,
    retries_server = 0, retries_transport = 0, retries_decode = 0, bytes_received = 0,
    rate_limit_wait_seconds = 0, backoff_wait_seconds = 0, pacing_wait_seconds = 0, pages = 0 }
  rt.stats = stats

  function graphql.configure(opts)
    check_keys("graphql.configure", opts, CONFIGURE_KEYS)
    need_string("graphql.configure", opts.url, "url")
    local loopback = opts.url:match("^http://127%.0%.0%.1[:/]") or opts.url:match("^http://localhost[:/]")
      or opts.url:match("^http://%[::1%][:/]")
    if not opts.url:match("^https://[^/]") and not loopback then
      fail("graphql.configure: url must be https:// (or http:// on loopback): %s", opts.url)
    end
    if opts.auth_header ~= nil or opts.auth_config ~= nil then check_endpoint_rule(rt, opts) end
    for _, k in ipairs{ "reads_per_minute", "writes_per_minute" } do
      local v = opts[k]
      if v ~= nil and (type(v) ~= "number" or v < 0) then fail("graphql.configure: bad %s", k) end
    end
    rt.configured = copy(opts)
  end

  local query

  -- graphql.query(q, vars, { root = "user" }): data.<root> must be an object
  -- or graphql.null (an explicit null: gone, handed on as nil); anything
  -- else is damage (the runtime asks again; the fake fails at once).
  function graphql.query(q, variables, opts)
    if opts == nil then return query(q, variables) end
    check_keys("graphql.query", opts, set{ "root" })
    need_string("graphql.query", opts.root, "root")
    local data, err = query(q, variables)
    if not data then return nil, err end
    local v = data[opts.root]
    if v ~= graphql.null and type(v) ~= "table" then
      return nil, M.error("decode", opts.root .. " is missing in the answer")
    end
    -- as the runtime: every explicit null among the root fields reads as nil
    for k, field in pairs(data) do
      if field == graphql.null then data[k] = nil end
    end
    return data
  end

  function query(doc, variables)
    local query = doc -- luacheck: ignore 431
    if type(query) ~= "string" then fail("graphql.query: query must be a string") end
    if variables ~= nil and type(variables) ~= "table" then
      fail("graphql.query: variables must be a table")
    end
    if not rt.configured then fail("graphql.query: call graphql.configure first") end
    local write = is_mutation(query)
    if write and rt.phase ~= "provision" then
      fail("graphql.query: mutation %s outside the provisioning phase", M.operation(query))
    end
    local vars = copy(variables or {})
    rt.requests[#rt.requests + 1] = { query = query, variables = vars, write = write,
      name = M.operation(query) }
    stats.requests = stats.requests + 1
    if write then stats.writes = stats.writes + 1 else stats.reads = stats.reads + 1 end
    local ex = respond(rt, query, vars)
    -- Like the runtime, a mutation's error says whether it may have been
    -- applied (the answer lost); a query's error does not.
    local function lost(v) if write then return v == true end end
    if ex.fail then
      return nil, M.error(ex.fail.kind, ex.fail.message, ex.fail.status,
        { maybe_applied = lost(ex.fail.maybe_applied) })
    end
    local resp = copy(ex.response)
    if type(resp.errors) == "table" and next(resp.errors) ~= nil then
      local msgs = {}
      for _, e in ipairs(resp.errors) do msgs[#msgs + 1] = tostring(e.message) end
      local name = M.operation(query)
      local prefix = name ~= "(anonymous)" and name .. ": " or ""
      return nil, M.error("graphql", prefix .. table.concat(msgs, "; "), nil,
        { errors = resp.errors, data = resp.data, maybe_applied = lost(false) })
    end
    if resp.data == nil then
      return nil, M.error("decode", "response has no data", nil, { maybe_applied = lost(true) })
    end
    return resp.data
  end

  local NULL = graphql.null

  -- The runtime's page check (src/prim/graphql_page_check.c): nil, why or items.
  local function shape(conn, id_field, optional)
    if type(conn) ~= "table" then return nil, "the connection is not an object" end
    local info = conn.pageInfo
    if type(info) ~= "table" then return nil, "pageInfo is missing or not an object" end
    if type(info.hasNextPage) ~= "boolean" then
      return nil, "pageInfo.hasNextPage is missing or not a boolean"
    end
    local cursor = info.endCursor
    if cursor ~= nil and type(cursor) ~= "string" then return nil, "pageInfo.endCursor is not a string" end
    if info.hasNextPage and (cursor == nil or cursor == "") then
      return nil, "hasNextPage is true but endCursor is null or empty"
    end
    local name = conn.edges ~= nil and "edges" or "nodes"
    local list = conn[name]
    if list == nil then return nil, "edges is null or missing" end
    if type(list) ~= "table" then return nil, name .. " is not a list" end
    local n = 0
    for k in pairs(list) do
      if math.type(k) ~= "integer" or k < 1 or k > #list then return nil, name .. " is not a list" end
      n = n + 1
    end
    for i = 1, n do
      local entry = list[i]
      if type(entry) ~= "table" or entry == NULL then
        return nil, string.format("%s[%d] is null or not an object", name, i - 1)
      end
      local node = entry
      if name == "edges" then
        node = entry.node
        if type(node) ~= "table" or node == NULL then
          return nil, string.format("edges[%d].node is null or not an object", i - 1)
        end
      end
      local id = id_field and node[id_field]
      if id_field and not ((type(id) == "string" and id ~= "") or math.type(id) == "integer"
          or (optional and (id == nil or id == NULL))) then
        return nil, string.format("%s[%d]%s has no %s", name, i - 1, name == "edges" and ".node" or "",
          id_field)
      end
    end
    return n
  end

  -- id_field (nil: none) and ids_optional, as src/prim/graphql.c takes them.
  local function id_field_of(where, opts)
    local f, optional = opts and opts.id_field, opts and opts.ids_optional
    if optional ~= nil and type(optional) ~= "boolean" then
      fail("%s: field ids_optional must be a boolean", where)
    end
    if f == nil then f = "id" end
    if f == false then
      if optional then fail("%s: ids_optional needs an id_field", where) end
      return nil, false
    end
    if type(f) ~= "string" or f == "" then
      fail("%s: field id_field must be a non-empty string or false", where)
    end
    return f, optional == true
  end

  function graphql.check_page(conn, opts)
    if opts ~= nil then check_keys("graphql.check_page", opts, set{ "id_field", "ids_optional" }) end
    local n, why = shape(conn, id_field_of("graphql.check_page", opts))
    if n == nil then return nil, M.error("decode", why) end
    return n
  end

  -- Whether a page brought an id the previous page did not have.
  local function fresh_ids(conn, id_field, prev)
    local list, now, fresh = conn.edges or conn.nodes, {}, false
    for _, entry in ipairs(list) do
      local node = conn.edges and entry.node or entry
      local id = id_field and node[id_field] or true
      if id == NULL or not prev[id] then fresh = true end
      if id ~= NULL then now[id] = true end
    end
    if not id_field then fresh = #list > 0 end
    return fresh, now
  end

  function graphql.paginate(opts)
    check_keys("graphql.paginate", opts, PAGINATE_KEYS)
    need_string("graphql.paginate", opts.query, "query")
    need_string("graphql.paginate", opts.path, "path")
    if opts.variables ~= nil and type(opts.variables) ~= "table" then
      fail("graphql.paginate: variables must be a table")
    end
    if opts.on_page ~= nil and type(opts.on_page) ~= "function" then
      fail("graphql.paginate: on_page must be a function")
    end
    opt_string("graphql.paginate", opts.cursor_var, "cursor_var")
    local id_field, optional = id_field_of("graphql.paginate", opts)
    local max_nodes = opts.max_nodes or 10000000
    if math.type(max_nodes) ~= "integer" or max_nodes < 1 then
      fail("graphql.paginate: field max_nodes must be a positive integer")
    end
    if opts.previous_page ~= nil then
      check_keys("graphql.paginate previous_page", opts.previous_page, set{ "offset", "anchor" })
    end
    local vars = copy(opts.variables or {})
    local cursor_var = opts.cursor_var or "after"
    local size = math.type(vars.first) == "integer" and vars.first > 0 and vars.first or 1
    -- as the runtime: with ids, one node of overlap a page and 32 walk-backs
    local max_pages = (max_nodes + size - 1) // size
    if id_field then
      max_pages = max_nodes <= size and 1 or size < 2 and max_nodes
        or 1 + (max_nodes - 2) // (size - 1)
      max_pages = max_pages + 32
    end
    local seen, pages, items, stale, prev = {}, 0, 0, 0, {}
    local anchor = opts.previous_page and opts.previous_page.anchor
    if vars[cursor_var] ~= nil then seen[vars[cursor_var]] = true end
    while true do
      local data, err = graphql.query(opts.query, vars)
      if not data then return nil, err end
      -- as the runtime: only an explicit null root field is "gone"; anything
      -- else that is not an object is damage (the fake does not ask again)
      local conn, root = data, true
      for part in opts.path:gmatch("[^.]+") do
        local v = type(conn) == "table" and conn[part] or nil
        if root and v == graphql.null then
          return nil, M.error("not_found", part .. " is null (it no longer exists)")
        end
        conn, root = v, false
      end
      if type(conn) ~= "table" or conn == graphql.null then
        return nil, M.error("decode", opts.path .. ": the page breaks the connection's shape: "
          .. opts.path .. " is missing from the answer")
      end
      local n, why = shape(conn, id_field, optional)
      if n == nil then
        return nil, M.error("decode", opts.path .. ": the page breaks the connection's shape: " .. why)
      end
      if opts.check then
        local ok
        ok, why = opts.check(conn)
        if not ok then
          return nil, M.error("decode", opts.path .. ": a node on the page is damaged: " .. tostring(why))
        end
      end
      -- a continuation of a nested first page (lib.page.rest) starts on the
      -- anchor, handed on before: the runtime drops it (paginate.c); this
      -- fake follows endCursor and has no overlap of its own
      if anchor ~= nil and conn.edges and conn.edges[1]
          and id_field and conn.edges[1].node[id_field] == anchor then
        table.remove(conn.edges, 1)
        n = n - 1
      end
      pages, items = pages + 1, items + n
      stats.pages = stats.pages + 1
      local fresh
      fresh, prev = fresh_ids(conn, id_field, prev)
      if opts.on_page and opts.on_page(conn, data) == false then return pages end
      if not conn.pageInfo.hasNextPage then return pages end
      stale = fresh and 0 or stale + 1
      if stale >= 3 or pages >= max_pages or items > max_nodes then
        return nil, M.error("pagination", opts.path .. ": the walk does not end; stopping")
      end
      -- one node of overlap, as the runtime does: the next page starts
      -- after the second-to-last edge's cursor and its first node (the
      -- anchor) is not handed on again; a static fake never shifts
      local cursor = conn.pageInfo.endCursor
      local edges = conn.edges
      local last = edges and edges[#edges] and edges[#edges].node
      if id_field and edges and #edges >= 2 and type(edges[#edges - 1].cursor) == "string"
          and last[id_field] ~= nil and last[id_field] ~= NULL then
        cursor = edges[#edges - 1].cursor
        anchor = edges[#edges].node[id_field]
      else
        anchor = nil
      end
      if seen[cursor] then
        return nil, M.error("pagination", "repeated cursor at " .. opts.path)
      end
      seen[cursor] = true
      vars[cursor_var] = cursor
    end
  end

  function graphql.stats() return copy(stats) end

  return graphql
end

local function build_emit(rt)
  local emit = {}
  local rows, index = rt.rows, rt.index

  local function phase(fn)
    if rt.phase ~= "sync" then fail("bt.emit.%s: not in the sync phase (%s)", fn, rt.phase) end
  end

  local function add(kind, key, row)
    if index[kind][key] then
      rt.duplicates = rt.duplicates + 1
      return
    end
    index[kind][key] = row
    rows[kind][#rows[kind] + 1] = row
    rt.sequence[#rt.sequence + 1] = kind
  end

  local function need_resource(where, ref)
    check_ref(where, ref, "resource")
    if not index.resources[ref.type .. "\0" .. ref.id] then
      fail("%s: resource %s:%s was not emitted first", where, ref.type, ref.id)
    end
  end

  function emit.resource_type(t)
    phase("resource_type")
    local w = "emit.resource_type"
    check_keys(w, t, RESOURCE_TYPE_KEYS)
    need_string(w, t.id, "id")
    need_string(w, t.display_name, "display_name")
    check_list(w, t.traits, "traits", TRAITS)
    opt_string(w, t.description, "description")
    opt_bool(w, t.skip_entitlements_and_grants, "skip_entitlements_and_grants")
    add("resource_types", t.id, copy(t))
  end

  function emit.resource(r)
    phase("resource")
    local w = "emit.resource"
    check_keys(w, r, RESOURCE_KEYS)
    need_string(w, r.type, "type")
    need_string(w, r.id, "id")
    need_string(w, r.display_name, "display_name")
    -- As in the runtime, the type may come later (it must exist when the sync
    -- ends); the trait tables it asks for are checked when it is known.
    local rtype = index.resource_types[r.type] or {}
    for _, trait in ipairs(rtype.traits or {}) do
      if trait ~= "app" and r[trait] == nil then
        fail("%s: %s %s lacks its %s trait", w, r.type, r.id, trait)
      end
    end
    if r.parent ~= nil then check_ref(w, r.parent, "parent") end
    check_struct(w, r.profile, 0)
    opt_enum(w, r.status, "status", STATUS)
    opt_string(w, r.status_details, "status_details")
    opt_string(w, r.created_at, "created_at")
    opt_string(w, r.description, "description")
    opt_string(w, r.external_link, "external_link")
    if r.user ~= nil then check_user_trait(r.user) end
    if r.group ~= nil then check_group_trait(r.group) end
    if r.role ~= nil then check_role_trait(r.role) end
    add("resources", r.type .. "\0" .. r.id, copy(r))
  end

  function emit.entitlement(e)
    phase("entitlement")
    local w = "emit.entitlement"
    check_keys(w, e, ENTITLEMENT_KEYS)
    need_resource(w, e.resource)
    need_string(w, e.slug, "slug")
    opt_string(w, e.display_name, "display_name")
    opt_string(w, e.description, "description")
    opt_enum(w, e.purpose, "purpose", PURPOSE)
    check_list(w, e.grantable_to, "grantable_to")
    for _, t in ipairs(e.grantable_to or {}) do
      -- as the runtime: the sink embeds the stored resource type
      if not index.resource_types[t] then
        fail("%s: grantable_to type %s was never emitted", w, t)
      end
    end
    opt_bool(w, e.immutable, "immutable")
    local row = copy(e)
    row.id = e.resource.type .. ":" .. e.resource.id .. ":" .. e.slug
    add("entitlements", row.id, row)
  end

  function emit.grant(g)
    phase("grant")
    local w = "emit.grant"
    check_keys(w, g, GRANT_KEYS)
    need_resource(w, g.resource)
    need_string(w, g.slug, "slug")
    check_ref(w, g.principal, "principal")
    opt_bool(w, g.immutable, "immutable")
    if g.expandable ~= nil then
      check_keys(w .. " expandable", g.expandable, EXPANDABLE_KEYS)
      check_list(w, g.expandable.entitlement_ids, "expandable.entitlement_ids")
      opt_bool(w, g.expandable.shallow, "expandable.shallow")
    end
    local row = copy(g)
    row.entitlement_id = g.resource.type .. ":" .. g.resource.id .. ":" .. g.slug
    row.id = row.entitlement_id .. ":" .. g.principal.type .. ":" .. g.principal.id
    add("grants", row.id, row)
  end

  -- emit.grants: one resource and principals = { type =, ids = }, or
  -- resources = { type =, ids = } and one principal; each row as emit.grant's.
  function emit.grants(b)
    phase("grant")
    local w = "emit.grants"
    check_keys(w, b, { resource = true, resources = true, slug = true, principal = true,
      principals = true, immutable = true })
    local list = b.principals or b.resources
    if (b.principals == nil) == (b.resources == nil) or (b.principals and not b.resource)
      or (b.resources and not b.principal) then
      fail("%s: give resource and principals, or resources and principal", w)
    end
    need_string(w, list.type, "type")
    check_list(w, list.ids, "ids")
    for _, id in ipairs(list.ids) do
      local one = { type = list.type, id = id }
      emit.grant{ resource = b.resource or one, slug = b.slug, principal = b.principal or one,
        immutable = b.immutable }
    end
    return #list.ids
  end

  function emit.counts()
    return { resource_types = #rows.resource_types, resources = #rows.resources,
      entitlements = #rows.entitlements, grants = #rows.grants, duplicates = rt.duplicates,
      skipped = copy(rt.skipped), filtered = copy(rt.filtered) }
  end

  -- As the runtime: counted once per id under its type.
  function emit.filter(rtype, id)
    phase("filter")
    need_string("emit.filter", rtype, "type")
    need_string("emit.filter", id, "id")
    local key = rtype .. "\0" .. id
    if rt.filtered_ids[key] then return false end
    rt.filtered_ids[key] = true
    rt.filtered[rtype] = (rt.filtered[rtype] or 0) + 1
    return true
  end

  function emit.is_filtered(rtype, id)
    phase("is_filtered")
    if type(rtype) ~= "string" or type(id) ~= "string" then
      fail("emit.is_filtered: type and id must be strings")
    end
    return rt.filtered_ids[rtype .. "\0" .. id] == true
  end

  function emit.has_resource(rtype, id)
    phase("has_resource")
    if type(rtype) ~= "string" or type(id) ~= "string" then
      fail("emit.has_resource: type and id must be strings")
    end
    return index.resources[rtype .. "\0" .. id] ~= nil
  end

  function emit.skip(cause, message)
    phase("skip")
    if type(cause) ~= "string" or not cause:match("^[a-z0-9_]+$") or #cause > 47 then
      fail("emit.skip: cause must be 1-47 characters of a-z, 0-9 and _")
    end
    rt.skipped[cause] = (rt.skipped[cause] or 0) + 1
    if message ~= nil then
      rt.logs[#rt.logs + 1] = { level = "warn", msg = tostring(message) .. " (skipped: " .. cause .. ")" }
    end
    return rt.skipped[cause]
  end

  return emit
end

local function build_log(rt)
  local log = {}
  for _, level in ipairs{ "debug", "info", "warn", "error" } do
    log[level] = function(msg)
      rt.logs[#rt.logs + 1] = { level = level, msg = tostring(msg) }
    end
  end
  return log
end

local function build_config(rt)
  local config = {}
  local function phase(fn)
    if rt.phase ~= "sync" and rt.phase ~= "provision" then
      fail("bt.config.%s: not in the sync or provisioning phase (%s)", fn, rt.phase)
    end
  end
  function config.get(name)
    if type(name) ~= "string" then fail("config.get: name must be a string") end
    phase("get")
    if rt.secrets[name] then
      fail("bt.config.get: '%s' is a secret: scripts never read it, the runtime sends it", name)
    end
    local v = rt.config[name]
    if v == nil or v == "" then return nil end
    return v
  end
  function config.is_set(name)
    if type(name) ~= "string" then fail("config.is_set: name must be a string") end
    phase("is_set")
    return rt.config[name] ~= nil and rt.config[name] ~= ""
  end
  return config
end

local function build_clock(rt)
  local clock = {}
  function clock.now() return rt.now end
  function clock.monotonic()
    rt.ticks = rt.ticks + 0.001
    return rt.ticks
  end
  return clock
end

-- Installs the fake modules and unloads cached scripts so they bind to them.
-- opts: config (name -> value), secrets (list, default {"api-key"}),
-- phase ("sync" | "provision" | "load"; default "sync").
function M.install(opts)
  opts = opts or {}
  if current then M.uninstall() end
  local rt = setmetatable({
    config = copy(opts.config or {}), secrets = set(opts.secrets or { "api-key" }),
    phase = opts.phase or "sync", exchanges = {}, handler = nil, requests = {}, logs = {},
    configured = nil, duplicates = 0, skipped = {}, filtered = {},
    filtered_ids = {}, now = 1767225600.0, ticks = 0, sequence = {},
    rows = { resource_types = {}, resources = {}, entitlements = {}, grants = {} },
    index = { resource_types = {}, resources = {}, entitlements = {}, grants = {} },
  }, RT)
  local modules = {
    ["bt.graphql"] = build_graphql(rt), ["bt.emit"] = build_emit(rt),
    ["bt.log"] = build_log(rt), ["bt.config"] = build_config(rt),
    ["bt.clock"] = build_clock(rt),
  }
  saved = { modules = {}, scripts = unload_scripts() }
  for name, module in pairs(modules) do
    saved.modules[name] = package.loaded[name]
    package.loaded[name] = module
  end
  rt.modules = modules
  current = rt
  return rt
end

-- Restores package.loaded as it was before install.
function M.uninstall()
  if not saved then return end
  unload_scripts()
  for name in pairs(M.API_NAMES) do package.loaded[name] = saved.modules[name] end
  for name, value in pairs(saved.scripts) do package.loaded[name] = value end
  saved, current = nil, nil
end

function M.current() return current end

return M
