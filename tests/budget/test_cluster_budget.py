"""Two nodes sharing a PostgreSQL state store count one budget together."""

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
app: shared
functions:
  metered:
    handler: h.py:handler
    budget: {invocations_per_hour: 4}
    triggers:
      - http: {method: GET, path: /metered, auth: none}
"""

HANDLER = """
def handler(event, context):
    return {"statusCode": 200, "body": "ran"}
"""


@pytest.fixture
def pg_url() -> Iterator[str]:
    with temporary_database() as url:
        yield url


def _used(node: RunningNode, field: str = "used") -> int:
    """Calls counted this hour: in the store (``used``), or as the node enforces it."""
    r = node.control.get("/v1/budgets", params={"function": "metered"})
    assert r.status_code == 200, r.text
    rows = r.json()["budgets"][0]["budgets"]
    return next(row[field] for row in rows if row["field"] == "invocations_per_hour")


def _wait(predicate, timeout: float = 20) -> None:  # type: ignore[no-untyped-def]
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return
        time.sleep(0.1)
    raise AssertionError("condition not reached")


@pytest.mark.postgres
def test_two_nodes_sharing_postgresql_count_together(pg_url: str, tmp_path: Path) -> None:
    key = base64.urlsafe_b64encode(os.urandom(32)).decode()
    env = {"RAMPARTS_STATE_URL": pg_url, "RAMPARTS_MASTER_KEY": key}
    a = RunningNode(tmp_path / "a", env).start()
    b = RunningNode(tmp_path / "b", env).start()
    try:
        a.deploy_ok(make_app(tmp_path / "app", MANIFEST, {"h.py": HANDLER}))
        _wait(lambda: _routed(b))  # b picked up the deploy (without calling the function)
        assert a.gateway.get("/metered").status_code == 200
        assert a.gateway.get("/metered").status_code == 200
        _wait(lambda: _used(b) == 2)  # a's calls reached the store; b reads them
        assert b.gateway.get("/metered").status_code == 200
        assert b.gateway.get("/metered").status_code == 200
        _wait(lambda: _used(a) == 4)
        # each node enforces every node's calls after its next flush (the overshoot bound)
        _wait(lambda: _used(a, "used_here") == 4 and _used(b, "used_here") == 4)
        for node in (a, b):
            r = node.gateway.get("/metered")
            assert r.status_code == 429 and r.json()["code"] == "budget_exhausted"
        runs = [r for r in a.invocations("metered") if r["status"] == "ok"]
        assert len(runs) == 4  # both nodes' records, in the shared store

        # an override set through one node applies on the other within a flush
        r = a.control.put("/v1/budgets/functions/metered", json={"invocations_per_hour": 10})
        assert r.status_code == 200, r.text
        _wait(lambda: b.gateway.get("/metered").status_code == 200)
    finally:
        a.close()
        b.close()


def _routed(node: RunningNode) -> bool:
    return node.control.get("/v1/budgets", params={"function": "metered"}).status_code == 200
