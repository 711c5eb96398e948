"""Playbook steps on a real node, third adversarial review of incident response (F1, F4, F5).

The attacks: (F1) a step whose target the alert does not name (``revoke_key: {}`` when only
an address failed) must fail ``missing_target`` at once, not wait for an approval that can
never make it run, and must not hold back the ``block_ip`` after it; (F4) ``block_ip`` from
a playbook or ``waf block`` must not block a trusted proxy's own address (or a range holding
one) without ``force``; (F5) an attacker with many addresses must not grow one incident
without bound: alerts are counted, block_ip steps capped, and the incident escalates.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.containment.runner import MAX_BLOCK_STEPS, MAX_JOIN_ENTRIES
from tests.conftest import RunningNode, make_app
from tests.respond.conftest import StartNode

MANIFEST = """
app: lim
functions:
  web:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /web, auth: none}
  secure:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /secure, auth: api_key}
"""
HANDLER = """
def web(event, context):
    return {"statusCode": 200, "body": "served"}
"""
# revoke_key: {} without target_from_evidence would wait for approval if the alert named a
# key; a junk key proves nothing, so the alert names none.
PLAYBOOK = """
playbooks:
  - name: fab
    match: {rules: [failed-auth-burst]}
    actions:
      - snapshot_evidence: {window: 10m}
      - revoke_key: {}
      - block_ip: {for: 1h, reason: fab}
"""


def _wait(what: str, probe: Any, timeout: float = 120.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout}s")


def _burst(node: RunningNode, address: str, n: int = 22) -> None:
    key = "rk_000000000000_" + "A" * 43
    for _ in range(n):
        r = node.gateway.get("/secure", headers={"x-forwarded-for": address, "x-api-key": key})
        assert r.status_code in (401, 403), r.text


def _incidents(node: RunningNode) -> list[dict[str, Any]]:
    return [
        i
        for i in node.control.get("/v1/incidents").json()["incidents"]
        if i["rule"] == "failed-auth-burst"
    ]


def _blocks(node: RunningNode) -> set[str]:
    return {b["cidr"] for b in node.control.get("/v1/waf/blocks").json()["blocks"]}


@pytest.fixture(scope="module")
def fnode(proxied_node: StartNode) -> RunningNode:
    running, app = proxied_node("limits", MANIFEST, {"h.py": HANDLER})
    book = app.parent / "fab.yaml"
    book.write_text(PLAYBOOK)
    out = running.cli("playbook", "apply", str(book))
    assert out.returncode == 0, out.stderr
    return running


def test_a_step_without_a_target_fails_at_once_and_does_not_hold_back_the_block(
    fnode: RunningNode,
) -> None:
    attacker = "203.0.113.50"
    _burst(fnode, attacker)
    _wait("the first attacker blocked", lambda: f"{attacker}/32" in _blocks(fnode))
    assert fnode.gateway.get("/web", headers={"x-forwarded-for": attacker}).status_code == 403
    (inc,) = _incidents(fnode)
    steps = {s["action"]: s for s in inc["steps"]}
    assert steps["revoke_key"]["status"] == "failed"
    assert steps["revoke_key"]["code"] == "missing_target"
    assert steps["revoke_key"]["requires_approval"] is False
    assert "approval_reason" not in steps["revoke_key"]
    assert steps["block_ip"]["status"] == "done"
    assert steps["snapshot_evidence"]["status"] == "done"
    # the dry run says the same: no approval asked for a step that cannot run
    out = fnode.cli("playbook", "dry-run", "fab", "--rule", "failed-auth-burst", "--json")
    assert out.returncode == 0, out.stderr
    planned = {s["action"]: s for s in json.loads(out.stdout)["steps"]}
    assert planned["revoke_key"]["requires_approval"] is False
    assert planned["revoke_key"]["error"] == "the alert names no API key; set key:"


def test_many_addresses_are_counted_capped_and_escalate(fnode: RunningNode) -> None:
    _wait("the first incident", lambda: _incidents(fnode))
    addresses = [f"198.51.100.{i}" for i in range(1, MAX_BLOCK_STEPS + 4)]
    for address in addresses:
        _burst(fnode, address, 21)

    def settled() -> list[dict[str, Any]]:
        return [
            i
            for i in _incidents(fnode)
            if i.get("alert_count", 0) >= len(addresses) + 1
            and i.get("escalated")
            and all(s["status"] != "planned" for s in i["steps"])
        ]

    (inc,) = _wait("every alert joined and the incident escalated", settled, timeout=240)
    blocks = [s for s in inc["steps"] if s["action"] == "block_ip"]
    assert len(blocks) == MAX_BLOCK_STEPS
    assert inc["steps_not_taken"] >= len(addresses) + 1 - MAX_BLOCK_STEPS
    assert inc["severity"] == "critical"
    # the failed revoke_key (no target) is recorded once, not once per address
    assert [s["action"] for s in inc["steps"]].count("revoke_key") == 1
    kinds = [t["kind"] for t in inc["timeline"]]
    assert kinds.count("escalated") == 1
    joined = [t for t in inc["timeline"] if t["text"] == "alert failed-auth-burst joined"]
    assert len(joined) == MAX_JOIN_ENTRIES
    (more,) = [t for t in inc["timeline"] if t["kind"] == "alerts_joined"]
    assert more["joined"] == inc["alert_count"] - 1 - MAX_JOIN_ENTRIES
    assert any(t["text"] == "incident opened" for t in inc["timeline"])  # the start is kept
    # the run-time block list gained no more than the cap
    blocked = {a for a in addresses if f"{a}/32" in _blocks(fnode)}
    assert len(blocked) <= MAX_BLOCK_STEPS - 1  # one block went to the first attacker
    escalations = [e for e in fnode.audit() if e["kind"] == "incident.escalate"]
    assert len(escalations) == 1 and escalations[0]["resource"] == f"incident:{inc['id']}"


# -- F4: a trusted proxy is not blocked without force --------------------------------------------

PROXY = "192.0.2.4"
BLOCK_PROXY = """
playbooks:
  - name: blk
    match: {rules: [failed-auth-burst]}
    actions:
      - block_ip: {for: 10m, reason: stuffing}
"""


class TwoProxyNode(RunningNode):
    """Trusts X-Forwarded-For from loopback (the test client) and from the 192.0.2.0/29 LB."""

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1,192.0.2.0/29"]


@pytest.fixture(scope="module")
def pnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[RunningNode, Path]]:
    base = tmp_path_factory.mktemp("proxyguard")
    running = TwoProxyNode(base / "data").start()
    try:
        app = make_app(base / "app", MANIFEST, {"h.py": HANDLER})
        running.deploy_ok(app)
        yield running, base
    finally:
        running.close()


@pytest.mark.parametrize(
    "cidr", [PROXY, "192.0.2.0/24", "192.0.2.4/30"], ids=["own", "wider", "part"]
)
def test_waf_block_refuses_a_trusted_proxy_without_force(
    pnode: tuple[RunningNode, Path], cidr: str
) -> None:
    node, _ = pnode
    out = node.cli("waf", "block", cidr, "--for", "1m", "--reason", "t")
    assert out.returncode != 0
    assert "trusted proxy" in " ".join(out.stderr.split())
    assert not any(b.startswith("192.0.2.") for b in _blocks(node))
    forced = node.cli("waf", "block", cidr, "--for", "1m", "--reason", "t", "--force")
    assert forced.returncode == 0, forced.stderr
    assert node.cli("waf", "unblock", str(cidr if "/" in cidr else f"{cidr}/32")).returncode == 0


def test_a_playbook_does_not_block_a_trusted_proxy_without_force(
    pnode: tuple[RunningNode, Path],
) -> None:
    node, base = pnode
    book = base / "blk.yaml"
    book.write_text(BLOCK_PROXY)
    assert node.cli("playbook", "apply", str(book)).returncode == 0
    # the forwarded chain names only trusted hops: the proxy's own address stands
    _burst(node, PROXY)

    def settled() -> list[dict[str, Any]]:
        return [i for i in _incidents(node) if i["steps"] and i["steps"][0]["status"] != "planned"]

    (inc,) = _wait("the playbook ran", settled)
    assert inc["context"]["source_ip"] == PROXY
    (step,) = inc["steps"]
    assert step["status"] == "failed" and step["code"] == "force_required", step
    assert "trusted proxy" in step["error"]
    assert not any(b.startswith("192.0.2.") for b in _blocks(node))
    assert node.gateway.get("/web", headers={"x-forwarded-for": PROXY}).status_code == 200
    # a dry run for that alert marks the step refused
    dry = node.control.post("/v1/playbooks/blk/dry-run", json={"alert": inc["alerts"][0]}).json()
    assert "trusted proxy" in dry["steps"][0]["refused"]
