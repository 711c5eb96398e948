"""Two nodes sharing PostgreSQL state: a quarantine made on one is followed by the other (its
HTTP route answers 503 there too), and a release on the other ends it on both."""

from __future__ import annotations

import base64
import os
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app
from tests.postgres import temporary_database

MANIFEST = """
app: qc
functions:
  web:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /web, auth: none}
"""
HANDLER = 'def web(event, context):\n    return {"statusCode": 200, "body": "ok"}\n'


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def _until(node: RunningNode, status: int, timeout: float = 30.0) -> int:
    deadline = time.monotonic() + timeout
    got = -1
    while time.monotonic() < deadline:
        got = node.gateway.get("/web").status_code
        if got == status:
            return got
        time.sleep(0.2)
    return got


@pytest.mark.postgres
def test_quarantine_is_followed_by_every_node(pg_url: str, tmp_path: Path) -> None:
    master = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = {"RAMPARTS_STATE_URL": pg_url, "RAMPARTS_MASTER_KEY": master}
    a = RunningNode(tmp_path / "a", env).start()
    b = RunningNode(tmp_path / "b", env).start()
    try:
        a.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER}))
        assert _until(b, 200) == 200
        r = a.control.post("/v1/quarantines", json={"function": "web", "reason": "cluster"})
        assert r.status_code == 200, r.text
        assert a.gateway.get("/web").status_code == 503
        assert _until(b, 503) == 503
        listed = b.control.get("/v1/quarantines").json()["quarantines"]
        assert [q["function"] for q in listed] == ["web"]
        assert b.control.delete("/v1/quarantines/web").status_code == 200
        assert b.gateway.get("/web").status_code == 200
        assert _until(a, 200) == 200
    finally:
        a.close()
        b.close()
