-- Endpoint derivation from domain / api-url and the graphql.configure call.
local fake = require "helpers.fake_runtime"

describe("twingate.client", function()
  after_each(fake.uninstall)

  describe("endpoint", function()
    local cases = {
      { domain = "acme", want = "https://acme.twingate.com/api/graphql/" },
      { domain = "acme.twingate.com", want = "https://acme.twingate.com/api/graphql/" },
      { domain = "https://acme.twingate.com", want = "https://acme.twingate.com/api/graphql/" },
      { domain = "https://acme.twingate.com/", want = "https://acme.twingate.com/api/graphql/" },
      { domain = " ACME.twingate.com ", want = "https://acme.twingate.com/api/graphql/" },
      { domain = "acme.us1.twingate.com", want = "https://acme.us1.twingate.com/api/graphql/" },
      { domain = "https://acme.twingate.com/api/graphql", want = "https://acme.twingate.com/api/graphql/" },
      { domain = "http://127.0.0.1:8443", want = "http://127.0.0.1:8443/api/graphql/" },
      { domain = "localhost:9000", want = "https://localhost:9000/api/graphql/" },
      { domain = "acme", api_url = "https://mock.example/graphql", want = "https://mock.example/graphql" },
      { api_url = "http://127.0.0.1:5000/api/graphql/", want = "http://127.0.0.1:5000/api/graphql/" },
      { domain = "", api_url = "  ", err = "no endpoint" },
      { err = "no endpoint" },
      { domain = "ac me", err = "not a host name" },
      { domain = "https://", err = "not a host name" },
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
      auth_config = "api-key", reads_per_minute = 60, writes_per_minute = 20 }, rt.configured)
  end)

  it("prefers api-url over domain", function()
    local rt = fake.install{ config = { domain = "acme", ["api-url"] = "http://127.0.0.1:4000/gql" } }
    assert.equal("http://127.0.0.1:4000/gql", require("twingate.client").configure())
    assert.equal("http://127.0.0.1:4000/gql", rt.configured.url)
  end)

  it("returns nil, err and configures nothing without domain or api-url", function()
    local rt = fake.install{ config = {} }
    local ok, err = require("twingate.client").configure()
    assert.is_nil(ok)
    assert.matches("no endpoint", err, 1, true)
    assert.is_nil(rt.configured)
  end)
end)
