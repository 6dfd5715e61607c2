-- Where the Twingate GraphQL API lives for this tenant and how it is paced:
-- --api-url wins, else https://<domain>/api/graphql/ (acme -> acme.twingate.com).
-- Extend it from --scripts-dir (API.md).
local graphql = require "bt.graphql"
local config = require "bt.config"
local text = require "lib.text"

local M = {}

M.PACING = { reads_per_minute = 60, writes_per_minute = 20 }  -- Twingate's limits

-- A GraphQL error at HTTP 200 whose message holds one of these is a rate
-- limit, retried like a 429 by the runtime (twingate-api.md section 9a: the
-- shape is not confirmed, so both phrasings).
M.RATE_LIMIT_ERRORS = { "rate limit", "too many requests" }

-- Twingate's own shard redirects stay under this suffix, so the key may follow
-- them; any other host is refused by the runtime (with --api-url: only the
-- configured host).
M.REDIRECT_HOST_SUFFIX = ".twingate.com"

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
  return nil, string.format("domain %s is not accepted: %s", shown(domain), DOMAIN_FORMS)
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
    return nil, "no endpoint: set domain (e.g. acme or acme.twingate.com) or api-url"
  end
  local name, err = M.network_name(d)
  if not name then return nil, err end
  return "https://" .. name .. ".twingate.com/api/graphql/", M.REDIRECT_HOST_SUFFIX
end

-- Points bt.graphql at the tenant; the API key stays in the runtime.
function M.configure()
  local url, suffix = M.endpoint(config.get("domain"), config.get("api-url"))
  if not url then return nil, suffix end
  graphql.configure{
    url = url, auth_header = "X-API-KEY", auth_config = "api-key",
    redirect_host_suffix = suffix,
    reads_per_minute = M.PACING.reads_per_minute,
    writes_per_minute = M.PACING.writes_per_minute,
    rate_limit_errors = M.RATE_LIMIT_ERRORS,
  }
  M.url = url
  return url
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
