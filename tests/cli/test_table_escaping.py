"""Text an unauthenticated caller stored (an audit record's resource, an alert's group) reaches
the operator's terminal through CLI tables escaped: no ESC, newline or bidi control is printed
raw, and ``--json`` keeps the exact text."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator

import httpx
import pytest

from tests.conftest import RunningNode

# ESC [31m (red), a newline that would forge a table row, and a right-to-left override
EVIL_PATH = "/v1/x%1b%5b31mRED%0aFORGED%e2%80%ae"
EVIL = "/v1/x\x1b[31mRED\nFORGED\u202e"
RAW = ("\x1b", "\u202e", "\nFORGED")

RULE = """
rules:
  - id: probe-by-resource
    title: Refused admin-token request, grouped by the path asked for
    description: one refused control-API request per path
    severity: low
    category: A2
    kind: threshold
    match:
      kind: control.auth
      decision: deny
    group_by: [resource]
    threshold: 1
    window: 60s
    suppress: 10m
"""


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("escape")
    rules = base / "rules"
    rules.mkdir()
    (rules / "probe.yaml").write_text(RULE)
    running = RunningNode(base / "data", {"RAMPARTS_DETECTIONS": str(rules)})
    running.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{running.admin_port}", timeout=30) as anon:
            r = anon.get(EVIL_PATH, headers={"authorization": "Bearer wrong"})
            assert r.status_code == 401, r.text
        yield running
    finally:
        running.close()


def _wait(node: RunningNode, field: str, *args: str) -> list[dict[str, object]]:
    deadline = time.monotonic() + 60
    while True:
        out = node.cli(*args, "--json")
        assert out.returncode == 0, out.stderr
        rows = json.loads(out.stdout)
        found = [r for r in rows if EVIL in str(r.get(field))]  # --json: the exact text
        if found:
            return found
        assert time.monotonic() < deadline, rows
        time.sleep(0.3)


def _clean(stdout: str) -> None:
    for raw in RAW:
        assert raw not in stdout, repr(stdout)


def test_audit_log_list_escapes_the_stored_resource(node: RunningNode) -> None:
    _wait(node, "resource", "audit-log", "list")
    out = node.cli("audit-log", "list")
    assert out.returncode == 0, out.stderr
    _clean(out.stdout)


def test_alerts_escape_a_group_taken_from_the_resource(node: RunningNode) -> None:
    _wait(node, "group", "alerts")
    out = node.cli("alerts")
    assert out.returncode == 0, out.stderr
    _clean(out.stdout)
