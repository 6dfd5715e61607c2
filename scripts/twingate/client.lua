-- Where the Twingate GraphQL API lives for this tenant and how it is paced:
-- --api-url wins, else https://<domain>/api/graphql/ (acme -> acme.twingate.com).
-- Extend it from --scripts-dir (API.md).
local graphql = require "bt.graphql"
local config = require "bt.config"
local text = require "lib.text"
local failure = require "lib.failure"
-- The template, header and redirect suffix the runtime binds the key to; it
-- reads twingate/endpoint.lua from the bundled scripts itself, so changing
-- them here (or overriding that file) only gets configure refused.
local ENDPOINT = require "twingate.endpoint"

local M = {}

M.PACING = { reads_per_minute = 60, writes_per_minute = 20 }  -- Twingate's limits

-- A GraphQL error at HTTP 200 whose message holds one of these is a rate
-- limit, retried like a 429 by the runtime (twingate-api.md section 9a: the
-- shape is not confirmed, so both phrasings).
M.RATE_LIMIT_ERRORS = { "rate limit", "too many requests" }

-- Twingate's own shard redirects stay under this suffix, so the key may follow
-- them; any other host is refused by the runtime (with --api-url: only the
-- configured host).
M.REDIRECT_HOST_SUFFIX = ENDPOINT.redirect_host_suffix

local DOMAIN_FORMS = "use the network name (acme), acme.twingate.com or " ..
  "https://acme.twingate.com; to reach another endpoint give --api-url"

-- A lower-case DNS label: letters, digits and inner hyphens, 1 to 63 bytes.
local function is_label(s)
  return #s <= 63 and (s:match("^[a-z0-9]$") or s:match("^[a-z0-9][a-z0-9-]*[a-z0-9]$")) ~= nil
end

-- The value as it may appear inside one error line: printable ASCII only.
local function shown(s)
  if #s > 80 or s:find("[^\32-\126]") then return "(the value given)" end
  return string.format("%q", s)
end

-- The network name (a lower-case DNS label) from one of the accepted forms:
-- "acme", "acme.twingate.com", "https://acme.twingate.com" with an optional
-- trailing "/". Nothing else: every character of the value is accounted for,
-- so a value like "evil.com#.twingate.com" can never become a host.
function M.network_name(domain)
  local d = domain:lower()
  local host = d:match("^https://([^/]*)/?$") or d
  local name = host:match("^(.-)%.twingate%.com$") or host
  if is_label(name) then return name end
  return nil, failure.new("input",
    string.format("domain %s is not accepted: %s", shown(domain), DOMAIN_FORMS))
end

-- The endpoint URL from the domain and api-url settings, or nil, message.
-- "acme", "acme.twingate.com", "https://acme.twingate.com/" all give
-- "https://acme.twingate.com/api/graphql/" (Twingate wants the trailing slash).
-- The second value is the redirect host suffix (nil for --api-url).
function M.endpoint(domain, api_url)
  local url = text.nonblank(api_url)
  if url then return url end
  local d = text.nonblank(domain)
  if not d then
    return nil, failure.new("input",
      "no endpoint: set domain (e.g. acme or acme.twingate.com) or api-url")
  end
  local name, err = M.network_name(d)
  if not name then return nil, err end
  return (ENDPOINT.template:gsub("{name}", name)), M.REDIRECT_HOST_SUFFIX
end

-- Points bt.graphql at the tenant; the API key stays in the runtime.
function M.configure()
  local url, suffix = M.endpoint(config.get("domain"), config.get("api-url"))
  if not url then return nil, suffix end
  graphql.configure{
    url = url, auth_header = ENDPOINT.auth_header, auth_config = ENDPOINT.auth_config,
    redirect_host_suffix = suffix,
    reads_per_minute = M.PACING.reads_per_minute,
    writes_per_minute = M.PACING.writes_per_minute,
    rate_limit_errors = M.RATE_LIMIT_ERRORS,
  }
  M.url = url
  return url
end

-- How Twingate refuses a change that the API key may not make, in one place.
-- Known answers:
--  * "You do not have permission to perform this action": graphene-django's
--    PermissionDenied default, a GraphQL error at HTTP 200; what a key made
--    with "Read only" permission gets for every mutation (issue 23);
--  * "permission denied", "not authorized", "unauthorized", "forbidden": the
--    generic refusals these scripts matched before (Django's and DRF's
--    wording), kept in case Twingate words a refusal that way;
--  * HTTP 403 from the endpoint (the runtime's kind "auth", status 403).
-- An HTTP 401 is not one: it means the key itself is not accepted.
M.PERMISSION_TEXTS = {
  "you do not have permission", "permission denied", "not authorized", "unauthorized",
  "forbidden",
}

local function says_permission(msg)
  if type(msg) ~= "string" then return false end
  local low = msg:lower()
  for _, t in ipairs(M.PERMISSION_TEXTS) do
    if low:find(t, 1, true) then return true end
  end
  return false
end

-- True when err (a failed mutation's error, or the error text of its
-- {ok = false} payload) is Twingate refusing the change for lack of permission.
function M.permission_refused(err)
  if type(err) == "string" then return says_permission(err) end
  if type(err) ~= "table" then return false end
  if err.kind == "auth" and err.status == 403 then return true end
  if err.kind ~= "graphql" or type(err.errors) ~= "table" then return false end
  for _, e in ipairs(err.errors) do
    if type(e) == "table" and says_permission(e.message) then return true end
  end
  return false
end

-- The line a refused change reports (verb: "grant", "revoke", "role change",
-- "account creation", "account deletion").
function M.read_only_refusal(verb)
  return verb .. " refused: the Twingate API key is read-only; provisioning needs a key with "
    .. "Read & Write permission (Twingate: Settings → API → Generate Token)"
end

-- The tenant's admin console, https://<network>.twingate.com, for service
-- mode's Hello (the Go connector links its configured domain); nil when only
-- --api-url is set or the domain is not accepted.
function M.external_link()
  local d = text.nonblank(config.get("domain"))
  local name = d and M.network_name(d)
  if not name then return nil end
  return "https://" .. name .. ".twingate.com"
end

-- err, its message saying what an HTTP 404 from the endpoint means: no
-- Twingate network at that domain (not "no such user"). Other errors as they are.
function M.explain(err)
  if type(err) == "table" and err.kind == "endpoint" and M.url then
    local host = M.url:match("^https?://([^/]+)") or M.url
    err.message = string.format("no Twingate network at %s (the API answered HTTP 404; "
      .. "check --domain or --api-url)", host)
  end
  return err
end

-- Service mode's /health check: one small authenticated read proves that the
-- key and the endpoint work. true, or nil, err.
function M.validate()
  local ok, err = M.configure()
  if not ok then return nil, err end
  local data
  data, err = graphql.query(require("twingate.queries").USERS, { first = 1 })
  if not data then return nil, M.explain(err) end
  return true
end

return M
