"""Start and drive the mock Twingate server from Python tests.

    from mockctl import MockServer
    with MockServer(tenant="synthetic", seed=3, users=500, groups=40) as m:
        reply = m.graphql("{ users { totalCount } }")
        assert reply.status == 200 and reply.data["users"]["totalCount"] == 500
        truth = m.truth()

Keyword options map to command-line flags (seed=3 -> --seed 3,
retry_after_date=True -> --retry-after-date, None/False -> omitted); `args`
appends raw arguments. Only the standard library is used.
"""

import json
import os
import sys
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

from server_process import PYTHON, ServerProcess  # noqa: E402  (path set above)

SERVER = os.path.join(HERE, "twingate_mock.py")


class Reply:
    """One HTTP answer: status, headers (dict, lower-case names), body bytes, json or None."""

    def __init__(self, status, headers, body):
        self.status = status
        self.headers = {k.lower(): v for k, v in headers.items()}
        self.body = body
        try:
            self.json = json.loads(body.decode("utf-8"))
        except (ValueError, UnicodeDecodeError):
            self.json = None

    @property
    def data(self):
        return self.json.get("data") if isinstance(self.json, dict) else None

    @property
    def errors(self):
        return self.json.get("errors") if isinstance(self.json, dict) else None

    def __repr__(self):
        return "Reply(%d, %r)" % (self.status, self.body[:200])


def http(method, url, body=None, headers=None, timeout=30):
    data = None
    hdrs = dict(headers or {})
    if body is not None:
        data = body if isinstance(body, bytes) else json.dumps(body).encode("utf-8")
        hdrs.setdefault("Content-Type", "application/json")
    req = urllib.request.Request(url, data=data, method=method, headers=hdrs)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return Reply(r.status, dict(r.headers), r.read())
    except urllib.error.HTTPError as e:
        return Reply(e.code, dict(e.headers), e.read())


class MockServer(ServerProcess):
    name = "mock server"

    def __init__(self, args=(), api_key="demo-key", start_timeout=30, **options):
        super().__init__(start_timeout)
        self.api_key = api_key
        self.argv = [PYTHON, SERVER, "--port", "0", "--api-key", api_key]
        for key, value in options.items():
            flag = "--" + key.replace("_", "-")
            if value is True:
                self.argv.append(flag)
            elif value is not None and value is not False:
                self.argv += [flag, str(value)]
        self.argv += list(args)
        self.port = None

    # ---- lifecycle (stop, with, log_text: ServerProcess)
    def start(self):
        d = self.launch("mock-twingate-",
                        lambda d: self.argv + ["--port-file", os.path.join(d, "port")])
        self.port = self.wait_port(os.path.join(d, "port"))
        return self

    # ---- addresses
    @property
    def base(self):
        return "http://127.0.0.1:%d" % self.port

    @property
    def url(self):
        return self.base + "/api/graphql/"

    # ---- API
    def graphql(self, query, variables=None, api_key=None, operation_name=None, headers=None):
        body = {"query": query}
        if variables is not None:
            body["variables"] = variables
        if operation_name is not None:
            body["operationName"] = operation_name
        hdrs = {"X-API-KEY": self.api_key if api_key is None else api_key}
        if api_key is False:
            del hdrs["X-API-KEY"]
        hdrs.update(headers or {})
        return http("POST", self.url, body, hdrs)

    def post_raw(self, body, headers=None, path="/api/graphql/"):
        hdrs = {"X-API-KEY": self.api_key}
        hdrs.update(headers or {})
        return http("POST", self.base + path, body, hdrs)

    # ---- control
    def truth(self):
        return http("GET", self.base + "/_mock/truth").json

    def stats(self):
        return http("GET", self.base + "/_mock/stats").json

    def reset_stats(self):
        return http("POST", self.base + "/_mock/reset-stats", {}).json

    def reset(self):
        """Rebuild the tenant from its seed/file (undo all mutations)."""
        return http("POST", self.base + "/_mock/reset", {}).json

    def config(self, **changes):
        reply = http("POST", self.base + "/_mock/config", changes)
        if reply.status != 200:
            raise ValueError(reply.json)
        return reply.json

    # ---- changes during a sync, broken pages (mock_changes.py)
    def schedule(self, after_requests, query, variables=None):
        """Run a mutation once after_requests GraphQL requests were executed."""
        reply = http("POST", self.base + "/_mock/schedule",
                     {"after_requests": after_requests, "query": query,
                      "variables": variables or {}})
        if reply.status != 200:
            raise ValueError(reply.json)
        return reply.json

    def schedule_state(self):
        return http("GET", self.base + "/_mock/schedule").json

    def page_fault(self, path, kind, times=1, **extra):
        reply = http("POST", self.base + "/_mock/page-fault",
                     dict({"path": path, "kind": kind, "times": times}, **extra))
        if reply.status != 200:
            raise ValueError(reply.json)
        return reply.json
