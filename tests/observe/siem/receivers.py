"""Real local SIEM collectors for tests: UDP and TCP/TLS syslog, an HTTP collector.

Each runs in a thread on a loopback port and keeps what it received.  A
receiver may be created on a port reserved earlier and started later, so a
test can run a node against a collector that is down, then bring it up.
Also: ``parse_syslog`` and ``parse_cef``, strict enough to fail on a
malformed line, and ``make_tls`` for a test CA and a server certificate.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import json
import re
import socket
import socketserver
import ssl
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID


def wait_for(check: Callable[[], Any], timeout: float = 60.0, what: str = "condition") -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = check()
        if found:
            return found
        time.sleep(0.1)
    raise AssertionError(f"timed out waiting for {what}")


# -- parsing -----------------------------------------------------------------------------------
_SYSLOG = re.compile(
    r"^<(?P<pri>\d{1,3})>1 (?P<ts>\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(?:\.\d{1,6})?(?:Z|[+-]\d\d:\d\d))"
    r" (?P<host>[!-~]{1,255}) (?P<app>[!-~]{1,48}) (?P<procid>[!-~]{1,128})"
    r" (?P<msgid>[!-~]{1,32}) (?P<sd>-|(?:\[[^\]]*\])+) (?P<msg>.*)$",
    re.DOTALL,
)


def parse_syslog(raw: bytes) -> dict[str, Any]:
    """An RFC 5424 message, or AssertionError."""
    text = raw.decode("utf-8")
    match = _SYSLOG.match(text)
    assert match, f"not RFC 5424: {text[:200]!r}"
    out: dict[str, Any] = match.groupdict()
    pri = int(out["pri"])
    assert pri <= 191
    out["facility"], out["severity"] = divmod(pri, 8)
    return out


def _split_header(line: str) -> list[str]:
    parts, cur, i = [], "", 0
    while i < len(line) and len(parts) < 7:
        c = line[i]
        if c == "\\" and i + 1 < len(line):
            cur += line[i + 1]
            i += 2
            continue
        if c == "|":
            parts.append(cur)
            cur = ""
        else:
            cur += c
        i += 1
    assert len(parts) == 7, f"not a CEF header: {line[:200]!r}"
    parts.append(line[i:])
    return parts


_EXT_KEY = re.compile(r"(?:^| )([A-Za-z0-9_]+)=")


def parse_cef(line: str) -> dict[str, Any]:
    """A CEF line: header fields and the unescaped extension, or AssertionError."""
    assert line.startswith("CEF:0|"), line[:80]
    *header, ext = _split_header(line)
    # keys start where an unescaped ' key=' begins
    positions = [
        m for m in _EXT_KEY.finditer(ext)
        if not ext[: m.start(1)].endswith("\\") and (m.start() == 0 or ext[m.start() - 1] != "\\")
    ]
    fields: dict[str, str] = {}
    for n, m in enumerate(positions):
        end = positions[n + 1].start() if n + 1 < len(positions) else len(ext)
        raw = ext[m.end() : end]
        assert "=" not in raw.replace("\\=", ""), f"unescaped '=' in {raw!r}"
        value = re.sub(r"\\(.)", lambda x: {"n": "\n", "r": "\r"}.get(x[1], x[1]), raw)
        fields[m.group(1)] = value
    return {
        "version": header[0],
        "vendor": header[1],
        "product": header[2],
        "product_version": header[3],
        "signature": header[4],
        "name": header[5],
        "severity": int(header[6]),
        "ext": fields,
    }


# -- syslog receivers -------------------------------------------------------------------------
class UdpReceiver:
    def __init__(self) -> None:
        self.sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self.sock.bind(("127.0.0.1", 0))
        self.port = self.sock.getsockname()[1]
        self.messages: list[bytes] = []
        threading.Thread(target=self._run, daemon=True).start()

    def _run(self) -> None:
        while True:
            try:
                data, _ = self.sock.recvfrom(70000)
            except OSError:
                return
            self.messages.append(data)

    def close(self) -> None:
        self.sock.close()


class _Server(socketserver.ThreadingTCPServer):
    allow_reuse_address = True
    daemon_threads = True

    def handle_error(self, request: Any, client_address: Any) -> None:
        pass  # refused handshakes are what some tests expect; they are kept in ``errors``


class StreamReceiver:
    """Syslog over TCP, or TLS when given a server context; octet-counted frames."""

    def __init__(self, port: int, tls: ssl.SSLContext | None = None) -> None:
        self.port = port
        self.tls = tls
        self.messages: list[bytes] = []
        self.errors: list[str] = []
        self.server: _Server | None = None
        self.connections: list[socket.socket] = []

    def start(self) -> StreamReceiver:
        receiver = self

        class Handler(socketserver.StreamRequestHandler):
            def setup(self) -> None:
                if receiver.tls is not None:
                    try:
                        self.request = receiver.tls.wrap_socket(self.request, server_side=True)
                    except (ssl.SSLError, OSError) as exc:
                        receiver.errors.append(str(exc))
                        raise
                receiver.connections.append(self.request)
                super().setup()

            def handle(self) -> None:
                while True:
                    digits = b""
                    while True:
                        c = self.rfile.read(1)
                        if not c:
                            return
                        if c == b" ":
                            break
                        assert c.isdigit(), f"bad octet count {digits + c!r}"
                        digits += c
                    body = self.rfile.read(int(digits))
                    receiver.messages.append(body)

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        """Stop like a collector that exits: its open connections close too."""
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None
        for conn in self.connections:
            try:
                conn.shutdown(socket.SHUT_RDWR)
                conn.close()
            except OSError:
                pass
        self.connections.clear()


# -- HTTP collector ---------------------------------------------------------------------------
class HttpCollector:
    """Answers like Splunk HEC (``/services/collector/event``) or Elasticsearch ``_bulk``."""

    def __init__(self, port: int) -> None:
        self.port = port
        self.requests: list[dict[str, Any]] = []
        self.server: ThreadingHTTPServer | None = None
        self.seen_ids: set[str] = set()
        self.expect_auth: str | None = None  # answer 401 to any other Authorization
        self.refused = 0
        self.too_large: bytes | None = None  # answer 413 to a body holding this (b"": all)
        # bulk: a document holding a key gets the next of its statuses (the last repeats)
        self.item_status: dict[str, list[int]] = {}
        self.items_taken = 0  # bulk items answered 2xx or 409

    def start(self) -> HttpCollector:
        collector = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args: Any) -> None:
                pass

            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", "0")))
                if (
                    collector.expect_auth is not None
                    and self.headers.get("authorization") != collector.expect_auth
                ):
                    collector.refused += 1
                    self.send_response(401)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                if collector.too_large is not None and collector.too_large in body:
                    collector.refused += 1
                    self.send_response(413)
                    self.send_header("content-length", "0")
                    self.end_headers()
                    return
                collector.requests.append(
                    {"path": self.path, "body": body,
                     "headers": {k.lower(): v for k, v in self.headers.items()}}
                )
                if self.path.endswith("/_bulk"):
                    lines = [json.loads(x) for x in body.splitlines() if x.strip()]
                    items = []
                    for action, document in zip(lines[0::2], lines[1::2], strict=True):
                        uid = action["create"]["_id"]
                        text = json.dumps(document)
                        key = next((k for k in collector.item_status if k in text), None)
                        if key is not None and collector.item_status[key][0] >= 300:
                            statuses = collector.item_status[key]
                            status = statuses.pop(0) if len(statuses) > 1 else statuses[0]
                            error = {"type": "mapper_parsing_exception" if status == 400
                                     else "es_rejected_execution_exception", "reason": "test"}
                            items.append({"create": {"_id": uid, "status": status,
                                                     "error": error}})
                            continue
                        status = 409 if uid in collector.seen_ids else 201
                        collector.seen_ids.add(uid)
                        collector.items_taken += 1
                        items.append({"create": {"_id": uid, "status": status}})
                    doc = {"errors": any(i["create"]["status"] != 201 for i in items),
                           "items": items}
                else:
                    doc = {"text": "Success", "code": 0}
                out = json.dumps(doc).encode()
                self.send_response(200)
                self.send_header("content-type", "application/json")
                self.send_header("content-length", str(len(out)))
                self.end_headers()
                self.wfile.write(out)

        self.server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()
        return self

    def stop(self) -> None:
        if self.server is not None:
            self.server.shutdown()
            self.server.server_close()
            self.server = None

    def hec_events(self) -> list[dict[str, Any]]:
        out = []
        for r in list(self.requests):
            out += [json.loads(x) for x in r["body"].splitlines() if x.strip()]
        return out

    def bulk_docs(self) -> list[tuple[dict[str, Any], dict[str, Any]]]:
        out = []
        for r in list(self.requests):
            lines = [json.loads(x) for x in r["body"].splitlines() if x.strip()]
            out += list(zip(lines[0::2], lines[1::2], strict=True))
        return out


# -- TLS material -----------------------------------------------------------------------------
def make_tls(directory: Path) -> tuple[Path, ssl.SSLContext]:
    """A test CA (its PEM path) and a server context whose certificate it signed for
    127.0.0.1 and localhost."""
    now = dt.datetime.now(dt.UTC)
    ca_key = ec.generate_private_key(ec.SECP256R1())
    ca_name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "ramparts test CA")])
    ca = (
        x509.CertificateBuilder()
        .subject_name(ca_name)
        .issuer_name(ca_name)
        .public_key(ca_key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True, content_commitment=False, key_encipherment=False,
                data_encipherment=False, key_agreement=False, key_cert_sign=True,
                crl_sign=True, encipher_only=False, decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(ca_key.public_key()), False)
        .sign(ca_key, hashes.SHA256())
    )
    key = ec.generate_private_key(ec.SECP256R1())
    cert = (
        x509.CertificateBuilder()
        .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "localhost")]))
        .issuer_name(ca_name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.DNSName("localhost"), x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.AuthorityKeyIdentifier.from_issuer_public_key(ca_key.public_key()), False
        )
        .add_extension(x509.ExtendedKeyUsage([x509.oid.ExtendedKeyUsageOID.SERVER_AUTH]), False)
        .sign(ca_key, hashes.SHA256())
    )
    ca_pem = directory / "ca.pem"
    ca_pem.write_bytes(ca.public_bytes(serialization.Encoding.PEM))
    cert_pem = directory / "server.pem"
    cert_pem.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_pem = directory / "server.key"
    key_pem.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert_pem, key_pem)
    return ca_pem, context
