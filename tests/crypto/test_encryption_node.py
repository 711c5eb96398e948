"""Encryption at rest and the secret store through a real node subprocess.

No plaintext marker may reach any file under the data dir (SQLite files and
their WAL included); secrets flow CLI -> store -> handler with redaction; a
re-wrap killed with SIGKILL halfway resumes on restart and loses nothing.
"""

from __future__ import annotations

import os
import secrets as random
import sqlite3
import stat
import time
from pathlib import Path

import httpx
import orjson
import pytest

from ramparts.crypto.envelope import Sealer
from ramparts.events.webhooks import sign_webhook
from tests.conftest import HOOK_SECRET, RunningNode, make_app
from tests.crypto.servers import TransitServer

MANIFEST = """
app: vaulted
functions:
  writer:
    handler: h.py:writer
    role:
      statements:
        - {effect: allow, actions: ["kv:*"], resources: ["kv:notes/*"]}
        - {effect: allow, actions: ["objects:*"], resources: ["objects:files/*"]}
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:notes"]}
  consumer:
    handler: h.py:consumer
    triggers:
      - topic: {name: notes}
  failer:
    handler: h.py:failer
    triggers:
      - topic: {name: notes, retries: 0}
  echo:
    handler: h.py:echo
    triggers:
      - http: {method: POST, path: /echo, auth: none}
  reader:
    handler: h.py:reader
    secrets: [db-password]
  snoop:
    handler: h.py:snoop
  hook:
    handler: h.py:hook
    triggers:
      - webhook: {path: /hooks/v, scheme: standard, secret: hook-secret}
  rotator:
    handler: h.py:rotator
    rotates: [hooked]
"""

HANDLERS = """
from ramparts import AccessDenied


def writer(event, context):
    m = event["marker"]
    context.kv.put("notes", "n1", {"text": m})
    context.objects.put("files", "f1", m.encode())
    context.publish("notes", {"text": m})
    print("writer saw", m)
    return {"kv": context.kv.get("notes", "n1"), "obj": context.objects.get("files", "f1").decode()}


def consumer(event, context):
    print("consumer got", event["Records"][0]["body"])


def failer(event, context):
    raise ValueError("cannot handle " + event["Records"][0]["body"])


def echo(event, context):
    print("echo got", event["body"])
    return {"statusCode": 200, "body": str(len(event["body"]))}


def reader(event, context):
    value = context.secrets.get("db-password")
    print("the password is", value)
    print("Authorization: Bearer " + event["bearer"])
    print("calling with X-API-Key:", event["api_key"])
    print("connecting to postgres://app:" + event["url_password"] + "@db:5432/app")
    return {"len": len(value), "again": context.secrets.get("db-password") == value}


def snoop(event, context):
    try:
        context.secrets.get("db-password")
    except AccessDenied as exc:
        return {"denied": [exc.action, exc.resource]}
    return {"denied": None}


def hook(event, context):
    print("webhook body", event["body"])


def rotator(event, context):
    return {"value": "rotated-by-hook-" + str(event["CurrentVersion"])}
"""


@pytest.fixture(scope="module")
def vnode(tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    base = tmp_path_factory.mktemp("vault")
    node = RunningNode(base / "data").start()
    try:
        assert (
            node.cli(
                "secrets", "set", "hook-secret", "--app", "vaulted", "--stdin", stdin=HOOK_SECRET
            ).returncode
            == 0
        )
        node.deploy_ok(make_app(base / "app", MANIFEST, {"h.py": HANDLERS}))
        yield node
    finally:
        node.close()


def _files(root: Path) -> list[Path]:
    skip = {"artifacts", "deps", "runtime"}  # deployed code, not data
    return [
        p for p in root.rglob("*") if p.is_file() and not (set(p.relative_to(root).parts) & skip)
    ]


def _all_audit(node: RunningNode) -> list[dict]:
    events: list[dict] = []
    while True:
        page = node.control.get(
            "/v1/audit", params={"after": len(events) and events[-1]["seq"], "limit": 1000}
        ).json()["events"]
        events += page
        if len(page) < 1000:
            return events


def test_no_plaintext_under_the_data_dir(vnode: RunningNode) -> None:
    """A marker sent every way a user can send data is in no file under the data dir."""
    marker = "PLAINTEXT-MARKER-" + random.token_hex(8)
    # a handler writes it to KV, an object and a topic, and print()s it
    r = vnode.control.post("/v1/functions/writer/invoke", json={"event": {"marker": marker}})
    assert r.json()["status"] == "ok", r.text
    assert r.json()["result"] == {"kv": {"text": marker}, "obj": marker}
    # the control API: KV item, object upload, topic publish
    assert vnode.control.put("/v1/kv/notes/n2", json={"item": {"m": marker}}).status_code == 200
    assert vnode.control.put("/v1/objects/files/k2", content=marker.encode()).status_code == 200
    r = vnode.control.post("/v1/topics/notes/publish", json={"message": {"text": marker}})
    assert r.status_code == 200, r.text
    # HTTP bodies through the gateway: a public route and a signed webhook
    r = vnode.gateway.post("/echo", content=orjson.dumps({"note": marker}))
    assert r.status_code == 200, r.text
    body = orjson.dumps({"note": marker})
    sig = sign_webhook("standard", HOOK_SECRET, body, msg_id="msg_" + random.token_hex(4))
    assert vnode.gateway.post("/hooks/v", content=body, headers=sig).status_code == 202
    vnode.wait_invocations("hook", 1)
    vnode.wait_invocations("consumer", 2)
    vnode.wait_invocations("failer", 2)
    # reads through the API give the plaintext back...
    assert marker in vnode.invocations("writer")[-1]["logs"]
    assert marker in vnode.invocations("echo")[-1]["logs"]
    assert all(marker in r["logs"] for r in vnode.invocations("consumer"))
    assert all(marker in r["error_message"] for r in vnode.invocations("failer"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        dead = vnode.control.get("/v1/dead-letters", params={"function": "failer"}).json()
        if len(dead["dead_letters"]) >= 2:
            break
        time.sleep(0.1)
    assert len(dead["dead_letters"]) == 2
    assert all(marker in d["error"] for d in dead["dead_letters"])
    assert vnode.control.get("/v1/objects/files/k2").content == marker.encode()
    assert vnode.control.get("/v1/kv/notes/n2").json()["item"] == {"m": marker}
    # a secret last: from now on the node masks this value in every log line it writes
    assert vnode.control.put("/v1/secrets/marker-secret", json={"value": marker}).status_code == 200
    assert vnode.control.get("/v1/secrets/marker-secret").json()["value"] == marker
    # ...while no file under the data dir, SQLite -wal/-shm files included, holds it
    _all_audit(vnode)  # flushes buffered audit events (invocation records were read above)
    files = _files(vnode.data_dir)
    names = {p.name for p in files}
    assert {"state.db", "bus.db"} <= names and any(n.endswith("-wal") for n in names)
    needle = marker.encode()
    leaks = [str(p) for p in files if needle in p.read_bytes()]
    assert leaks == []


def test_secrets_cli_flow_and_handler_access(vnode: RunningNode, tmp_path: Path) -> None:
    value = "pw-" + random.token_hex(12)
    # the first command through the real entry point, the rest in-process
    cli = vnode.cli_in_process
    done = vnode.cli("secrets", "set", "db-password", "--stdin", stdin=value + "\n")
    assert done.returncode == 0, done.stderr
    listed = cli("secrets", "list")
    assert "db-password" in listed.stdout and value not in listed.stdout
    # the handler reads it through context.secrets; it prints it and other secret shapes
    api_key = f"rk_{random.token_hex(6)}_{random.token_urlsafe(32)}"
    shapes = {
        "bearer": random.token_urlsafe(24),
        "api_key": api_key,
        "url_password": "hunter2-pw-9",
    }
    r = vnode.control.post("/v1/functions/reader/invoke", json={"event": shapes})
    out = r.json()
    assert out["status"] == "ok" and out["result"] == {"len": len(value), "again": True}
    # masked in the response's logs, the stored ones and `ramparts logs`
    stored = vnode.invocations("reader")[-1]["logs"]
    cli_logs = cli("logs", "reader")
    assert cli_logs.returncode == 0, cli_logs.stderr
    for text in (out["logs"], stored, cli_logs.stdout):
        assert "***" in text and "the password is" in text
        for secret in (value, *shapes.values()):
            assert secret not in text, (secret, text)
    # one fetch from the host for two gets (the worker caches it), allowed and audited
    fetches = [
        e
        for e in _all_audit(vnode)
        if e["action"] == "secrets:GetSecretValue"
        and e["principal"].startswith("function:reader")
        and e["request_id"] == out["request_id"]
    ]
    assert [e["decision"] for e in fetches] == ["allow"]
    # a function whose role does not allow it gets AccessDenied, and the denial is audited
    r = vnode.control.post("/v1/functions/snoop/invoke", json={"event": {}})
    assert r.json()["result"] == {
        "denied": ["secrets:GetSecretValue", "arn:ramparts:secrets:vaulted:secret/db-password"]
    }
    assert any(
        e["decision"] == "deny" and e["principal"].startswith("function:snoop")
        for e in _all_audit(vnode)
    )
    # reading a value is for the admin token only, and audited
    assert httpx.get(f"{vnode.control.base_url}/v1/secrets/db-password").status_code == 401
    bad = {"authorization": "Bearer rat_" + random.token_urlsafe(32)}
    assert (
        httpx.get(f"{vnode.control.base_url}/v1/secrets/db-password", headers=bad).status_code
        == 401
    )
    got = cli("secrets", "get", "db-password")
    assert got.stdout.strip() == value
    audit = _all_audit(vnode)
    arn = "arn:ramparts:secrets:vaulted:secret/db-password"  # the owner's ARN, not a bare name
    assert any(e["kind"] == "secrets.get" and e["resource"] == arn for e in audit)
    assert value not in str(audit) and api_key not in str(audit)
    # rotate with a value from a file, then versions
    new_file = tmp_path / "next.txt"
    new_file.write_text("next-" + value + "\n")
    rotated = cli("secrets", "rotate", "db-password", "--from-file", str(new_file))
    assert rotated.returncode == 0, rotated.stderr
    versions = cli("secrets", "versions", "db-password")
    assert versions.returncode == 0 and "2" in versions.stdout and value not in versions.stdout
    # delete with a recovery window: unreadable at once, listed as pending, restorable
    assert cli("secrets", "delete", "db-password").returncode == 0
    assert vnode.control.get("/v1/secrets/db-password").status_code == 404
    listed = orjson.loads(cli("secrets", "list", "--json").stdout)["secrets"]
    assert {"name": "db-password", "state": "pending_deletion"}.items() <= next(
        x for x in listed if x["name"] == "db-password"
    ).items()
    assert cli("secrets", "restore", "db-password").returncode == 0
    assert cli("secrets", "get", "db-password").stdout.strip() == "next-" + value


def test_rotation_hook_and_bad_input(vnode: RunningNode) -> None:
    # the first command through the real entry point, the rest in-process
    cli = vnode.cli_in_process
    assert vnode.cli("secrets", "set", "hooked", "--stdin", stdin="initial-value").returncode == 0
    out = cli("secrets", "rotate", "hooked")
    assert out.returncode == 0, out.stderr
    assert "hook" in out.stdout
    assert cli("secrets", "get", "hooked").stdout.strip() == "rotated-by-hook-1"
    # no hook and no value: refused, unless --generate
    cli("secrets", "set", "plain", "--stdin", stdin="plain-value")
    assert cli("secrets", "rotate", "plain").returncode != 0
    assert cli("secrets", "rotate", "plain", "--generate").returncode == 0
    # names with traversal or control characters, and oversized values
    for bad in ("..%2F..%2Fetc", "a%0Ab", "%00x", ".env"):
        r = vnode.control.put(f"/v1/secrets/{bad}", json={"value": "v"})
        assert r.status_code in (400, 404), (bad, r.text)
        if r.status_code == 400:
            assert r.json()["code"] == "invalid_secret_name"
    bad = cli("secrets", "set", "../../etc/passwd", "--stdin", stdin="v")
    assert bad.returncode != 0 and "secret names" in bad.stderr
    big = cli("secrets", "set", "big", "--stdin", stdin="x" * (64 * 1024 + 1))
    assert big.returncode != 0 and "secret_too_large" in big.stderr


def test_deploy_refuses_secret_looking_environment(vnode: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "envapp",
        """
        app: leaky
        functions:
          f:
            handler: h.py:handler
            environment: {DB_PASSWORD: "correct-horse-battery-staple"}
        """,
        {"h.py": "def handler(event, context):\n    return 1\n"},
    )
    out = vnode.cli("deploy", str(app))
    assert out.returncode != 0
    assert "environment" in out.stderr and "DB_PASSWORD" in out.stderr and "secrets:" in out.stderr
    assert vnode.deploy(app).status_code == 422  # the node refuses it too


def test_master_key_faults_stop_the_node(tmp_path: Path) -> None:
    """A key file others can read, a missing key and a wrong key each stop the node at start."""
    data = tmp_path / "data"
    node = RunningNode(data).start()
    assert stat.S_IMODE((data / "master.key").stat().st_mode) == 0o600  # made on first start
    node.control.put("/v1/secrets/s1", json={"value": "some-value"}, params={"app": "a"})
    node.stop()
    os.chmod(data / "master.key", 0o640)
    with pytest.raises(RuntimeError, match="chmod 600"):
        node.start()
    os.chmod(data / "master.key", 0o600)
    key = (data / "master.key").read_bytes()
    (data / "master.key").unlink()
    with pytest.raises(RuntimeError, match="no master key was found"):
        node.start()
    assert not (data / "master.key").exists()  # never a fresh key over existing data
    fd = os.open(data / "master.key", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    os.close(fd)
    with pytest.raises(RuntimeError, match="wrong master key"):
        node.start()
    (data / "master.key").write_bytes(key)
    node.start()
    try:
        assert (
            node.control.get("/v1/secrets/s1", params={"app": "a"}).json()["value"] == "some-value"
        )
    finally:
        node.close()


def test_rotation_killed_halfway_resumes(tmp_path: Path) -> None:
    # Small batches with a pause make the re-wrap slow enough to be caught halfway; a short
    # keyring refresh shortens the grace before an old KEK may be retired (no fixed sleep).
    env = {
        "RAMPARTS_REWRAP_BATCH": "5",
        "RAMPARTS_REWRAP_PAUSE": "0.05",
        "RAMPARTS_KEYRING_REFRESH": "0.2",
    }
    node = RunningNode(tmp_path / "data", env).start()
    try:
        app = make_app(
            tmp_path / "app",
            "app: rot\nfunctions:\n  f:\n    handler: h.py:handler\n",
            {"h.py": "def handler(event, context):\n    return 1\n"},
        )
        node.deploy_ok(app)
        items = 150
        for i in range(items):
            assert node.control.put(f"/v1/kv/t/k{i}", json={"item": {"i": i}}).status_code == 200
        node.control.put("/v1/secrets/kept", json={"value": "kept-value"})
        out = node.control.post("/v1/encryption/rotate").json()
        assert out["kek"]["id"] == "k2"
        # new writes use the new KEK at once (read the row from the SQLite file itself)
        node.control.put("/v1/kv/t/fresh", json={"item": {"fresh": True}})
        db = sqlite3.connect(tmp_path / "data" / "state.db")
        try:
            (raw,) = db.execute("SELECT value FROM kv_items WHERE key = 'fresh'").fetchone()
        finally:
            db.close()
        assert Sealer.kek_of(raw) == "k2"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = node.control.get("/v1/encryption/status").json()["rewrap"]
            if 10 < job["processed"] < job["total"] // 2:  # well short of done
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the re-wrap never got halfway: {job}")
        # the old key cannot be retired while the re-wrap runs
        early = node.control.post("/v1/encryption/retire", json={"kek": "k1", "force": True})
        assert early.status_code == 400 and early.json()["code"] == "rewrap_running", early.text
        node.kill9()  # SIGKILL the node's whole process group, mid re-wrap
        node.start()
        # every record opens straight after the restart, while the re-wrap resumes
        for i in range(items):
            r = node.control.get(f"/v1/kv/t/k{i}")
            assert r.status_code == 200 and r.json()["item"] == {"i": i}, r.text
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = node.control.get("/v1/encryption/status").json()
            if status["rewrap"]["state"] == "done":
                break
            time.sleep(0.1)
        resumed = status["rewrap"]
        assert resumed["state"] == "done" and resumed["failed"] == 0, resumed
        # the same job carried on from its saved cursor rather than starting over
        assert resumed["id"] == job["id"] and resumed["processed"] >= job["processed"]
        assert status["current"] == "k2"
        assert (
            node.control.post("/v1/encryption/retire", json={"kek": "k2", "force": True}).json()[
                "code"
            ]
            == "kek_current"
        )
        deadline = time.monotonic() + 10
        while True:  # the retire grace: 2.5 keyring refreshes after the rotation
            retired = node.cli("encryption", "retire", "k1", "--force")
            if retired.returncode == 0 or "kek_too_recent" not in retired.stderr:
                break
            assert time.monotonic() < deadline, retired.stderr
        assert retired.returncode == 0, retired.stderr
        # after the old KEK is gone every record still opens
        for i in range(items):
            r = node.control.get(f"/v1/kv/t/k{i}")
            assert r.status_code == 200 and r.json()["item"] == {"i": i}, r.text
        assert node.control.get("/v1/kv/t/fresh").json()["item"] == {"fresh": True}
        assert node.control.get("/v1/secrets/kept").json()["value"] == "kept-value"
        states = {
            k["id"]: k["state"] for k in node.control.get("/v1/encryption/status").json()["keks"]
        }
        assert states == {"k1": "retired", "k2": "active"}
        # the CLI's rotate follows the re-wrap with a progress bar and finishes
        cli = node.cli("encryption", "rotate")
        assert cli.returncode == 0, cli.stderr
        assert "re-wrapping data keys" in cli.stderr and "re-wrap done" in cli.stdout
        assert "k3" in node.cli("encryption", "status").stdout
    finally:
        node.close()


def test_node_with_the_vault_transit_kms(tmp_path: Path, transit: str) -> None:
    """A node whose master key is a Vault Transit key: no key file, restarts unwrap via Vault."""
    data = tmp_path / "data"
    node = RunningNode(data, {"RAMPARTS_KMS_URL": transit, "VAULT_TOKEN": TransitServer.token})
    node.start()
    try:
        put = node.control.put("/v1/secrets/s1", json={"value": "via-vault"}, params={"app": "a"})
        assert put.status_code == 200
        status = node.control.get("/v1/encryption/status").json()
        assert status["master_key"] == "vault:transit/ramparts"
        assert not (data / "master.key").exists()
        node.stop()
        TransitServer.calls.clear()
        node.start()  # a fresh process: its KEK comes back only through Transit's decrypt
        assert "/v1/transit/decrypt/ramparts" in TransitServer.calls
        got = node.control.get("/v1/secrets/s1", params={"app": "a"})
        assert got.json()["value"] == "via-vault"
        node.stop()
        node.env["VAULT_TOKEN"] = "not-the-token"
        with pytest.raises(RuntimeError, match="refused decrypt"):
            node.start()
    finally:
        node.close()
