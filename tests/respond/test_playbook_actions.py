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
import hashlib
import json
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import create_engine, insert

from ramparts.secrets.store import secret_shares_t
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
  reader:
    handler: h.py:reader
    secrets: [shared-token]
    triggers:
      - http: {method: GET, path: /reader, auth: none}
"""
SLOW = """
def slow(event, context):
    import time
    if (event.get("queryStringParameters") or {}).get("wait"):
        time.sleep(10)
    return {"statusCode": 200, "body": "slow"}

def reader(event, context):
    import hashlib
    value = context.secrets.get("shared-token")
    return {"statusCode": 200, "body": hashlib.sha256(value.encode()).hexdigest()}
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


SHARED_BOOK = """
playbooks:
  - name: shared-leak
    match: {rules: [failed-auth-burst]}
    actions:
      - rotate_secret: {secret: shared-token, app: act}
"""


def _sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_rotate_secret_of_a_shared_secret_rotates_the_owners(
    anode: RunningNode, tmp_path: Path
) -> None:
    """irp6: app ``act`` reads ``shared-token`` because app ``owner`` shares it.  The step
    rotates owner's secret (the value act's handler reads, and the one that leaked), creates
    no ``shared-token`` in act (which would hide the shared one from act and leave the leaked
    value in place), and the dry run, the incident and the audit record name the owner."""
    for inc in anode.control.get("/v1/incidents", params={"state": "open"}).json()["incidents"]:
        assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
    for book in anode.control.get("/v1/playbooks").json()["playbooks"]:
        anode.control.delete(f"/v1/playbooks/{book['name']}")
    leaked = "leaked-shared-value-0612"
    put = anode.control.put(
        "/v1/secrets/shared-token", params={"app": "owner"}, json={"value": leaked}
    )
    assert put.status_code == 200, put.text
    shared = anode.control.post(
        "/v1/secrets/shared-token/share", params={"app": "owner"}, json={"with": "act"}
    )
    assert shared.status_code == 200, shared.text
    # the dry run: fine, and it names the owner whose secret would change
    path = tmp_path / "shared.yaml"
    path.write_text(SHARED_BOOK)
    dry = anode.cli(
        "playbook", "dry-run", "--file", str(path), "--rule", "failed-auth-burst", "--json"
    )
    assert dry.returncode == 0, dry.stdout + dry.stderr
    (step,) = json.loads(dry.stdout)["playbooks"][0]["steps"]
    assert "would_fail" not in step, step
    reach = step["would_reach"]
    assert (reach["owner"], reach["via"], reach["shared_with"]) == ("owner", "share", ["act"])
    assert "app 'owner''s secret is rotated" in reach["note"]
    table = anode.cli("playbook", "dry-run", "--file", str(path), "--rule", "failed-auth-burst")
    assert table.returncode == 0, table.stderr
    assert "reads secret 'shared-token' through a share" in " ".join(table.stdout.split())
    assert leaked not in dry.stdout + table.stdout
    # the playbook runs on a real alert
    r = anode.control.post("/v1/playbooks", json={"source": SHARED_BOOK, "file": "s.yaml"})
    assert r.status_code == 200, r.text
    assert r.json()["applied"][0]["warnings"] == []
    created = anode.control.post("/v1/keys", json={"name": "victim5", "app": "act"}).json()
    _guess(anode, created["id"], "198.51.100.27")
    inc = _incident(anode)
    assert [(s["action"], s["status"]) for s in inc["steps"]] == [("rotate_secret", "done")]
    result = inc["steps"][0]["result"]
    assert (result["app"], result["owner"], result["via"]) == ("act", "owner", "share")
    done = [e["text"] for e in inc["timeline"] if e.get("step") == 1]
    assert any("app 'owner''s secret is rotated" in text for text in done), inc["timeline"]
    # owner's secret has a new version made by the rotation; act has no secret of its own
    versions = anode.control.get(
        "/v1/secrets/shared-token/versions", params={"app": "owner"}
    ).json()["versions"]
    assert [(v["version"], v["source"]) for v in versions] == [(1, "set"), (2, "rotate")]
    assert result["version"] == 2
    own = anode.control.get("/v1/secrets", params={"app": "act"}).json()["secrets"]
    assert "shared-token" not in [s["name"] for s in own]
    assert anode.control.get(
        "/v1/secrets/shared-token", params={"app": "act"}
    ).json()["code"] == "secret_not_found"
    # act's handler reads the new value (the owner's current one), not the leaked one
    new = anode.control.get("/v1/secrets/shared-token", params={"app": "owner"}).json()
    assert new["version"] == 2 and new["value"] != leaked
    read = anode.gateway.get("/reader")
    assert read.status_code == 200, read.text
    assert read.text == _sha(new["value"]) != _sha(leaked)
    # the audit record names the owner's secret and that it was reached through a share
    (rotated,) = [
        e
        for e in anode.audit()
        if e["kind"] == "secrets.put" and e["principal"] == "playbook:shared-leak"
    ]
    assert rotated["resource"] == "secret:owner/shared-token"
    detail = rotated["detail"]
    assert (detail["app"], detail["read_by"], detail["via"]) == ("owner", "act", "share")
    assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
    assert anode.control.delete("/v1/playbooks/shared-leak").status_code == 200
    # a second app sharing a secret of that name with act (share refuses it; a direct write
    # to the state store does not): act's functions then read neither (SecretStore.resolve),
    # and the step fails naming both owners
    put = anode.control.put(
        "/v1/secrets/shared-token", params={"app": "owner2"}, json={"value": "second-0612"}
    )
    assert put.status_code == 200, put.text
    engine = create_engine(f"sqlite:///{anode.data_dir / 'state.db'}")
    with engine.begin() as conn:
        conn.execute(
            insert(secret_shares_t).values(
                owner="owner2", name="shared-token", reader="act", created_at=time.time()
            )
        )
    engine.dispose()
    dry = anode.cli(
        "playbook", "dry-run", "--file", str(path), "--rule", "failed-auth-burst", "--json"
    )
    assert dry.returncode == 1, dry.stdout + dry.stderr
    (step,) = json.loads(dry.stdout)["playbooks"][0]["steps"]
    assert step["would_fail_code"] == "secret_share_ambiguous"
    assert step["would_fail"].startswith(
        "app 'act' has no secret 'shared-token' of its own and apps 'owner', 'owner2' each "
        "share one with it, so it reads none of them"
    ), step
    # run on an alert, the step fails with the same text and rotates neither
    r = anode.control.post("/v1/playbooks", json={"source": SHARED_BOOK, "file": "s.yaml"})
    assert r.status_code == 200, r.text
    created = anode.control.post("/v1/keys", json={"name": "victim6", "app": "act"}).json()
    _guess(anode, created["id"], "198.51.100.28")
    inc = _incident(anode)
    (failed,) = inc["steps"]
    assert (failed["status"], failed["code"]) == ("failed", "secret_share_ambiguous")
    assert failed["error"] == step["would_fail"]
    for app, count in (("owner", 2), ("owner2", 1)):
        got = anode.control.get("/v1/secrets/shared-token/versions", params={"app": app})
        assert len(got.json()["versions"]) == count
    assert anode.cli("incident", "resolve", inc["id"]).returncode == 0
    assert anode.control.delete("/v1/playbooks/shared-leak").status_code == 200
