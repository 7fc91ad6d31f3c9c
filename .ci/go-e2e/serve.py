#!/usr/bin/env python3
"""Serves a directory in the Go module proxy layout on 127.0.0.1: plain HTTP (for k3s-bake go resolve) and HTTPS
with a self-signed certificate (BitBake's gomod:// always uses https://${GO_MOD_PROXY}). Writes the two ports to
<statedir>/http.port and <statedir>/https.port, then serves until killed. Requests are logged to <statedir>/access.log."""
import functools
import http.server
import ssl
import sys
import threading

root, cert, key, statedir = sys.argv[1:5]


class Handler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, fmt, *args):
        with open(f"{statedir}/access.log", "a") as f:
            f.write("%s %s\n" % (self.server.server_port, fmt % args))


def start(tls):
    srv = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(Handler, directory=root))
    if tls:
        ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
        ctx.load_cert_chain(cert, key)
        srv.socket = ctx.wrap_socket(srv.socket, server_side=True)
    with open(f"{statedir}/{'https' if tls else 'http'}.port", "w") as f:
        f.write(str(srv.server_address[1]))
    threading.Thread(target=srv.serve_forever, daemon=True).start()


start(False)
start(True)
threading.Event().wait()
