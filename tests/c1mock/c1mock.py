#!/usr/bin/env python3
"""Mock ConductorOne for service-mode tests: the token endpoint and the
BatonService gRPC methods on one loopback TLS port with a throw-away CA, plus a
plain HTTP control port. See README.md in this folder."""

import argparse
import json
import os
import signal
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)

import credentials  # noqa: E402
import scenario  # noqa: E402
import server  # noqa: E402
import tlsca  # noqa: E402


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--port", type=int, default=0, help="TLS port on 127.0.0.1 (0: any free one)")
    p.add_argument("--port-file", help="write the TLS port here once listening")
    p.add_argument("--control-port-file", help="write the control port here once listening")
    p.add_argument("--dir", help="where ca.pem, the server key and uploads go (default: a new temp dir)")
    p.add_argument("--client-id", required=True, help="the only client id the token endpoint accepts")
    p.add_argument("--public-key", required=True, help="the client's Ed25519 public key x (base64url)")
    p.add_argument("--kid", help="the kid the assertion header must carry (none by default)")
    p.add_argument("--scenario", help='JSON file: {"config": {...}, "tasks": [...]}')
    p.add_argument("--record", help="append every call here as JSON lines")
    return p.parse_args(argv)


def write_atomically(path, text):
    tmp = path + ".tmp"
    with open(tmp, "w") as f:
        f.write(text)
    os.rename(tmp, path)


def main(argv):
    args = parse_args(argv)
    workdir = args.dir or tempfile.mkdtemp(prefix="c1mock-")
    upload_dir = os.path.join(workdir, "uploads")
    os.makedirs(upload_dir, exist_ok=True)
    paths = tlsca.make(workdir)
    spec = {}
    if args.scenario:
        with open(args.scenario) as f:
            spec = json.load(f)
    checker = credentials.AssertionChecker(args.client_id, args.public_key, args.kid)
    state = scenario.State(args.client_id, checker, upload_dir, args.record, spec.get("config"))
    state.enqueue(spec.get("tasks", []))
    listener = server.listen(args.port)
    control = server.control_server(state)
    port, cport = listener.getsockname()[1], control.server_address[1]
    signal.signal(signal.SIGTERM, lambda *_: os._exit(0))
    signal.signal(signal.SIGINT, lambda *_: os._exit(0))
    if args.control_port_file:
        write_atomically(args.control_port_file, "%d\n" % cport)
    if args.port_file:
        write_atomically(args.port_file, "%d\n" % port)
    print("LISTENING %d CONTROL %d CA %s" % (port, cport, paths["ca.pem"]), flush=True)
    server.serve_tls(listener, paths, state)


if __name__ == "__main__":
    main(sys.argv[1:])
