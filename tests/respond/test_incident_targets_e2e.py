"""Whom a playbook acts on, on a real node (adversarial review of issue 17, F1, F2, F5, F10).

The attacks: (F1) guessing with a victim's public key id and a junk secret must not get the
victim's key revoked; (F2) a second attacker whose alert joins the open incident must be
contained like the first; (F5) a destructive step aimed by evidence waits for approval;
(F10) later steps wait behind a pending approval, and a resolved incident runs nothing more.
"""

from __future__ import annotations

import json
import time
from typing import Any

import pytest

from tests.conftest import RunningNode
from tests.respond.conftest import StartNode

MANIFEST = """
app: tg
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
PLAYBOOK = """
playbooks:
  - name: guessing
    match: {rules: [failed-auth-burst]}
    actions:
      - revoke_key: {target_from_evidence: true}
      - block_ip: {for: 1h}
      - rollback: {function: web, requires_approval: true}
      - snapshot_evidence: {window: 10m}
      - quarantine: {}
"""


@pytest.fixture(scope="module")
def tnode(proxied_node: StartNode) -> RunningNode:
    running, app = proxied_node("targets", MANIFEST, {"h.py": HANDLER})
    book = app.parent / "guessing.yaml"
    book.write_text(PLAYBOOK)
    out = running.cli("playbook", "apply", str(book))
    assert out.returncode == 0, out.stderr
    # applied, with the warning that quarantine: {} waits for approval
    assert "actions[4].quarantine takes its function" in " ".join(out.stdout.split())
    return running


def _wait(what: str, probe: Any, timeout: float = 90.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout}s")


def _key(node: RunningNode, name: str) -> str:
    out = node.cli("keys", "create", "--name", name, "--expires", "1d", "--json")
    assert out.returncode == 0, out.stderr
    return str(json.loads(out.stdout)["key"])


def _burst(node: RunningNode, address: str, key: str) -> None:
    for _ in range(22):
        r = node.gateway.get("/secure", headers={"x-forwarded-for": address, "x-api-key": key})
        assert r.status_code == 401, r.text


def _incident(node: RunningNode) -> list[dict[str, Any]]:
    return [
        i
        for i in node.control.get("/v1/incidents").json()["incidents"]
        if i["rule"] == "failed-auth-burst"
    ]


def _settled(node: RunningNode, alerts: int) -> list[dict[str, Any]]:
    """The incident once it holds ``alerts`` alerts and none of its steps is still planned."""
    return [
        i
        for i in _incident(node)
        if len(i["alerts"]) >= alerts and all(s["status"] != "planned" for s in i["steps"])
    ]


def _detail(rec: dict[str, Any]) -> dict[str, Any]:
    d = rec.get("detail") or {}
    return json.loads(d) if isinstance(d, str) else d


def test_guessing_with_a_victims_key_id_does_not_revoke_the_victims_key(
    tnode: RunningNode,
) -> None:
    victim = _key(tnode, "victim")
    key_id = victim.split("_")[1]
    forged = victim[:16] + "A" * 43  # the victim's public id, a junk secret
    _burst(tnode, "203.0.113.21", forged)
    (inc,) = _wait("the incident with its steps run", lambda: _settled(tnode, 1))
    # The refused attempts are the address's, the key id only claimed.
    denials = [
        e
        for e in tnode.audit()
        if e["kind"] == "gateway.auth" and _detail(e).get("source_ip") == "203.0.113.21"
    ]
    assert denials, "the refusals are audited"
    for e in denials:
        assert e["principal"] == "ip:203.0.113.21"
        assert _detail(e).get("claimed_key") == key_id
    assert inc["context"]["key"] is None
    # revoke_key found no key that proved possession: it fails, it never guesses.
    steps = {s["action"]: s for s in inc["steps"]}
    assert steps["revoke_key"]["status"] == "failed"
    assert steps["revoke_key"]["code"] == "missing_target"
    assert tnode.gateway.get("/secure", headers={"x-api-key": victim}).status_code == 200
    keys = json.loads(tnode.cli("keys", "list", "--json").stdout)["keys"]
    (row,) = [k for k in keys if key_id in json.dumps(k)]
    assert not row.get("revoked_at") and not row.get("revoked"), row
    # The address is blocked; the approval gate holds later steps in order (F10).
    assert steps["block_ip"]["status"] == "done"
    assert steps["rollback"]["status"] == "pending"
    assert steps["snapshot_evidence"]["status"] == "waiting"
    assert steps["quarantine"]["status"] == "waiting"


def test_a_second_attacker_joining_the_open_incident_is_contained_too(
    tnode: RunningNode,
) -> None:
    first, second = "203.0.113.31", "203.0.113.32"
    _burst(tnode, first, "rk_000000000001_" + "B" * 43)
    _wait("the first address blocked", lambda: _blocked(tnode, first))
    before = len(_incident(tnode)[0]["alerts"])
    _burst(tnode, second, "rk_000000000002_" + "C" * 43)
    _wait("the second address blocked", lambda: _blocked(tnode, second))
    assert tnode.gateway.get("/web", headers={"x-forwarded-for": second}).status_code == 403
    assert tnode.gateway.get("/web", headers={"x-forwarded-for": "198.51.100.1"}).status_code == 200
    (inc,) = _wait("the joined alert's steps run", lambda: _settled(tnode, before + 1))
    blocks = [s for s in inc["steps"] if s["action"] == "block_ip" and s["status"] == "done"]
    assert {s["params"]["address"] for s in blocks} >= {first, second}
    # steps already waiting with the same target are not repeated for the joined alerts
    assert [s["action"] for s in inc["steps"]].count("quarantine") == 1
    assert [s["action"] for s in inc["steps"]].count("rollback") == 1
    texts = [t["text"] for t in inc["timeline"]]
    assert "alert failed-auth-burst joined" in texts


def _blocked(node: RunningNode, address: str) -> bool:
    blocks = node.control.get("/v1/waf/blocks").json()["blocks"]
    return f"{address}/32" in {b["cidr"] for b in blocks}


def test_approval_runs_the_waiting_steps_and_a_resolved_incident_runs_nothing(
    tnode: RunningNode,
) -> None:
    (inc,) = _wait("the incident settled", lambda: _settled(tnode, 1))
    steps = {s["action"]: s for s in inc["steps"]}
    # quarantine: {} takes the function from evidence the attacker chose: it waits (F5)
    assert steps["quarantine"]["params"]["function"] == "secure"
    assert steps["quarantine"]["requires_approval"] is True
    assert steps["quarantine"]["approval_reason"] == "target_from_evidence"
    out = tnode.cli("incident", "approve", inc["id"][:12], str(steps["rollback"]["index"]))
    assert out.returncode == 0, out.stderr
    shown = json.loads(tnode.cli("incident", "show", inc["id"], "--json").stdout)
    after = {s["action"]: s for s in shown["steps"]}
    assert after["rollback"]["status"] in ("done", "failed")  # one version: nothing to roll to
    assert after["snapshot_evidence"]["status"] == "done"  # ran once the approval came
    assert after["quarantine"]["status"] == "pending"  # the next gate
    assert tnode.control.get("/v1/quarantines").json()["quarantines"] == []
    assert tnode.cli("incident", "resolve", inc["id"]).returncode == 0
    r = tnode.control.post(
        f"/v1/incidents/{inc['id']}/steps/{after['quarantine']['index']}/approve"
    )
    assert r.status_code == 409 and r.json()["code"] == "incident_resolved"
    assert tnode.control.get("/v1/quarantines").json()["quarantines"] == []
