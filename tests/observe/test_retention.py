"""Invocation retention on a real node: aged records go, recent ones stay, bad values refused."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.store.sql import SQLStore
from tests.conftest import RunningNode, make_app
from tests.store.test_invocations import DAY, row

APP = """
app: keep
functions:
  keeper:
    handler: h.py:handler
"""


def _age_records(node: RunningNode, count: int, age: float) -> list[str]:
    """Write ``count`` records of ``keeper`` that started ``age`` seconds ago, straight
    into the node's SQLite state store (as an older node would have left them)."""
    store = SQLStore(f"sqlite:///{node.data_dir / 'state.db'}")
    try:
        rids = [f"aged-{age:.0f}-{i}" for i in range(count)]
        store.add_invocations([row(rid, time.time() - age, function="keeper") for rid in rids])
        return rids
    finally:
        store.close()


def _wait_gone(node: RunningNode, rids: list[str], timeout: float = 60.0) -> list[dict[str, Any]]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = node.invocations("keeper")
        if not {r["request_id"] for r in rows} & set(rids):
            return rows
        time.sleep(0.3)
    raise AssertionError(f"aged records still there after {timeout}s:\n{node.log_text()}")


@pytest.fixture(scope="module")
def keeper(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("retention")
    node = RunningNode(base / "data")
    node.start()
    try:
        node.deploy_ok(make_app(base / "app", APP, {"h.py": "def handler(e, c):\n    return 1\n"}))
        yield node
    finally:
        node.close()


def test_default_retention_prunes_older_than_7d_at_start_and_keeps_recent(
    keeper: RunningNode,
) -> None:
    r = keeper.control.post("/v1/functions/keeper/invoke", json={"event": {}})
    assert r.status_code == 200, r.text
    recent = keeper.wait_invocations("keeper", 1)[0]["request_id"]
    keeper.stop()
    aged = _age_records(keeper, 12, 8 * DAY)
    young = _age_records(keeper, 2, 6 * DAY)  # inside the default 7 days
    keeper.start()
    left = {r["request_id"] for r in _wait_gone(keeper, aged)}
    assert recent in left and set(young) <= left
    pruned = [e for e in keeper.audit() if e["kind"] == "invocations.prune"]
    assert pruned and pruned[-1]["detail"]["deleted"] == 12


def test_a_short_retention_prunes_periodically_while_running(keeper: RunningNode) -> None:
    keeper.stop()
    keeper.env["RAMPARTS_RETAIN_INVOCATIONS"] = "30s"  # runs every 3 s
    try:
        keeper.start()
        # written after the start-up run: only a later, periodic run removes them
        aged = _age_records(keeper, 5, DAY)
        assert set(aged) <= {r["request_id"] for r in keeper.invocations("keeper")}
        _wait_gone(keeper, aged)
    finally:
        keeper.env.pop("RAMPARTS_RETAIN_INVOCATIONS")


@pytest.mark.parametrize(
    ("args", "env", "named"),
    [
        (["--retain-invocations", "7x"], {}, "--retain-invocations"),
        ([], {"RAMPARTS_RETAIN_INVOCATIONS": "soon"}, "RAMPARTS_RETAIN_INVOCATIONS"),
        (["--log-format", "xml"], {}, "--log-format"),
    ],
)
def test_bad_values_refuse_to_start_naming_the_option(
    tmp_path: Path, args: list[str], env: dict[str, str], named: str
) -> None:
    node = RunningNode(tmp_path / "data", env)
    out = node.cli("up", "--port", str(node.port), "--admin-port", str(node.admin_port), *args)
    assert out.returncode != 0 and named in out.stderr, out.stderr
    assert "Traceback" not in out.stderr + out.stdout
    assert not (tmp_path / "data").exists()  # nothing was created
