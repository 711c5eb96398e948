"""The gateway's response framing and body checks, seen on the wire (raw sockets).

A response whose status forbids a body (204, 304) must not carry one: the bytes
would be read by the client as the start of the *next* response on the
keep-alive connection (response splitting).  Header values a handler returns
must be sendable, and JSON bodies too deep to walk safely are refused before
any handler sees them.
"""

from __future__ import annotations

import socket

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: framing
functions:
  bodyless:
    handler: h.py:bodyless
    triggers:
      - http: {method: GET, path: "/status/{code}", auth: none}
  plain:
    handler: h.py:plain
    triggers:
      - http: {method: ANY, path: /plain, auth: none}
  vt-header:
    handler: h.py:vt_header
    triggers:
      - http: {method: GET, path: /vt-header, auth: none}
"""

HANDLERS = """
def bodyless(event, context):
    code = int(event["pathParameters"]["code"])
    return {"statusCode": code, "headers": {"content-length": "9"},
            "body": "HTTP/1.1 200 OK\\r\\nX-Smuggled: yes\\r\\ncontent-length: 0\\r\\n\\r\\n"}

def plain(event, context):
    return {"statusCode": 200, "body": "clean"}

def vt_header(event, context):
    return {"statusCode": 200, "headers": {"x-vt": "a\\x0bb"}, "body": "x"}
"""


@pytest.fixture(scope="module")
def framing(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    app = make_app(tmp_path_factory.mktemp("framing") / "app", MANIFEST, {"h.py": HANDLERS})
    node.deploy_ok(app)
    return node


def _read_response(sock: socket.socket, buf: bytearray) -> tuple[bytes, dict[str, str], bytes]:
    """One response off the connection: (status line, headers, body by content-length)."""
    while b"\r\n\r\n" not in buf:
        chunk = sock.recv(65536)
        if not chunk:
            raise AssertionError(f"connection closed mid-response: {bytes(buf)!r}")
        buf += chunk
    head, _, rest = bytes(buf).partition(b"\r\n\r\n")
    lines = head.split(b"\r\n")
    headers = {}
    for line in lines[1:]:
        name, _, value = line.decode("latin-1").partition(":")
        headers[name.strip().lower()] = value.strip()
    length = int(headers.get("content-length", "0"))
    while len(rest) < length:
        chunk = sock.recv(65536)
        if not chunk:
            break
        rest += chunk
    buf[:] = rest[length:]
    return lines[0], headers, rest[:length]


@pytest.mark.parametrize("code", [204, 304])
def test_bodyless_status_sends_no_body(framing: RunningNode, code: int) -> None:
    with socket.create_connection(("127.0.0.1", framing.port), timeout=60) as sock:
        buf = bytearray()
        sock.sendall(f"GET /status/{code} HTTP/1.1\r\nHost: t\r\n\r\n".encode())
        status, headers, body = _read_response(sock, buf)
        assert status.startswith(f"HTTP/1.1 {code}".encode()), status
        assert "content-length" not in headers and "transfer-encoding" not in headers
        assert body == b""
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")
        status, headers, body = _read_response(sock, buf)
        assert status.startswith(b"HTTP/1.1 200"), f"poisoned next response: {status!r}"
        assert "x-smuggled" not in headers and body == b"clean"
        assert not buf
    rows = framing.wait_invocations("bodyless", 1)
    assert any("body dropped" in (r["logs"] or "") for r in rows), rows


def test_interim_status_from_a_handler_is_refused(framing: RunningNode) -> None:
    r = framing.gateway.get("/status/101")
    assert r.status_code == 502 and r.json()["code"] == "invalid_handler_response"
    r = framing.gateway.get("/status/100")
    assert r.status_code == 502 and r.json()["code"] == "invalid_handler_response"


def test_control_character_in_response_header_is_502(framing: RunningNode) -> None:
    with socket.create_connection(("127.0.0.1", framing.port), timeout=60) as sock:
        buf = bytearray()
        sock.sendall(b"GET /vt-header HTTP/1.1\r\nHost: t\r\n\r\n")
        status, _, body = _read_response(sock, buf)
        assert status.startswith(b"HTTP/1.1 502"), status
        assert b"invalid_handler_response" in body
        sock.sendall(b"GET /plain HTTP/1.1\r\nHost: t\r\n\r\n")  # the connection survived
        status, _, body = _read_response(sock, buf)
        assert status.startswith(b"HTTP/1.1 200") and body == b"clean"
    assert "Invalid HTTP header value" not in framing.log_text()


def test_deeply_nested_json_body_is_400(framing: RunningNode) -> None:
    before = len(framing.invocations("plain"))
    deep = b"[" * 1000 + b"]" * 1000
    r = framing.gateway.post("/plain", content=deep, headers={"content-type": "application/json"})
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested"
    shallow = b"[" * 20 + b"]" * 20
    r = framing.gateway.post(
        "/plain", content=shallow, headers={"content-type": "application/json"}
    )
    assert r.status_code == 200
    assert len(framing.wait_invocations("plain", before + 1)) == before + 1


def test_two_content_types_are_refused(framing: RunningNode) -> None:
    # Joined as "text/plain, application/json" they skipped the JSON checks, while the
    # handler saw a value it could read either way.
    before = len(framing.invocations("plain"))
    with socket.create_connection(("127.0.0.1", framing.port), timeout=60) as sock:
        buf = bytearray()
        body = b"[" * 200 + b"]" * 200
        sock.sendall(
            b"POST /plain HTTP/1.1\r\nHost: t\r\nContent-Type: text/plain\r\n"
            b"Content-Type: application/json\r\nContent-Length: %d\r\n\r\n" % len(body) + body
        )
        status, _, answer = _read_response(sock, buf)
    assert status.startswith(b"HTTP/1.1 400"), status
    assert b'"code":"invalid_content_type"' in answer
    assert len(framing.invocations("plain")) == before
