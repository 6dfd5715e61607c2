"""A tiny reference client for the mock's self-tests: builds client assertions
from a client secret and makes HTTP/2 requests over TLS with python3-h2."""

import json
import os
import socket
import ssl
import time
import urllib.parse

import h2.config
import h2.connection
import h2.events
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

import credentials
import grpcwire as g

SERVICE = "/c1.connectorapi.baton.v1.BatonService/"


def private_key(secret):
    jwk = json.loads(credentials.b64url_decode(secret.split(":", 3)[3]))
    return Ed25519PrivateKey.from_private_bytes(credentials.b64url_decode(jwk["d"])), jwk


def assertion(secret, client_id, now=None, header=None, claims=None, sign_with=None):
    """A client assertion as the document's section 1.4 describes; header/claims
    entries override (None deletes) to build broken ones."""
    now = int(time.time() if now is None else now)
    key, jwk = private_key(secret)
    h = {"alg": "EdDSA", "nonce": os.urandom(16).hex()}
    if "kid" in jwk:
        h["kid"] = jwk["kid"]
    c = {"iss": client_id, "sub": client_id, "aud": credentials.client_id_host(client_id),
         "iat": now, "nbf": now - 120, "exp": now + 120}
    for target, changes in ((h, header), (c, claims)):
        for k, v in (changes or {}).items():
            if v is None:
                target.pop(k, None)
            else:
                target[k] = v
    signing = (credentials.b64url(json.dumps(h).encode()) + "." + credentials.b64url(json.dumps(c).encode()))
    signature = (sign_with or key).sign(signing.encode("ascii"))
    return signing + "." + credentials.b64url(signature)


def token_form(client_id, jws):
    return urllib.parse.urlencode({"client_id": client_id, "grant_type": "client_credentials",
                                   "client_assertion_type": credentials.ASSERTION_TYPE,
                                   "client_assertion": jws}).encode("ascii")


class Response:
    def __init__(self):
        self.headers, self.data, self.trailers, self.reset = {}, bytearray(), {}, None

    @property
    def grpc_status(self):
        value = self.trailers.get("grpc-status", self.headers.get("grpc-status"))
        return int(value) if value is not None else None

    def messages(self):
        return g.Deframer().feed(bytes(self.data))


class H2Client:
    def __init__(self, port, ca, alpn=("h2",)):
        ctx = ssl.create_default_context(cafile=ca)
        ctx.set_alpn_protocols(list(alpn))
        raw = socket.create_connection(("127.0.0.1", port), timeout=10)
        self.sock = ctx.wrap_socket(raw, server_hostname="localhost")
        self.port = port
        self.conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True,
                                                                         header_encoding="utf-8"))
        self.conn.initiate_connection()
        self.sock.sendall(self.conn.data_to_send())

    def close(self):
        self.sock.close()

    def grpc_headers(self, method, token, agent="quiet-otter-12345 baton-sdk/v0.25.0 test", extra=()):
        return [(":method", "POST"), (":scheme", "https"), (":authority", "localhost:%d" % self.port),
                (":path", SERVICE + method), ("content-type", "application/grpc"), ("te", "trailers"),
                ("authorization", "Bearer " + token), ("user-agent", agent)] + list(extra)

    def call(self, method, token, messages, extra_headers=(), headers=None):
        """One gRPC call: send each message framed, half-close, read the answer."""
        body = [g.frame(m) for m in messages]
        return self.request(headers or self.grpc_headers(method, token, extra=extra_headers), body)

    def post(self, path, content_type, body, agent="baton-c1-credential-provider baton-sdk/v0.25.0"):
        headers = [(":method", "POST"), (":scheme", "https"), (":authority", "localhost:%d" % self.port),
                   (":path", path), ("content-type", content_type), ("user-agent", agent)]
        return self.request(headers, [body])

    def request(self, headers, chunks):
        sid = self.conn.get_next_available_stream_id()
        self.conn.send_headers(sid, headers)
        for chunk in chunks:
            self._send_data(sid, chunk)
        self.conn.end_stream(sid)
        self.sock.sendall(self.conn.data_to_send())
        return self._read(sid)

    def _send_data(self, sid, data):
        while data:
            window = min(self.conn.local_flow_control_window(sid), self.conn.max_outbound_frame_size)
            if window <= 0:
                self._pump(None)
                continue
            self.conn.send_data(sid, data[:window])
            data = data[window:]
            self.sock.sendall(self.conn.data_to_send())

    def _read(self, sid):
        resp = Response()
        while not self._pump(resp, sid):
            pass
        return resp

    def _pump(self, resp, sid=None):
        """Read once; feed events into resp; True when the stream ended."""
        data = self.sock.recv(1 << 16)
        if not data:
            raise ConnectionError("server closed the connection")
        done = False
        for ev in self.conn.receive_data(data):
            if isinstance(ev, h2.events.ResponseReceived) and resp is not None:
                resp.headers = dict(ev.headers)
            elif isinstance(ev, h2.events.DataReceived):
                self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
                if resp is not None:
                    resp.data += ev.data
            elif isinstance(ev, h2.events.TrailersReceived) and resp is not None:
                resp.trailers = dict(ev.headers)
            elif isinstance(ev, (h2.events.StreamEnded, h2.events.StreamReset)) and ev.stream_id == sid:
                if isinstance(ev, h2.events.StreamReset) and resp is not None:
                    resp.reset = ev.error_code
                done = True
        self.sock.sendall(self.conn.data_to_send())
        return done
