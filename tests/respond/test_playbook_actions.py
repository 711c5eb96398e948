"""Playbook actions against a real node, driven by a real detection.

A stolen API key bound to another app probes a route again and again (``failed-auth-burst``
fires: the key proved possession, so its evidence names ``key:ID``); the playbook, which opts
in to taking the key from the evidence, revokes that key (the right secret is refused on the
next request), rotates a secret (a new version exists), and rolls the function's live alias
back (the old version serves); another lowers a function's rate and another's concurrency
(calls past them get 429 until ``ramparts throttle clear``).  (Guessing a key's secret names
no key: see test_incident_targets_e2e.)  A step that fails is recorded and later steps still
run; with ``stop_on_failure`` the rest are skipped.
"""

from __future__ import annotations

import concurrent.futures
import json
import time
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import RunningNode
from tests.respond.conftest import StartNode

MANIFEST = """
app: act
functions:
  web:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /web, auth: none}
  secure:
    handler: h.py:web
    triggers:
      - http: {method: GET, path: /secure, auth: api_key}
  slow:
    handler: h.py:slow
    concurrency: 4
    timeout: 30s
    triggers:
      - http: {method: GET, path: /slow, auth: none}
"""
SLOW = """
def slow(event, context):
    import time
    if (event.get("queryStringParameters") or {}).get("wait"):
        time.sleep(10)
    return {"statusCode": 200, "body": "slow"}
"""
V1 = 'def web(event, context):\n    return {"statusCode": 200, "body": "v1"}\n' + SLOW
V2 = 'def web(event, context):\n    return {"statusCode": 200, "body": "v2"}\n' + SLOW
PLAYBOOK = """
playbooks:
  - name: key-guessing
    match: {rules: [failed-auth-burst]}
    actions:
      - revoke_client: {target_from_evidence: true}
      - revoke_key: {target_from_evidence: true}
      - rotate_secret: {secret: api-token, app: act}
      - rollback: {function: web}
"""
STOPPING = """
playbooks:
  - name: stopping
    match: {rules: [failed-auth-burst]}
    stop_on_failure: true
    actions:
      - revoke_client: {target_from_evidence: true}
      - rollback: {function: web}
"""


@pytest.fixture(scope="module")
def anode(proxied_node: StartNode) -> RunningNode:
    running, app = proxied_node("actions", MANIFEST, {"h.py": V1})
    (app / "h.py").write_text(V2)
    running.deploy_ok(app)
    done = running.cli("secrets", "set", "api-token", "--app", "act", "--stdin", stdin="s0")
    assert done.returncode == 0, done.stderr
    return running


def _incident(node: RunningNode, timeout: float = 60.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        rows = [
            i
            for i in node.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]
            if i["steps"] and all(s["status"] not in ("planned",) for s in i["steps"])
        ]
        if rows:
            return rows[0]
        time.sleep(0.3)
    raise AssertionError("no incident with its steps run")


def _guess(node: RunningNode, key_id: str, source: str) -> None:
    """22 wrong secrets for one key id from ``source`` (each alert groups by address)."""
    for i in range(22):
        wrong = f"rk_{key_id}_{'A' * 40}{i:03d}"
        headers = {"x-api-key": wrong, "x-forwarded-for": source}
        assert node.gateway.get("/secure", headers=headers).status_code == 401


def _misuse(node: RunningNode, key: str, source: str) -> None:
    """22 requests with a real key of another app (refused 403: the key itself is proven)."""
    for _ in range(22):
        headers = {"x-api-key": key, "x-forwarded-for": source}
        assert node.gateway.get("/secure", headers=headers).status_code == 403


def test_playbook_revokes_key_rotates_secret_and_rolls_back(anode: RunningNode) -> None:
    assert anode.gateway.get("/web").text == "v2"
    created = anode.control.post("/v1/keys", json={"name": "stolen", "app": "other"}).json()
    key, key_id = created["key"], created["id"]
    versions_before = len(
        anode.control.get("/v1/secrets/api-token/versions", params={"app": "act"}).json()[
            "versions"
        ]
    )
    r = anode.control.post("/v1/playbooks", json={"source": PLAYBOOK, "file": "k.yaml"})
    assert r.status_code == 200, r.text
    _misuse(anode, key, "198.51.100.21")
    inc = _incident(anode)
    assert inc["context"]["key"] == key_id
    status = [(s["action"], s["status"]) for s in inc["steps"]]
    # revoke_client has no client to act on: recorded as failed, the rest still ran
    assert status == [
        ("revoke_client", "failed"),
        ("revoke_key", "done"),
        ("rotate_secret", "done"),
        ("rollback", "done"),
    ], inc["steps"]
    assert inc["steps"][0]["code"] == "missing_target"
    # the revoked key is refused on the next request (401 now: revoked, not wrong app)
    r = anode.gateway.get("/secure", headers={"x-api-key": key})
    assert r.status_code == 401
    # the rotated secret has a new version
    after = anode.control.get("/v1/secrets/api-token/versions", params={"app": "act"}).json()
    assert len(after["versions"]) == versions_before + 1
    # the rolled-back alias serves the old version
    deadline = time.monotonic() + 30
    while anode.gateway.get("/web").text != "v1" and time.monotonic() < deadline:
        time.sleep(0.2)
    assert anode.gateway.get("/web").text == "v1"
    audit = anode.audit()
    steps = [e for e in audit if e["kind"] == "incident.step"]
    assert [e["decision"] for e in steps] == ["deny", "allow", "allow", "allow"]
    principals = {
        e["principal"]
        for e in audit
        if e["kind"] in ("identity.api_key.revoke", "secrets.put", "registry.rollback")
    }
    assert principals >= {"playbook:key-guessing"}
    out = anode.cli("incident", "resolve", inc["id"])
    assert out.returncode == 0, out.stderr
    assert anode.control.delete("/v1/playbooks/key-guessing").status_code == 200


def test_stop_on_failure_skips_the_rest(anode: RunningNode, tmp_path: Path) -> None:
    book = tmp_path / "stopping.yaml"
    book.write_text(STOPPING)
    assert anode.cli("playbook", "apply", str(book)).returncode == 0
    before = anode.control.get("/v1/functions/web/versions").json()
    created = anode.control.post("/v1/keys", json={"name": "victim2", "app": "act"}).json()
    _guess(anode, created["id"], "198.51.100.22")
    inc = _incident(anode)
    assert [(s["action"], s["status"]) for s in inc["steps"]] == [
        ("revoke_client", "failed"),
        ("rollback", "skipped"),
    ]
    assert anode.control.get("/v1/functions/web/versions").json() == before
    listed = json.loads(anode.cli("incident", "list", "--json").stdout)
    assert {i["state"] for i in listed} == {"open", "resolved"}


CLIENT_BOOK = """
playbooks:
  - name: client-guessing
    match: {rules: [failed-auth-burst]}
    actions:
      - revoke_client: {target_from_evidence: true}
"""


def test_playbook_revokes_a_guessed_oauth_client(anode: RunningNode) -> None:
    for inc in anode.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]:
        assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
    anode.control.delete("/v1/playbooks/stopping")
    r = anode.control.post("/v1/playbooks", json={"source": CLIENT_BOOK, "file": "c.yaml"})
    assert r.status_code == 200, r.text
    out = anode.cli("clients", "create", "--name", "svc", "--scopes", "a", "--json")
    assert out.returncode == 0, out.stderr
    client = json.loads(out.stdout)
    cid, secret = client["client_id"], client["client_secret"]
    form = {"grant_type": "client_credentials"}
    assert anode.gateway.post("/oauth/token", data=form, auth=(cid, secret)).status_code == 200
    for _ in range(22):  # the right secret, a scope it was never granted: the client is proven
        r = anode.gateway.post(
            "/oauth/token",
            data={**form, "scope": "admin"},
            auth=(cid, secret),
            headers={"x-forwarded-for": "198.51.100.23"},
        )
        assert r.status_code == 400
    inc = _incident(anode)
    assert inc["context"]["client"] == cid
    assert [(s["action"], s["status"]) for s in inc["steps"]] == [("revoke_client", "done")]
    r = anode.gateway.post("/oauth/token", data=form, auth=(cid, secret))
    assert r.status_code == 401 and r.json()["error"] == "invalid_client"


def test_alerts_join_the_open_incident_and_high_alerts_open_one_without_a_playbook(
    anode: RunningNode,
) -> None:
    anode.control.delete("/v1/playbooks/client-guessing")
    assert anode.control.get("/v1/playbooks").json()["playbooks"] == []
    (open_one,) = anode.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]
    # the same rule against no function (the token endpoint): joins the open incident
    for i in range(22):
        r = anode.gateway.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=("no-such-client", f"wrong-{i}"),
            headers={"x-forwarded-for": "198.51.100.24"},
        )
        assert r.status_code == 401

    def joined() -> bool:
        doc = anode.control.get(f"/v1/incidents/{open_one['id']}").json()
        return len(doc["alerts"]) == 2

    deadline = time.monotonic() + 60
    while not joined() and time.monotonic() < deadline:
        time.sleep(0.3)
    assert joined()
    assert anode.cli("incident", "resolve", open_one["id"]).returncode == 0
    created = anode.control.post("/v1/keys", json={"name": "victim3", "app": "act"}).json()
    _guess(anode, created["id"], "198.51.100.25")  # a new incident (high), with no playbook
    deadline = time.monotonic() + 60
    fresh: list[dict[str, Any]] = []
    while not fresh and time.monotonic() < deadline:
        fresh = anode.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]
        time.sleep(0.3)
    assert len(fresh) == 1 and fresh[0]["id"] != open_one["id"]
    assert fresh[0]["severity"] == "high" and fresh[0]["playbooks"] == []
    assert fresh[0]["steps"] == []


LOWERING = """
playbooks:
  - name: slow-down
    match: {rules: [failed-auth-burst]}
    actions:
      - lower_rate: {function: web, rate: 3/minute}
      - lower_concurrency: {function: slow, concurrency: 1}
"""


def test_playbook_lowers_rate_and_concurrency_until_cleared(anode: RunningNode) -> None:
    """The two limit actions as playbook steps (not ``ramparts throttle``): the steps end
    ``done``, the limits hold, and ``ramparts throttle clear`` restores both."""
    for inc in anode.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]:
        assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
    for book in anode.control.get("/v1/playbooks").json()["playbooks"]:
        anode.control.delete(f"/v1/playbooks/{book['name']}")
    assert anode.gateway.get("/slow").status_code == 200  # warm: no cold start below
    r = anode.control.post("/v1/playbooks", json={"source": LOWERING, "file": "l.yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["applied"][0]["warnings"] == []  # named targets: nothing waits
    created = anode.control.post("/v1/keys", json={"name": "victim4", "app": "act"}).json()
    _guess(anode, created["id"], "198.51.100.26")
    inc = _incident(anode)
    assert [(s["action"], s["status"]) for s in inc["steps"]] == [
        ("lower_rate", "done"),
        ("lower_concurrency", "done"),
    ], inc["steps"]
    try:
        rows = json.loads(anode.cli("throttle", "list", "--json").stdout)
        listed = {r["function"]: r for r in rows}
        assert listed["web"]["rate"] == "3/minute" and listed["slow"]["concurrency"] == 1
        assert {listed["web"]["incident"], listed["slow"]["incident"]} == {inc["id"]}
        # the lowered rate: three calls served, the rest refused with the documented 429
        codes = [anode.gateway.get("/web").status_code for _ in range(5)]
        assert codes[:3] == [200, 200, 200] and codes[3:] == [429, 429], codes
        refused = anode.gateway.get("/web")
        assert refused.status_code == 429 and refused.json()["code"] == "function_throttled"
        # the lowered concurrency: a second call while the first holds the only slot is refused
        with concurrent.futures.ThreadPoolExecutor(1) as pool:
            first = pool.submit(anode.gateway.get, "/slow", params={"wait": "1"})
            second = None
            for _ in range(40):  # the first call holds the slot for 10 s; look while it does
                time.sleep(0.25)
                second = anode.gateway.get("/slow")
                if second.status_code == 429:
                    break
            assert second is not None and second.status_code == 429, second.text
            assert second.json()["code"] == "function_throttled"
            assert first.result().status_code == 200
    finally:
        cleared = [anode.cli("throttle", "clear", fn).returncode for fn in ("web", "slow")]
    assert cleared == [0, 0]
    # cleared: both serve again, with no lowered limit left
    assert [anode.gateway.get("/web").status_code for _ in range(5)] == [200] * 5
    assert anode.gateway.get("/slow").status_code == 200
    assert json.loads(anode.cli("throttle", "list", "--json").stdout) == []
    lowered = [e for e in anode.audit() if e["kind"] == "respond.lower"]
    assert {e["principal"] for e in lowered} == {"playbook:slow-down"}
    assert {e["resource"] for e in lowered} == {"function:web", "function:slow"}
    assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
