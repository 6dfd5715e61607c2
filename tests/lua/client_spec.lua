-- Endpoint derivation from domain / api-url and the graphql.configure call.
local fake = require "helpers.fake_runtime"

describe("twingate.client", function()
  after_each(fake.uninstall)

  describe("endpoint", function()
    local TG = "https://acme.twingate.com/api/graphql/"
    local cases = {
      -- the three accepted forms, case-insensitive, surrounding blanks trimmed
      { domain = "acme", want = TG },
      { domain = "acme.twingate.com", want = TG },
      { domain = "https://acme.twingate.com", want = TG },
      { domain = "https://acme.twingate.com/", want = TG },
      { domain = " ACME.twingate.com ", want = TG },
      { domain = "HTTPS://Acme.TwinGate.Com/", want = TG },
      { domain = "my-net-2", want = "https://my-net-2.twingate.com/api/graphql/" },
      { domain = "a", want = "https://a.twingate.com/api/graphql/" },
      { domain = string.rep("a", 63), want = "https://" .. string.rep("a", 63) .. ".twingate.com/api/graphql/" },
      -- api-url is the explicit way elsewhere and wins over domain
      { domain = "acme", api_url = "https://mock.example/graphql", want = "https://mock.example/graphql" },
      { domain = "evil.com#.twingate.com", api_url = "https://mock.example/g", want = "https://mock.example/g" },
      { api_url = "http://127.0.0.1:5000/api/graphql/", want = "http://127.0.0.1:5000/api/graphql/" },
      { domain = "", api_url = "  ", err = "no endpoint" },
      { err = "no endpoint" },
      -- anything else is refused, never cut down to a host
      { domain = "evil.com#.twingate.com", err = "is not accepted" },
      { domain = "evil.com/.twingate.com", err = "is not accepted" },
      { domain = "evil.com?.twingate.com", err = "is not accepted" },
      { domain = "evil.com\\.twingate.com", err = "is not accepted" },
      { domain = "evil.com@acme.twingate.com", err = "is not accepted" },
      { domain = "https://evil.com/path", err = "is not accepted" },
      { domain = "https://evil.com", err = "is not accepted" },
      { domain = "evil.com", err = "is not accepted" },
      { domain = "acme.twingate.com.evil.com", err = "is not accepted" },
      { domain = "acme.twingate.com.", err = "is not accepted" },
      { domain = "acme.us1.twingate.com", err = "is not accepted" },
      { domain = "https://acme.twingate.com/api/graphql", err = "is not accepted" },
      { domain = "https://acme.twingate.com//", err = "is not accepted" },
      { domain = "https://acme.twingate.com:8443", err = "is not accepted" },
      { domain = "https://acme.twingate.com?x", err = "is not accepted" },
      { domain = "https://acme.twingate.com#x", err = "is not accepted" },
      { domain = "http://acme.twingate.com", err = "is not accepted" },
      { domain = "http://127.0.0.1:8443", err = "is not accepted" },
      { domain = "localhost:9000", err = "is not accepted" },
      { domain = "localhost", want = "https://localhost.twingate.com/api/graphql/" },
      { domain = "ac me", err = "is not accepted" },
      { domain = "https://", err = "is not accepted" },
      { domain = "-acme", err = "is not accepted" },
      { domain = "acme-", err = "is not accepted" },
      { domain = "ac_me", err = "is not accepted" },
      { domain = ".twingate.com", err = "is not accepted" },
      { domain = "twingate.com", err = "is not accepted" },
      { domain = string.rep("a", 64), err = "is not accepted" },
      { domain = "acme\0.twingate.com", err = "is not accepted" },
      { domain = "acm\195\169", err = "is not accepted" },
    }
    for _, c in ipairs(cases) do
      it(string.format("domain=%s api-url=%s", tostring(c.domain), tostring(c.api_url)), function()
        fake.install{}
        local client = require "twingate.client"
        local url, err = client.endpoint(c.domain, c.api_url)
        if c.want then
          assert.equal(c.want, url)
        else
          assert.is_nil(url)
          assert.matches(c.err, err, 1, true)
        end
      end)
    end
  end)

  it("configures bt.graphql with the derived url, the key header and Twingate's pacing", function()
    local rt = fake.install{ config = { domain = "acme", ["api-key"] = "tgk_secret" } }
    local client = require "twingate.client"
    assert.equal("https://acme.twingate.com/api/graphql/", client.configure())
    assert.same({ url = "https://acme.twingate.com/api/graphql/", auth_header = "X-API-KEY",
      auth_config = "api-key", redirect_host_suffix = ".twingate.com",
      reads_per_minute = 60, writes_per_minute = 20,
      rate_limit_errors = { "rate limit", "too many requests" } }, rt.configured)
  end)

  -- issue 17: an HTTP 404 from the endpoint is a wrong network, not a missing user
  it("explains a 404 from the endpoint as no Twingate network at the domain", function()
    fake.install{ config = { domain = "acme", ["api-key"] = "tgk_secret" } }
    local client = require "twingate.client"
    client.configure()
    local err = client.explain(fake.error("endpoint", "no API at this URL (HTTP 404)", 404))
    assert.equal("endpoint", err.kind)
    assert.equal("no Twingate network at acme.twingate.com (the API answered HTTP 404; "
      .. "check --domain or --api-url)", err.message)
    local other = fake.error("auth", "Unauthorized", 401)
    assert.equal("Unauthorized", client.explain(other).message)
  end)

  it("names the accepted forms in one line that never echoes control characters", function()
    fake.install{}
    local client = require "twingate.client"
    local _, err = client.endpoint("evil.com#.twingate.com")
    assert.equal("input", err.kind)   -- a failure about the input: shown without a script position
    err = tostring(err)
    assert.equal('domain "evil.com#.twingate.com" is not accepted: use the network name (acme), '
      .. "acme.twingate.com or https://acme.twingate.com; to reach another endpoint give --api-url",
      err)
    _, err = client.endpoint("evil\n.com\27[31m")
    err = tostring(err)
    assert.matches("domain (the value given) is not accepted", err, 1, true)
    assert.is_nil(err:find("[%c]"))
  end)

  it("refuses a bad domain before configuring anything", function()
    local rt = fake.install{ config = { domain = "https://evil.com/path", ["api-key"] = "k" } }
    local ok, err = require("twingate.client").configure()
    assert.is_nil(ok)
    assert.matches("is not accepted", tostring(err), 1, true)
    assert.is_nil(rt.configured)
  end)

  it("prefers api-url over domain", function()
    local rt = fake.install{ config = { domain = "acme", ["api-url"] = "http://127.0.0.1:4000/gql" } }
    assert.equal("http://127.0.0.1:4000/gql", require("twingate.client").configure())
    assert.equal("http://127.0.0.1:4000/gql", rt.configured.url)
    assert.is_nil(rt.configured.redirect_host_suffix) -- redirects stay on that host
  end)

  it("returns nil, err and configures nothing without domain or api-url", function()
    local rt = fake.install{ config = {} }
    local ok, err = require("twingate.client").configure()
    assert.is_nil(ok)
    assert.matches("no endpoint", err, 1, true)
    assert.is_nil(rt.configured)
  end)
end)
