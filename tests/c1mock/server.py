"""Transport for the mock: one TLS port (ALPN h2, else HTTP/1.1 for the token
endpoint only), one thread per connection; and a plain HTTP/1.1 control port
on loopback for the tests. Behaviour lives in routes.py."""

import json
import socket
import ssl
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import h2.config
import h2.connection
import h2.events
import h2.exceptions

import grpcwire as g
import routes


def tls_context(paths, alpn):
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.minimum_version = ssl.TLSVersion.TLSv1_2
    ctx.load_cert_chain(paths["server.pem"], paths["server-key.pem"])
    ctx.set_alpn_protocols(list(alpn))
    ctx.sni_callback = _remember_sni
    return ctx


def _remember_sni(sock, server_name, _ctx):
    """Keep the client's SNI on the socket (2.2: SNI = the host without port)."""
    sock.sni = server_name


class Stream:
    def __init__(self, headers):
        self.headers = headers
        self.path = headers.get(":path", "")
        self.body = bytearray()
        self.deframer = g.Deframer()
        self.messages = []
        self.upload = None
        self.done = False


class H2Session:
    """One HTTP/2 connection: read frames, route each stream, write answers."""

    def __init__(self, sock, state):
        self.sock, self.state = sock, state
        config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
        self.conn = h2.connection.H2Connection(config=config)
        self.streams = {}
        self.delayed = []  # (monotonic due time, stream id, reply): stalled answers

    def run(self):
        self.conn.initiate_connection()
        self.flush()
        while True:
            self.send_due()
            waiting = bool(self.delayed)
            try:
                self.sock.settimeout(0.05 if waiting else 120)
                data = self.sock.recv(1 << 16)
            except socket.timeout:
                if waiting:
                    continue
                break
            except (OSError, ssl.SSLError):
                break
            if not data:
                break
            try:
                events = self.conn.receive_data(data)
            except h2.exceptions.ProtocolError as e:
                self.state.add_call({"kind": "h2", "method": "connection", "violations": ["HTTP/2: %s" % e]})
                self.flush()
                break
            for event in events:
                self.on_event(event)
            self.flush()
        self.abort_open_uploads()

    def send_due(self):
        """Answers held back by Reply.delay whose time has come (the stream may be reset by now)."""
        now = time.monotonic()
        due = [d for d in self.delayed if d[0] <= now]
        self.delayed = [d for d in self.delayed if d[0] > now]
        for _, sid, reply in due:
            self.send(sid, reply)
        if due:
            self.flush()

    def flush(self):
        out = self.conn.data_to_send()
        if out:
            try:
                self.sock.sendall(out)
            except OSError:
                pass

    def on_event(self, ev):
        if isinstance(ev, h2.events.RequestReceived):
            self.on_request(ev.stream_id, dict(ev.headers))
        elif isinstance(ev, h2.events.DataReceived):
            self.conn.acknowledge_received_data(ev.flow_controlled_length, ev.stream_id)
            self.on_data(ev.stream_id, ev.data)
        elif isinstance(ev, h2.events.StreamEnded):
            self.on_end(ev.stream_id)
        elif isinstance(ev, h2.events.StreamReset):
            stream = self.streams.pop(ev.stream_id, None)
            if stream and stream.upload and not stream.done:
                stream.upload.abort("the client reset the upload stream")

    def on_request(self, sid, headers):
        stream = Stream(headers)
        self.streams[sid] = stream
        method = stream.path[len(routes.SERVICE):] if stream.path.startswith(routes.SERVICE) else None
        if method == "UploadAsset":
            stream.upload = routes.Upload(self.state, headers)

    def on_data(self, sid, data):
        stream = self.streams.get(sid)
        if stream is None or stream.done:
            return
        if not stream.path.startswith(routes.SERVICE):
            stream.body += data
            return
        try:
            messages = stream.deframer.feed(data)
        except g.FrameError as e:
            return self.fail_stream(sid, stream, "framing: %s" % e)
        if stream.upload is None:
            stream.messages += messages
            return
        for m in messages:
            reply = stream.upload.feed(m)
            if reply is not None:
                stream.upload.abort(None)
                self.answer_early(sid, stream, reply)
                return

    def fail_stream(self, sid, stream, problem):
        call = {"kind": "grpc", "method": stream.path, "violations": [problem]}
        self.state.add_call(call)
        self.answer_early(sid, stream, routes.grpc_error(g.INTERNAL, problem))

    def answer_early(self, sid, stream, reply):
        """Answer before the client finished sending, then tell it to stop (RST NO_ERROR)."""
        stream.done = True
        self.send(sid, reply)
        try:
            self.conn.reset_stream(sid, error_code=0)
        except h2.exceptions.ProtocolError:
            pass

    def on_end(self, sid):
        stream = self.streams.pop(sid, None)
        if stream is None or stream.done:
            return
        stream.done = True
        if stream.deframer.leftover():
            self.state.add_call({"kind": "grpc", "method": stream.path,
                                 "violations": ["%d bytes of an incomplete message" % stream.deframer.leftover()]})
        reply = self.route(stream)
        if reply.delay:
            self.delayed.append((time.monotonic() + reply.delay, sid, reply))
            return
        self.send(sid, reply)

    def route(self, stream):
        path, headers = stream.path, stream.headers
        if path == routes.TOKEN_PATH:
            return routes.token(self.state, headers, bytes(stream.body))
        if stream.upload is not None:
            return stream.upload.finish()
        method = path[len(routes.SERVICE):] if path.startswith(routes.SERVICE) else None
        if method in routes.UNARY:
            return routes.unary(self.state, method, headers, stream.messages, routes.UNARY[method])
        self.state.add_call({"kind": "http", "method": path, "violations": ["unknown path %r" % path]})
        if method is not None:
            return routes.grpc_error(g.UNIMPLEMENTED, "unknown method")
        return routes.http_reply(404, b"<html>not found</html>", "text/html")

    def send(self, sid, reply):
        try:
            self._send(sid, reply)
        except h2.exceptions.ProtocolError:
            pass  # the client already closed the stream

    def _send(self, sid, reply):
        if reply.http is not None:
            self.conn.send_headers(sid, [(":status", str(reply.http)), ("content-type", reply.content_type),
                                         ("content-length", str(len(reply.body)))])
            self.conn.send_data(sid, reply.body, end_stream=True)
            return
        head = [(":status", "200"), ("content-type", "application/grpc")]
        status = [("grpc-status", str(reply.code))]
        if reply.code:
            status.append(("grpc-message", g.escape_message(reply.message)))
        if reply.body is None and not self.state.config["error_with_body"]:
            self.conn.send_headers(sid, head + status, end_stream=True)  # trailers-only
            return
        self.conn.send_headers(sid, head)
        if reply.body is not None and not reply.no_message:
            self.send_chunked(sid, g.frame(reply.body, reply.compressed))
        self.conn.send_headers(sid, status, end_stream=True)

    def send_chunked(self, sid, data):
        """DATA frames of data_chunk bytes each (0: one frame), to test reassembly."""
        size = self.state.config["data_chunk"] or len(data)
        for i in range(0, len(data), size):
            self.conn.send_data(sid, data[i:i + size])

    def abort_open_uploads(self):
        for stream in self.streams.values():
            if stream.upload and not stream.done:
                stream.done = True
                stream.upload.abort("the connection closed mid-upload")


class Http1Handler(BaseHTTPRequestHandler):
    """HTTP/1.1 on the TLS port: the token endpoint may use it; gRPC may not."""

    protocol_version = "HTTP/1.1"

    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        headers = {k.lower(): v for k, v in self.headers.items()}
        headers[":method"] = "POST"
        state = self.server.state
        if self.path == routes.TOKEN_PATH:
            reply = routes.token(state, headers, body)
        else:
            state.add_call({"kind": "http1", "method": self.path,
                            "violations": ["%s over HTTP/1.1 (ALPN did not pick h2)" % self.path]})
            reply = routes.http_reply(505, b"<html>HTTP/2 required</html>", "text/html")
        self.send_response(reply.http)
        self.send_header("Content-Type", reply.content_type)
        self.send_header("Content-Length", str(len(reply.body)))
        self.end_headers()
        self.wfile.write(reply.body)

    def log_message(self, *args):
        pass


class _Http1Server:
    def __init__(self, state):
        self.state = state


def serve_connection(raw, addr, ctx, state):
    state.add_connection()
    try:
        raw.settimeout(120)
        sock = ctx.wrap_socket(raw, server_side=True)
    except (ssl.SSLError, OSError) as e:
        state.add_call({"kind": "tls_error", "method": "handshake", "error": str(e), "violations": []})
        raw.close()
        return
    sni = getattr(sock, "sni", None)
    if sni != "localhost":
        state.add_call({"kind": "tls", "method": "handshake",
                        "violations": ["SNI %r, expected 'localhost' (2.2)" % sni]})
    try:
        if sock.selected_alpn_protocol() == "h2":
            H2Session(sock, state).run()
        else:
            Http1Handler(sock, addr, _Http1Server(state))
    except (OSError, ssl.SSLError):
        pass
    finally:
        try:
            sock.close()
        except OSError:
            pass


def serve_tls(listener, paths, state):
    """Accept forever; each connection offers the ALPN protocols configured at that moment."""
    contexts = {}
    while True:
        try:
            raw, addr = listener.accept()
        except OSError:
            return
        alpn = tuple(state.config["alpn"])
        if alpn not in contexts:
            contexts[alpn] = tls_context(paths, alpn)
        threading.Thread(target=serve_connection, args=(raw, addr, contexts[alpn], state), daemon=True).start()


def listen(port):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(64)
    return s


# ---------------------------------------------------------------- control port


class ControlHandler(BaseHTTPRequestHandler):
    """GET /_mock/state[?since=N], /_mock/health; POST /_mock/tasks, /_mock/config."""

    protocol_version = "HTTP/1.1"

    def do_GET(self):
        url = urllib.parse.urlsplit(self.path)
        query = urllib.parse.parse_qs(url.query)
        if url.path == "/_mock/state":
            return self.answer(200, self.server.state.snapshot(int(query.get("since", ["0"])[0])))
        if url.path == "/_mock/health":
            return self.answer(200, {"ok": True})
        return self.answer(404, {"error": "unknown path"})

    def do_POST(self):
        try:
            body = json.loads(self.rfile.read(int(self.headers.get("Content-Length") or 0)) or b"{}")
            if self.path == "/_mock/tasks":
                return self.answer(200, {"ids": self.server.state.enqueue(body["tasks"])})
            if self.path == "/_mock/config":
                return self.answer(200, self.server.state.configure(body))
        except (KeyError, ValueError, TypeError) as e:
            return self.answer(400, {"error": str(e)})
        return self.answer(404, {"error": "unknown path"})

    def answer(self, status, obj):
        data = json.dumps(obj).encode("utf-8")
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def log_message(self, *args):
        pass


def control_server(state):
    srv = ThreadingHTTPServer(("127.0.0.1", 0), ControlHandler)
    srv.daemon_threads = True
    srv.state = state
    threading.Thread(target=srv.serve_forever, daemon=True).start()
    return srv
