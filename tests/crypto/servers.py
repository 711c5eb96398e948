"""A local HTTP server speaking Vault Transit's API, for the Vault Transit KMS plugin.

No Vault server runs on this machine (and none can be installed: its licence
is not open source), so the Vault Transit KMS plugin is tested against this
small, real HTTP server implementing the two endpoints the plugin uses,
``POST /v1/<mount>/encrypt/<key>`` and ``POST /v1/<mount>/decrypt/<key>``,
with Vault's request and answer shapes and its ``X-Vault-Token`` check.  It
stands in for a service outside the machine, not for any part of Ramparts.
"""

from __future__ import annotations

import base64
import json
import os
from http.server import BaseHTTPRequestHandler

from cryptography.hazmat.primitives.ciphers.aead import AESGCM


class TransitServer(BaseHTTPRequestHandler):
    """Vault Transit's encrypt/decrypt for one key, ``transit/ramparts``."""

    key = AESGCM.generate_key(bit_length=256)
    token = "s.test-token"
    calls: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.calls.append(self.path)
        if self.headers.get("X-Vault-Token") != self.token:
            return self._send(403, {"errors": ["permission denied"]})
        aead = AESGCM(self.key)
        if self.path == "/v1/transit/encrypt/ramparts":
            nonce = os.urandom(12)
            ct = aead.encrypt(nonce, base64.b64decode(body["plaintext"]), None)
            return self._send(
                200, {"data": {"ciphertext": "vault:v1:" + base64.b64encode(nonce + ct).decode()}}
            )
        if self.path == "/v1/transit/decrypt/ramparts":
            raw = base64.b64decode(body["ciphertext"].removeprefix("vault:v1:"))
            try:
                pt = aead.decrypt(raw[:12], raw[12:], None)
            except Exception:
                return self._send(400, {"errors": ["cipher: message authentication failed"]})
            return self._send(200, {"data": {"plaintext": base64.b64encode(pt).decode()}})
        self._send(404, {"errors": []})

    def _send(self, status: int, data: dict) -> None:
        out = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)
