"""Real local HTTP servers standing in for third-party identity providers in tests.

``IdpServer`` is a tiny ``http.server`` on a free loopback port, in a thread:
``/jwks.json`` serves whatever keys the test puts there, ``/evil-jwks`` is what
an attacker's ``jku`` would point at (it must never be fetched), and
``/introspect`` answers RFC 7662 requests for the tokens the test registers.
Every hit is counted so tests can assert caching and rate limits.
"""

from __future__ import annotations

import base64
import json
import threading
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs


class IdpServer:
    def __init__(self, client_id: str = "gateway", client_secret: str = "introspect-pw") -> None:
        self.jwks: dict[str, Any] = {"keys": []}
        self.evil_jwks: dict[str, Any] = {"keys": []}
        self.active: dict[str, dict[str, Any]] = {}  # opaque token -> introspection answer
        self.fail = False  # introspection answers 500 while set
        self.hits: Counter[str] = Counter()
        self.client = (client_id, client_secret)
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def _json(self, status: int, doc: Any) -> None:
                body = json.dumps(doc).encode()
                self.send_response(status)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def do_GET(self) -> None:
                server.hits[self.path] += 1
                if self.path == "/jwks.json":
                    self._json(200, server.jwks)
                elif self.path == "/evil-jwks":
                    self._json(200, server.evil_jwks)
                else:
                    self._json(404, {})

            def do_POST(self) -> None:
                server.hits[self.path] += 1
                length = int(self.headers.get("content-length", "0"))
                form = parse_qs(self.rfile.read(length).decode())
                if self.path != "/introspect":
                    self._json(404, {})
                    return
                if server.fail:
                    self._json(500, {"error": "server_error"})
                    return
                expected = "Basic " + base64.b64encode(":".join(server.client).encode()).decode()
                if self.headers.get("authorization") != expected:
                    self._json(401, {"error": "invalid_client"})
                    return
                token = form.get("token", [""])[0]
                self._json(200, server.active.get(token, {"active": False}))

        self._httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.port = self._httpd.server_address[1]
        self.base = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(target=self._httpd.serve_forever, daemon=True)

    def start(self) -> IdpServer:
        self._thread.start()
        return self

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
