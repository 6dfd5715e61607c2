"""Start and drive the mock ConductorOne from Python tests.

    from c1mockctl import C1Mock
    with C1Mock(config={"next_poll": 0.1}, tasks=[{"type": "sync_full"}]) as c1:
        env = c1.env()                  # BATON_C1_API_HOST, SSL_CERT_FILE, client id/secret, host id
        c1.enqueue({"type": "hello"})   # -> [task id]
        c1.wait_for(lambda st: st["finishes"], timeout=30)
        c1.calls("GetTask"), c1.finish(task_id), c1.uploads(), c1.violations()

The test generates the client secret here; the mock only gets the client id and
the public key. Only the standard library and python3-cryptography are used.
"""

import json
import os
import sys
import time
import urllib.error
import urllib.request

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

sys.path.insert(0, os.path.join(os.path.dirname(HERE), "mock"))

import credentials  # noqa: E402
from server_process import PYTHON, ServerProcess  # noqa: E402  (tests/mock)

SERVER = os.path.join(HERE, "c1mock.py")


class C1Mock(ServerProcess):
    name = "c1mock"
    keep_env = "C1MOCK_KEEP"

    def __init__(self, config=None, tasks=(), client_name="quiet-otter-12345", kid=None,
                 host_id="bt-test-host", start_timeout=30):
        super().__init__(start_timeout)
        self.client_id = "%s@localhost/pcc" % client_name
        self.kid = kid
        self.client_secret, self.public_x = credentials.new_secret(kid)
        self.host_id = host_id
        self.spec = {"config": dict(config or {}), "tasks": list(tasks)}

    # ---- lifecycle (stop, with, log_text: ServerProcess)

    def _argv(self, d):
        spec_path = os.path.join(d, "scenario.json")
        with open(spec_path, "w") as f:
            json.dump(self.spec, f)
        self.record_path = os.path.join(d, "calls.jsonl")
        argv = [PYTHON, SERVER, "--port", "0", "--port-file", os.path.join(d, "port"),
                "--control-port-file", os.path.join(d, "control-port"), "--dir", d,
                "--client-id=" + self.client_id,
                # "=": a base64url key may start with "-"
                "--public-key=" + self.public_x, "--scenario", spec_path, "--record", self.record_path]
        if self.kid:
            argv.append("--kid=" + self.kid)
        return argv

    def start(self):
        d = self.launch("c1mock-", self._argv)
        self.port = self.wait_port(os.path.join(d, "port"))
        self.control_port = self.wait_port(os.path.join(d, "control-port"))
        self.ca_path = os.path.join(d, "ca.pem")
        return self

    # ---- what the connector needs

    @property
    def host(self):
        return "localhost:%d" % self.port

    def env(self, **extra):
        e = {"BATON_C1_API_HOST": self.host, "SSL_CERT_FILE": self.ca_path,
             "BATON_CLIENT_ID": self.client_id, "BATON_CLIENT_SECRET": self.client_secret,
             "BATON_HOST_ID": self.host_id}
        e.update(extra)
        return e

    # ---- control port

    def _control(self, method, path, body=None):
        data = json.dumps(body).encode("utf-8") if body is not None else None
        req = urllib.request.Request("http://127.0.0.1:%d%s" % (self.control_port, path), data=data,
                                     method=method, headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return json.loads(r.read())
        except urllib.error.HTTPError as e:
            raise ValueError("control %s %s: %s %s" % (method, path, e.code, e.read()[:300]))

    def state(self, since=0):
        return self._control("GET", "/_mock/state?since=%d" % since)

    def enqueue(self, *tasks):
        return self._control("POST", "/_mock/tasks", {"tasks": list(tasks)})["ids"]

    def configure(self, **changes):
        return self._control("POST", "/_mock/config", changes)

    # ---- reading the record

    def calls(self, method=None, st=None):
        st = st or self.state()
        return [c for c in st["calls"] if method is None or c.get("method") == method]

    def violations(self):
        return self.state()["violations"]

    def finishes(self, task_id):
        return self.state()["finishes"].get(task_id, [])

    def finish(self, task_id):
        """The one FinishTask for task_id (fails the caller's assert if not exactly one)."""
        got = self.finishes(task_id)
        if len(got) != 1:
            raise AssertionError("expected one FinishTask for %s, got %d" % (task_id, len(got)))
        return got[0]

    def uploads(self, task_id=None):
        return [u for u in self.state()["uploads"] if task_id is None or u["task_id"] == task_id]

    def wait_for(self, predicate, timeout=60, what="condition"):
        """Poll the state until predicate(state) is truthy; the timeout only guards a hang."""
        deadline = time.monotonic() + timeout
        while True:
            st = self.state()
            got = predicate(st)
            if got:
                return got
            if time.monotonic() > deadline:
                raise AssertionError("timed out waiting for %s; last calls: %s"
                                     % (what, [(c.get("method"), c.get("grpc_status")) for c in st["calls"][-8:]]))
            time.sleep(0.05)

    def wait_finished(self, task_id, timeout=60):
        return self.wait_for(lambda st: st["finishes"].get(task_id), timeout, "FinishTask of %s" % task_id)[0]
