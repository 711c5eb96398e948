"""The control API: admin token, JSON errors, status."""

from __future__ import annotations

import httpx

from tests.conftest import RunningNode


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
