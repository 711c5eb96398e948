"""The control API: admin token, JSON errors, status."""

from __future__ import annotations

from pathlib import Path

import httpx

from tests.conftest import RunningNode, make_app


def test_admin_token_required_and_audited(node: RunningNode) -> None:
    bare = httpx.Client(base_url=str(node.control.base_url))
    try:
        r = bare.get("/v1/functions")
        assert r.status_code == 401 and r.json()["code"] == "unauthorized"
        r = bare.get("/v1/functions", headers={"authorization": "Bearer rat_wrong"})
        assert r.status_code == 401
        assert bare.get("/healthz").status_code == 200
    finally:
        bare.close()
    denied = [e for e in node.audit() if e["kind"] == "control.auth"]
    assert denied and denied[-1]["decision"] == "deny"


def test_token_file_is_private(node: RunningNode) -> None:
    mode = (node.data_dir / "admin-token").stat().st_mode & 0o777
    assert mode == 0o600
    assert (node.data_dir.stat().st_mode & 0o077) == 0


def test_errors_are_json_with_codes(node: RunningNode) -> None:
    r = node.control.get("/v1/nope")
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = node.control.post("/v1/functions/x/invoke", content=b"{bad")
    assert r.status_code == 400 and r.json()["code"] == "invalid_json"
    r = node.control.get("/v1/audit", params={"limit": "-1"})
    assert r.status_code == 400 and r.json()["code"] == "invalid_argument"
    r = node.control.get("/v1/functions/NOT_VALID/versions")
    assert r.status_code == 404


def test_status_reports_backends(node: RunningNode) -> None:
    body = node.control.get("/v1/status").json()
    assert body["state"] == "sqlite" and body["bus"] == "embedded"


def _raw(port: int, request: bytes) -> bytes:
    """Send one request on a fresh connection and read until the server closes it."""
    import socket

    out = b""
    with socket.create_connection(("127.0.0.1", port), timeout=60) as sock:
        sock.sendall(request)
        while chunk := sock.recv(65536):
            out += chunk
    return out


def test_two_authorization_headers_are_refused(node: RunningNode) -> None:
    token = node.control.headers["authorization"]
    for first, second in ((token, token), ("Bearer rat_wrong", token)):
        raw = _raw(
            node.admin_port,
            f"GET /v1/status HTTP/1.1\r\nHost: c\r\nAuthorization: {first}\r\n"
            f"Authorization: {second}\r\nConnection: close\r\n\r\n".encode(),
        )
        assert raw.startswith(b"HTTP/1.1 400"), raw[:200]
        assert b'"code":"malformed_credentials"' in raw


def test_json_with_too_many_values_is_400_before_parsing(node: RunningNode) -> None:
    """The control API shares the gateway's loop: a bomb here would stall both."""
    bomb = "[" + ",".join(["[]"] * 150_000) + "]"
    r = node.control.put("/v1/kv/bomb/k", content=f'{{"item": {bomb}}}')
    assert r.status_code == 400 and r.json()["code"] == "too_many_json_values", r.text
    assert node.control.get("/v1/kv/bomb/k").status_code == 404  # nothing was written


def test_deeply_nested_json_is_400(node: RunningNode) -> None:
    deep = "[" * 1000 + "]" * 1000
    r = node.control.put("/v1/kv/deep/k", content=f'{{"item": {deep}}}')
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested"
    r = node.control.post("/v1/functions/x/invoke", content=f'{{"event": {deep}}}')
    assert r.status_code == 400 and r.json()["code"] == "too_deeply_nested"
    r = node.control.get("/v1/kv/deep/k")
    assert r.status_code == 404  # nothing was written


def test_control_character_in_header_is_a_clean_400(node: RunningNode) -> None:
    token = node.control.headers["authorization"]
    raw = _raw(
        node.admin_port,
        f"GET /v1/status HTTP/1.1\r\nHost: c\r\nX-Odd: a\x0bb\r\nAuthorization: {token}\r\n"
        "Connection: close\r\n\r\n".encode(),
    )
    assert raw.startswith(b"HTTP/1.1 400"), raw[:200]
    assert b'"code":"bad_request"' in raw
    assert node.control.get("/v1/status").status_code == 200
    assert "Traceback" not in node.log_text()


def test_stored_content_type_with_control_character_is_refused(
    node: RunningNode, tmp_path: Path
) -> None:
    """A content type is sent back as a header later: one that cannot be sent is not stored."""
    app = make_app(
        tmp_path / "odd",
        """
        app: odd-ctype
        functions:
          store-odd:
            handler: h.py:handler
            role:
              statements:
                - {effect: allow, actions: ["objects:PutObject"], resources: ["objects:odd/*"]}
        """,
        {
            "h.py": """
            def handler(event, context):
                try:
                    context.objects.put("odd", "k", b"x", content_type="text/plain\\x0bx")
                except Exception as exc:
                    return getattr(exc, "code", type(exc).__name__)
                return "stored"
            """
        },
    )
    node.deploy_ok(app)
    r = node.control.post("/v1/functions/store-odd/invoke", json={"event": {}})
    assert r.status_code == 200 and r.json()["result"] == "invalid_argument", r.text
    r = node.control.get("/v1/objects/odd/k", params={"app": "odd-ctype"})
    assert r.status_code == 404
    assert "Traceback" not in node.log_text()
