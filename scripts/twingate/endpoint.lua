-- Where the API key may go. The runtime reads this file itself, from the
-- bundled scripts only (a file of the same name in --scripts-dir changes
-- nothing), before any other script runs, with no globals at all: data only.
-- The key is sent only to --api-url, else to the template with the network
-- name from --domain (acme, acme.twingate.com or https://acme.twingate.com),
-- under auth_header; graphql.configure with credentials for any other url,
-- header or config field is refused. See API.md "The endpoint rule".
return {
  url_config = "api-url",
  name_config = "domain",
  template = "https://{name}.twingate.com/api/graphql/",
  auth_header = "X-API-KEY",
  auth_config = "api-key",
  -- Twingate's shard redirects stay under this suffix (template url only).
  redirect_host_suffix = ".twingate.com",
}
