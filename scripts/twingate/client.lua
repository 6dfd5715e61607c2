-- Where the Twingate GraphQL API lives for this tenant and how it is paced:
-- --api-url wins, else https://<domain>/api/graphql/ (acme -> acme.twingate.com).
-- Copy into --scripts-dir to point the connector elsewhere.
local graphql = require "bt.graphql"
local config = require "bt.config"
local text = require "lib.text"

local M = {}

M.PACING = { reads_per_minute = 60, writes_per_minute = 20 }  -- Twingate's limits

-- The endpoint URL from the domain and api-url settings, or nil, message.
-- "acme", "acme.twingate.com", "https://acme.twingate.com/" all give
-- "https://acme.twingate.com/api/graphql/" (Twingate wants the trailing slash).
function M.endpoint(domain, api_url)
  local url = text.nonblank(api_url)
  if url then return url end
  local d = text.nonblank(domain)
  if not d then
    return nil, "no endpoint: set domain (e.g. acme or acme.twingate.com) or api-url"
  end
  local scheme, rest = d:match("^(%a[%w+.-]*)://(.*)$")
  if not scheme then scheme, rest = "https", d end
  local host = rest:match("^[^/?#]*"):lower()
  if not host:match("^[%w][%w.-]*$") and not host:match("^[%w][%w.-]*:%d+$") then
    return nil, string.format("domain %q is not a host name", d)
  end
  if not host:find("[.:]") and host ~= "localhost" then
    host = host .. ".twingate.com"
  end
  return scheme:lower() .. "://" .. host .. "/api/graphql/"
end

-- Points bt.graphql at the tenant; the API key stays in the runtime.
function M.configure()
  local url, err = M.endpoint(config.get("domain"), config.get("api-url"))
  if not url then return nil, err end
  graphql.configure{
    url = url, auth_header = "X-API-KEY", auth_config = "api-key",
    reads_per_minute = M.PACING.reads_per_minute,
    writes_per_minute = M.PACING.writes_per_minute,
  }
  return url
end

-- Service mode's /health check: one small authenticated read proves that the
-- key and the endpoint work. true, or nil, err.
function M.validate()
  local ok, err = M.configure()
  if not ok then return nil, err end
  local data
  data, err = graphql.query(require("twingate.queries").USERS, { first = 1 })
  if not data then return nil, err end
  return true
end

return M
