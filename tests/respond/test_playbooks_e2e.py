"""Playbooks and incidents on a real node.

End to end: a credential-stuffing burst (many refused API keys from one address, the shipped
``failed-auth-burst`` rule) opens an incident whose playbook blocks that address in the WAF,
snapshots evidence into a signed bundle, emails a real local SMTP server (aiosmtpd) and leaves
the quarantine waiting for approval; the export verifies offline and fails when one byte
changes.  Also: a dry run changes nothing, and a bad playbook is refused with file and field.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller

from tests.conftest import RunningNode, free_port
from tests.respond.conftest import StartNode
from tests.respond.test_notifier import Receiver

ATTACKER = "203.0.113.9"
MANIFEST = """
app: pb
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
    print(event)  # captured output: what a debugging handler leaks into invocation records
    return {"statusCode": 200, "body": "served"}
"""
# Secret-shaped request parts a handler may print; an export must carry none of them.
LEAKS = {
    "x-custom-auth": "customsecret321",
    "cookie": "session=cookiesecret456",
    "authorization": "Bearer bearersecret987654",
}
PLAYBOOK = """
playbooks:
  - name: stuffing
    description: contain credential stuffing
    match: {rules: [failed-auth-burst], severity: high}
    actions:
      - block_ip: {for: 1h, reason: credential stuffing}
      - snapshot_evidence: {window: 10m}
      - notify: {webhook: true, email: [oncall@example.com]}
      - quarantine: {function: web, requires_approval: true}
"""


class _Inbox:
    def __init__(self) -> None:
        self.messages: list[Any] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(envelope)
        return "250 OK"


@pytest.fixture(scope="module")
def smtp() -> Iterator[tuple[_Inbox, int]]:
    inbox = _Inbox()
    port = free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    try:
        yield inbox, port
    finally:
        controller.stop()


@pytest.fixture(scope="module")
def hook() -> Iterator[Receiver]:
    receiver = Receiver()
    try:
        yield receiver
    finally:
        receiver.close()


@pytest.fixture(scope="module")
def pnode(proxied_node: StartNode, smtp: tuple[_Inbox, int], hook: Receiver) -> RunningNode:
    env = {"RAMPARTS_SMTP_URL": f"smtp://127.0.0.1:{smtp[1]}", "RAMPARTS_ALERT_WEBHOOK": hook.url}
    return proxied_node("playbooks", MANIFEST, {"h.py": HANDLER}, env)[0]


def _wait(what: str, probe: Any, timeout: float = 60.0) -> Any:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        found = probe()
        if found:
            return found
        time.sleep(0.3)
    raise AssertionError(f"{what}: not within {timeout}s")


def test_bad_playbook_is_refused_naming_file_and_field(pnode: RunningNode, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("playbooks:\n  - name: x\n    actions:\n      - block_ip: {for: forever}\n")
    out = pnode.cli("playbook", "apply", str(bad))
    assert out.returncode != 0
    assert "bad.yaml" in out.stderr and "playbooks[0].actions[0].block_ip.for" in out.stderr
    assert "Traceback" not in out.stderr
    unknown = tmp_path / "unknown.yaml"
    unknown.write_text("playbooks:\n  - name: y\n    actions:\n      - reboot_server: {}\n")
    out = pnode.cli("playbook", "apply", str(unknown))
    assert out.returncode != 0 and "playbooks[0].actions[0].reboot_server" in out.stderr
    r = pnode.control.post(
        "/v1/playbooks",
        json={"source": "playbooks:\n  - name: z\n    actions: []\n", "file": "z.yaml"},
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_playbook"
    assert r.json()["field"] == "playbooks[0].actions"
    assert pnode.control.get("/v1/playbooks").json()["playbooks"] == []


def test_dry_run_reports_and_changes_nothing(pnode: RunningNode, tmp_path: Path) -> None:
    book = tmp_path / "dry.yaml"
    book.write_text(
        "playbooks:\n  - name: dry\n    match: {rules: [failed-auth-burst]}\n"
        "    actions:\n      - quarantine: {function: web}\n"
        "      - block_ip: {address: 198.51.100.7, for: 1h}\n"
        "      - block_ip: {address: 128.0.0.0/1, for: 1h}\n"
        "      - block_ip: {address: '2000::/3', for: 1h, force: true}\n"
    )
    assert pnode.cli("playbook", "apply", str(book)).returncode == 0
    audit_before = len(pnode.audit())
    out = pnode.cli("playbook", "dry-run", "dry", "--rule", "failed-auth-burst", "--json")
    assert out.returncode == 1, out.stderr  # a refused block_ip would fail: exit 1
    plan = json.loads(out.stdout)
    assert plan["matches"] is True and plan["changed"] is False
    assert [s["action"] for s in plan["steps"]] == ["quarantine"] + ["block_ip"] * 3
    assert plan["steps"][1]["params"]["address"] == "198.51.100.7/32"
    # the guard's refusals show in the dry run: half the IPv4 space needs force
    assert "refused" not in plan["steps"][1]
    assert "broader than /8" in plan["steps"][2]["refused"]
    assert plan["steps"][2]["would_fail_code"] == "force_required"
    assert plan["steps"][2]["would_fail"] == plan["steps"][2]["refused"]
    assert "refused" not in plan["steps"][3]  # forced
    assert plan["steps_failing"] == 1
    assert pnode.control.get("/v1/quarantines").json()["quarantines"] == []
    assert pnode.control.get("/v1/waf/blocks").json()["blocks"] == []
    assert pnode.control.get("/v1/incidents").json()["incidents"] == []
    assert pnode.gateway.get("/web").status_code == 200
    kinds = {e["kind"] for e in pnode.audit()[audit_before:]}
    assert not kinds & {"respond.quarantine", "waf.block", "incident.open", "incident.step"}
    assert pnode.control.delete("/v1/playbooks/dry").status_code == 200


UNAPPLIED = """
playbooks:
  - name: try-me
    match: {rules: [failed-auth-burst]}
    actions:
      - quarantine: {function: web}
      - block_ip: {address: 198.51.100.8, for: 1h}
      - rollback: {}
  - name: other
    match: {rules: [waf-block-burst]}
    actions:
      - lower_rate: {function: web, rate: 1/minute}
"""


def test_dry_run_of_a_file_plans_it_without_storing_it(pnode: RunningNode, tmp_path: Path) -> None:
    """``playbook dry-run --file``: a playbook is tried before it is live (verify-17 gap 4)."""
    book = tmp_path / "try.yaml"
    book.write_text(UNAPPLIED)
    stored_before = pnode.control.get("/v1/playbooks").json()["playbooks"]
    audit_before = len(pnode.audit())
    out = pnode.cli(
        "playbook", "dry-run", "--file", str(book), "--rule", "failed-auth-burst", "--json"
    )
    assert out.returncode == 0, out.stderr
    doc = json.loads(out.stdout)
    assert doc["file"] == "try.yaml" and doc["stored"] is False and doc["changed"] is False
    try_me, other = doc["playbooks"]
    assert (try_me["playbook"], try_me["matches"]) == ("try-me", True)
    assert (other["playbook"], other["matches"]) == ("other", False)
    assert [(s["action"], s["params"].get("function")) for s in try_me["steps"]] == [
        ("quarantine", "web"),
        ("block_ip", None),
        ("rollback", None),
    ]
    assert try_me["steps"][1]["params"]["address"] == "198.51.100.8/32"
    # a synthetic alert names no function: the rollback step would fail, and says why
    assert "names no function" in try_me["steps"][2]["error"]
    assert any("rollback takes its function" in w for w in doc["warnings"])
    # NAME picks one playbook of the file; the table form says nothing was stored
    text = pnode.cli(
        "playbook", "dry-run", "other", "--file", str(book), "--rule", "waf-block-burst"
    )
    assert text.returncode == 0, text.stderr
    flat = " ".join(text.stdout.split())
    assert "not applied; nothing was stored or changed" in flat
    assert "playbook other matches alert waf-block-burst" in flat and "try-me" not in flat
    missing = pnode.cli("playbook", "dry-run", "nope", "--file", str(book), "--rule", "x")
    assert missing.returncode != 0 and "has no playbook 'nope'" in missing.stderr
    # nothing stored, nothing acted, nothing audited as an action
    assert pnode.control.get("/v1/playbooks").json()["playbooks"] == stored_before
    assert pnode.control.get("/v1/quarantines").json()["quarantines"] == []
    assert pnode.control.get("/v1/waf/blocks").json()["blocks"] == []
    assert pnode.control.get("/v1/limits").json()["limits"] == []
    assert pnode.control.get("/v1/incidents").json()["incidents"] == []
    assert pnode.gateway.get("/web").status_code == 200
    kinds = {e["kind"] for e in pnode.audit()[audit_before:]}
    assert not kinds & {
        "playbook.apply",
        "respond.quarantine",
        "respond.lower",
        "waf.block",
        "registry.rollback",
        "incident.open",
        "incident.step",
    }, kinds


def test_dry_run_of_a_bad_file_is_refused_naming_file_and_field(
    pnode: RunningNode, tmp_path: Path
) -> None:
    bad = tmp_path / "bad-dry.yaml"
    bad.write_text("playbooks:\n  - name: x\n    actions:\n      - block_ip: {for: forever}\n")
    out = pnode.cli("playbook", "dry-run", "--file", str(bad), "--rule", "failed-auth-burst")
    assert out.returncode != 0
    assert "bad-dry.yaml" in out.stderr and "playbooks[0].actions[0].block_ip.for" in out.stderr
    assert "Traceback" not in out.stderr
    neither = pnode.cli("playbook", "dry-run", "--rule", "failed-auth-burst")
    assert neither.returncode != 0 and "--file FILE" in neither.stderr
    # the node checks the source itself too (a client that skips the local check)
    r = pnode.control.post(
        "/v1/playbooks/dry-run",
        json={
            "source": "playbooks:\n  - name: z\n    actions: []\n",
            "file": "z.yaml",
            "alert": {"rule": "failed-auth-burst", "severity": "high"},
        },
    )
    assert r.status_code == 400 and r.json()["code"] == "invalid_playbook"
    assert (r.json()["file"], r.json()["field"]) == ("z.yaml", "playbooks[0].actions")
    r = pnode.control.post("/v1/playbooks/dry-run", json={"source": UNAPPLIED, "alert": 7})
    assert r.status_code == 400 and r.json()["code"] == "invalid_alert"
    assert pnode.control.get("/v1/playbooks").json()["playbooks"] == []


TYPOS = """
playbooks:
  - name: typos
    match: {rules: [failed-auth-burst]}
    actions:
      - quarantine: {function: does-not-exist}
      - rollback: {function: web}
      - rotate_secret: {secret: nosuch, app: nosuchapp}
      - lower_rate: {function: nosuch, rate: 1/minute}
      - revoke_key: {key: nosuch}
      - revoke_client: {client: nosuch}
      - lower_concurrency: {function: web, concurrency: 2}
      - rotate_secret: {secret: db-pass, app: pb}
      - revoke_key: {key: KEY}
      - quarantine: {function: web, requires_approval: true}
  - name: elsewhere
    match: {rules: [waf-block-burst]}
    actions:
      - quarantine: {function: nosuch-either}
"""
# What the real actions answer for those targets (adv-irp4 F1): the dry run says the same.
WOULD_FAIL = [
    ("quarantine", "function_not_found", "function 'does-not-exist' not found"),
    ("rollback", "not_found", "function 'web' has no earlier version to roll back to"),
    ("rotate_secret", "secret_not_found", "secret 'nosuch' of app 'nosuchapp' not found"),
    ("lower_rate", "function_not_found", "function 'nosuch' not found"),
    ("revoke_key", "api_key_not_found", "no API key 'nosuch'"),
    ("revoke_client", "client_not_found", "no client 'nosuch'"),
]


def test_dry_run_checks_named_targets_against_the_node(pnode: RunningNode, tmp_path: Path) -> None:
    """adv-irp4 F1: a step whose named target the node lacks is reported "would fail" with
    the action's own error, exit 1; real targets pass; nothing changes, no secret shows."""
    value = "dbpass-value-never-shown-0451"
    put = pnode.control.put("/v1/secrets/db-pass", params={"app": "pb"}, json={"value": value})
    assert put.status_code == 200, put.text
    key = pnode.control.post("/v1/keys", json={"name": "dry-key", "app": "pb"}).json()
    book = tmp_path / "typos.yaml"
    book.write_text(TYPOS.replace("KEY", key["id"]))
    audit_before = len(pnode.audit())
    out = pnode.cli(
        "playbook", "dry-run", "--file", str(book), "--rule", "failed-auth-burst", "--json"
    )
    assert out.returncode == 1, out.stdout + out.stderr
    assert value not in out.stdout
    typos, elsewhere = json.loads(out.stdout)["playbooks"]
    steps = typos["steps"]
    assert [(s["action"], s["would_fail_code"], s["would_fail"]) for s in steps[:6]] == WOULD_FAIL
    assert all("would_fail" not in s for s in steps[6:]), steps[6:]  # they exist
    assert typos["steps_failing"] == 6
    # the same text the real action gives (here through the control API)
    real = pnode.control.post("/v1/quarantines", json={"function": "does-not-exist"})
    assert (real.status_code, real.json()["code"]) == (404, "function_not_found")
    assert real.json()["message"] == WOULD_FAIL[0][2]
    # a playbook that does not match is checked too, but does not decide the exit status
    assert elsewhere["matches"] is False and elsewhere["steps_failing"] == 1
    only = pnode.cli(
        "playbook", "dry-run", "elsewhere", "--file", str(book), "--rule", "failed-auth-burst"
    )
    assert only.returncode == 0, only.stderr
    assert "would fail: function 'nosuch-either' not found" in " ".join(only.stdout.split())
    # the table says it step by step
    text = pnode.cli("playbook", "dry-run", "typos", "--file", str(book), "--rule", "x")
    flat = " ".join(text.stdout.split())
    assert text.returncode == 0  # does not match rule x: its steps would not run
    assert "would fail: no API key 'nosuch'" in flat, flat
    # apply warns (state may change before an alert: a warning, not a refusal) ...
    applied = pnode.cli("playbook", "apply", str(book))
    assert applied.returncode == 0, applied.stderr
    flat = " ".join(applied.stdout.split())
    assert "typos: actions[0].quarantine would fail on this node now: function " in flat, flat
    assert "actions[4].revoke_key would fail on this node now: no API key 'nosuch'" in flat
    assert "actions[8]" not in flat and "actions[6]" not in flat
    # ... and a dry run of the stored playbook exits 1 the same way
    stored = pnode.cli("playbook", "dry-run", "typos", "--rule", "failed-auth-burst")
    assert stored.returncode == 1
    assert "would fail: function 'web' has no earlier version" in " ".join(stored.stdout.split())
    for name in ("typos", "elsewhere"):
        assert pnode.control.delete(f"/v1/playbooks/{name}").status_code == 200
    # nothing was changed: the key serves, nothing is quarantined or lowered, no new version
    keys = {k["id"]: k for k in pnode.control.get("/v1/keys").json()["keys"]}
    assert keys[key["id"]].get("revoked_at") is None
    assert pnode.control.get("/v1/quarantines").json()["quarantines"] == []
    assert pnode.control.get("/v1/limits").json()["limits"] == []
    versions = pnode.control.get("/v1/secrets/db-pass/versions", params={"app": "pb"}).json()
    assert len(versions["versions"]) == 1, versions
    kinds = {e["kind"] for e in pnode.audit()[audit_before:]}
    assert not kinds & {
        "respond.quarantine",
        "respond.lower",
        "secrets.put",
        "identity.api_key.revoke",
        "identity.client.delete",
        "registry.rollback",
        "incident.open",
        "incident.step",
    }, kinds


def test_dry_run_refuses_an_unknown_severity(pnode: RunningNode, tmp_path: Path) -> None:
    """adv-irp4 F2: a synthetic alert's severity is one of the four, lower case, as a
    playbook's ``match.severity`` is; anything else is refused, never "does NOT match"."""
    book = tmp_path / "sev.yaml"
    book.write_text(UNAPPLIED)
    for bad in ("bogus", "HIGH", ""):
        out = pnode.cli(
            "playbook", "dry-run", "--file", str(book), "--rule", "x", "--severity", bad
        )
        assert out.returncode == 2, (bad, out.stdout, out.stderr)
        assert "--severity" in out.stderr and "low, medium, high, critical" in out.stderr
        assert "Traceback" not in out.stderr
        r = pnode.control.post(
            "/v1/playbooks/dry-run",
            json={"source": UNAPPLIED, "alert": {"rule": "x", "severity": bad}},
        )
        assert (r.status_code, r.json()["code"]) == (400, "invalid_severity"), (bad, r.text)
        assert "alert.severity" in r.json()["message"]
    ok = pnode.cli("playbook", "dry-run", "--file", str(book), "--rule", "x", "--severity", "low")
    assert ok.returncode == 0, ok.stderr


def test_credential_stuffing_opens_incident_and_playbook_blocks_address(
    pnode: RunningNode, smtp: tuple[_Inbox, int], hook: Receiver, tmp_path: Path
) -> None:
    inbox, _ = smtp
    book = tmp_path / "stuffing.yaml"
    book.write_text(PLAYBOOK)
    out = pnode.cli("playbook", "apply", str(book))
    assert out.returncode == 0, out.stderr
    hdr = {"x-forwarded-for": ATTACKER}
    for i in range(25):
        r = pnode.gateway.get("/secure", headers={**hdr, "x-api-key": f"rk_guess{i:04d}.nope"})
        assert r.status_code == 401
    incidents = _wait(
        "an incident with its steps run",
        lambda: [
            i
            for i in pnode.control.get("/v1/incidents").json()["incidents"]
            if i["rule"] == "failed-auth-burst"
            and all(s["status"] != "planned" for s in i["steps"])
        ],
    )
    assert len(incidents) == 1
    inc = incidents[0]
    assert inc["state"] == "open" and inc["severity"] == "high"
    assert inc["context"]["source_ip"] == ATTACKER
    status = {s["action"]: s["status"] for s in inc["steps"]}
    assert status == {
        "block_ip": "done",
        "snapshot_evidence": "done",
        "notify": "done",
        "quarantine": "pending",
    }, inc["steps"]
    # The WAF block takes effect: the attacker is refused, others are served.
    blocked = pnode.gateway.get("/web", headers=hdr)
    assert blocked.status_code == 403
    assert pnode.gateway.get("/web", headers={"x-forwarded-for": "198.51.100.1"}).status_code == 200
    # A request whose secrets the handler prints (adv-irp3 F7): its record goes in the export.
    r = pnode.gateway.get(
        "/web?token=querysecret789", headers={"x-forwarded-for": "198.51.100.2", **LEAKS}
    )
    assert r.status_code == 200
    blocks = pnode.control.get("/v1/waf/blocks").json()["blocks"]
    assert [b["cidr"] for b in blocks] == [f"{ATTACKER}/32"]
    assert blocks[0]["actor"] == "playbook:stuffing" and blocks[0]["expires_at"] is not None
    # The email reached the real SMTP server.
    mail = _wait("the incident email", lambda: inbox.messages)
    assert mail[0].rcpt_tos == ["oncall@example.com"]
    assert inc["id"] in mail[0].content.decode()
    # ... and so did the webhook (the alert webhook notifier, its own delivery type).
    sent = _wait(
        "the incident webhook",
        lambda: [json.loads(b) for _, b in hook.received if json.loads(b)["type"] == "incident"],
    )
    assert sent[0]["incident"]["id"] == inc["id"]
    # A dry run against the stored alert: what would happen, and nothing does.
    out = pnode.cli("playbook", "dry-run", "stuffing", "--alert", inc["alerts"][0], "--json")
    assert out.returncode == 0, out.stderr
    plan = json.loads(out.stdout)
    assert plan["matches"] is True and plan["context"]["source_ip"] == ATTACKER
    assert plan["steps"][0]["params"]["address"] == ATTACKER
    assert len(pnode.control.get("/v1/incidents").json()["incidents"]) == 1
    assert pnode.control.get("/v1/quarantines").json()["quarantines"] == []
    # Approval gating: the quarantine waits until approved, then runs.
    assert pnode.gateway.get("/web", headers={"x-forwarded-for": "198.51.100.1"}).status_code == 200
    q_step = next(s["index"] for s in inc["steps"] if s["action"] == "quarantine")
    out = pnode.cli("incident", "approve", inc["id"][:12], str(q_step))
    assert out.returncode == 0, out.stderr
    r = pnode.gateway.get("/web", headers={"x-forwarded-for": "198.51.100.1"})
    assert r.status_code == 503 and r.json()["code"] == "function_quarantined"
    again = pnode.control.post(f"/v1/incidents/{inc['id']}/steps/{q_step}/approve")
    assert again.status_code == 409 and again.json()["code"] == "step_not_pending"
    # State, owner and notes.
    assert pnode.cli("incident", "ack", inc["id"], "--owner", "alice").returncode == 0
    assert pnode.cli("incident", "note", inc["id"], "blocked at the edge too").returncode == 0
    assert pnode.cli("incident", "contain", inc["id"]).returncode == 0
    shown = json.loads(pnode.cli("incident", "show", inc["id"], "--json").stdout)
    assert shown["state"] == "contained" and shown["owner"] == "alice"
    texts = [t["text"] for t in shown["timeline"]]
    assert any(t.startswith("gateway.auth deny") for t in texts)  # the alert's evidence
    assert "blocked at the edge too" in texts and "incident contained" in texts
    # related audit records: the block, and the attacker's request it refused
    assert f"waf.block allow network:{ATTACKER}/32" in texts
    assert any(t.startswith("gateway.waf deny") for t in texts), texts
    kinds = [e["kind"] for e in pnode.audit()]
    for kind in (
        "incident.open",
        "incident.step",
        "incident.approve",
        "waf.block",
        "respond.quarantine",
        "playbook.apply",
    ):
        assert kind in kinds, kind
    # Export: one file; it verifies offline, and fails when one byte changes.
    export = tmp_path / "incident.json"
    out = pnode.cli("incident", "export", inc["id"], "--out", str(export))
    assert out.returncode == 0, out.stderr
    assert export.stat().st_mode & 0o777 == 0o600  # adv-irp3 F7: it was 0644
    printed = [r.get("logs") or "" for r in json.loads(export.read_text())["bundle"]["contents"][
        "invocations"]["web"]]
    assert any("x-custom-auth" in text for text in printed), printed  # the output is there
    for secret in ("customsecret321", "cookiesecret456", "bearersecret987654", "querysecret789"):
        assert secret not in export.read_text(), secret
    doc = json.loads(export.read_text())
    key_id = doc["verification"]["key_id"]
    assert doc["snapshot"] is not None
    contents = doc["bundle"]["contents"]
    assert contents["functions"] == ["secure", "web"]  # the alert's, and the quarantined one
    live = {fn: v["aliases"]["live"] for fn, v in contents["versions"].items()}
    assert set(contents["sboms"]) == {f"{fn}:{version}" for fn, version in live.items()}
    assert any(r["status"] == "ok" for r in contents["invocations"]["web"])
    assert doc["bundle"]["contents"]["incident"]["state"] == "contained"
    ok = pnode.cli("incident", "verify", str(export), "--public-key", key_id)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    raw = export.read_text()
    tampered = tmp_path / "tampered.json"
    tampered.write_text(raw.replace('"alice"', '"mallo"', 1))
    bad = pnode.cli("incident", "verify", str(tampered), "--public-key", key_id)
    assert bad.returncode == 1 and "FAILS" in bad.stdout
    wrong_key = pnode.cli("incident", "verify", str(export), "--public-key", "0" * 16)
    assert wrong_key.returncode == 1
    # The signed incident took a snapshot: the export must carry it, and every readable
    # flag beside the bundles must follow from what they sign.
    for name, change in (
        ("no-snapshot", lambda d: d.pop("snapshot")),
        ("null-snapshot", lambda d: d.update(snapshot=None)),
        ("no-evidence-flag", lambda d: d["incident"].update(has_evidence=False)),
        ("relabelled", lambda d: d["bundle"].update(key_id="0" * 16)),
        ("no-bundle", lambda d: d.pop("bundle")),
    ):
        altered = json.loads(raw)
        change(altered)
        path = tmp_path / f"{name}.json"
        path.write_text(json.dumps(altered))
        out = pnode.cli("incident", "verify", str(path), "--public-key", key_id)
        assert out.returncode == 1, (name, out.stdout, out.stderr)
        assert "Traceback" not in out.stderr, name
    # Resolve, release.
    assert pnode.cli("incident", "resolve", inc["id"]).returncode == 0
    assert pnode.cli("quarantine", "release", "web").returncode == 0
