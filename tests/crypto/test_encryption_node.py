"""Encryption at rest and the secret store through a real node subprocess.

No plaintext marker may reach any file under the data dir (SQLite files and
their WAL included); secrets flow CLI -> store -> handler with redaction; a
re-wrap killed with SIGKILL halfway resumes on restart and loses nothing.
"""

from __future__ import annotations

import os
import secrets as random
import time
from pathlib import Path

import orjson
import pytest

from ramparts.events.webhooks import sign_webhook
from tests.conftest import HOOK_SECRET, RunningNode, make_app

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
  reader:
    handler: h.py:reader
    secrets: [db-password]
  hook:
    handler: h.py:hook
    triggers:
      - webhook: {path: /hooks/v, scheme: standard, secret: hook-secret}
  rotator:
    handler: h.py:rotator
    rotates: [hooked]
"""

HANDLERS = """
def writer(event, context):
    m = event["marker"]
    context.kv.put("notes", "n1", {"text": m})
    context.objects.put("files", "f1", m.encode())
    context.publish("notes", {"text": m})
    print("writer saw", m)
    return {"kv": context.kv.get("notes", "n1"), "obj": context.objects.get("files", "f1").decode()}


def consumer(event, context):
    print("consumer got", event["Records"][0]["body"])


def reader(event, context):
    value = context.secrets.get("db-password")
    print("the password is", value)
    return {"len": len(value), "again": context.secrets.get("db-password") == value}


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
            node.cli("secrets", "set", "hook-secret", "--stdin", stdin=HOOK_SECRET).returncode == 0
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


def test_no_plaintext_under_the_data_dir(vnode: RunningNode) -> None:
    marker = "PLAINTEXT-MARKER-" + random.token_hex(8)
    r = vnode.control.post("/v1/functions/writer/invoke", json={"event": {"marker": marker}})
    assert r.json()["status"] == "ok", r.text
    assert r.json()["result"] == {"kv": {"text": marker}, "obj": marker}
    vnode.wait_invocations("consumer", 1)
    assert vnode.control.put("/v1/kv/notes/n2", json={"item": {"m": marker}}).status_code == 200
    assert vnode.control.put("/v1/objects/files/k2", content=marker.encode()).status_code == 200
    assert vnode.control.put("/v1/secrets/marker-secret", json={"value": marker}).status_code == 200
    body = orjson.dumps({"note": marker})
    sig = sign_webhook("standard", HOOK_SECRET, body, msg_id="msg_" + random.token_hex(4))
    assert vnode.gateway.post("/hooks/v", content=body, headers=sig).status_code == 202
    vnode.wait_invocations("hook", 1)
    # reads through the API give the plaintext back...
    logs = vnode.invocations("writer")[-1]["logs"]
    assert marker in logs
    assert vnode.control.get("/v1/objects/files/k2").content == marker.encode()
    # ...while no file under the data dir, WAL files included, holds it
    time.sleep(0.5)  # let buffered invocation records and audit events land
    files = _files(vnode.data_dir)
    names = {p.name for p in files}
    assert {"state.db", "bus.db"} <= names and any(n.endswith("-wal") for n in names)
    needle = marker.encode()
    leaks = [str(p) for p in files if needle in p.read_bytes()]
    assert leaks == []


def test_secrets_cli_flow_and_handler_access(vnode: RunningNode) -> None:
    value = "pw-" + random.token_hex(12)
    done = vnode.cli("secrets", "set", "db-password", "--stdin", stdin=value + "\n")
    assert done.returncode == 0, done.stderr
    listed = vnode.cli("secrets", "list")
    assert "db-password" in listed.stdout and value not in listed.stdout
    r = vnode.control.post("/v1/functions/reader/invoke", json={"event": {}})
    out = r.json()
    assert out["status"] == "ok" and out["result"] == {"len": len(value), "again": True}
    # the handler printed the value: masked in the response logs and the stored ones
    assert value not in out["logs"] and "***" in out["logs"]
    assert value not in vnode.invocations("reader")[-1]["logs"]
    got = vnode.cli("secrets", "get", "db-password")
    assert got.stdout.strip() == value
    audit = vnode.audit()
    assert any(e["kind"] == "secrets.get" and e["resource"] == "secret:db-password" for e in audit)
    assert any(
        e["action"] == "secrets:GetSecretValue" and e["principal"].startswith("function:reader")
        for e in audit
    )
    assert value not in str(audit)
    # rotate with a value, then versions
    assert (
        vnode.cli("secrets", "rotate", "db-password", "--stdin", stdin="next-" + value).returncode
        == 0
    )
    versions = vnode.cli("secrets", "versions", "db-password")
    assert versions.returncode == 0 and "2" in versions.stdout
    # delete with a recovery window: unreadable at once, restorable
    assert vnode.cli("secrets", "delete", "db-password").returncode == 0
    assert vnode.control.get("/v1/secrets/db-password").status_code == 404
    assert vnode.cli("secrets", "restore", "db-password").returncode == 0
    assert vnode.cli("secrets", "get", "db-password").stdout.strip() == "next-" + value


def test_rotation_hook_and_bad_input(vnode: RunningNode) -> None:
    assert vnode.cli("secrets", "set", "hooked", "--stdin", stdin="initial-value").returncode == 0
    out = vnode.cli("secrets", "rotate", "hooked")
    assert out.returncode == 0, out.stderr
    assert "hook" in out.stdout
    assert vnode.cli("secrets", "get", "hooked").stdout.strip() == "rotated-by-hook-1"
    # no hook and no value: refused, unless --generate
    vnode.cli("secrets", "set", "plain", "--stdin", stdin="plain-value")
    assert vnode.cli("secrets", "rotate", "plain").returncode != 0
    assert vnode.cli("secrets", "rotate", "plain", "--generate").returncode == 0
    # names with traversal or control characters, and oversized values
    for bad in ("..%2F..%2Fetc", "a%0Ab", "%00x", ".env"):
        r = vnode.control.put(f"/v1/secrets/{bad}", json={"value": "v"})
        assert r.status_code in (400, 404), (bad, r.text)
        if r.status_code == 400:
            assert r.json()["code"] == "invalid_secret_name"
    bad = vnode.cli("secrets", "set", "../../etc/passwd", "--stdin", stdin="v")
    assert bad.returncode != 0 and "secret names" in bad.stderr
    big = vnode.cli("secrets", "set", "big", "--stdin", stdin="x" * (64 * 1024 + 1))
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


def test_key_file_readable_by_others_stops_the_node(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = RunningNode(data).start()
    node.stop()
    os.chmod(data / "master.key", 0o644)
    with pytest.raises(RuntimeError, match="chmod 600"):
        node.start()
    node.close()


def test_missing_and_wrong_master_key_stop_the_node(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = RunningNode(data).start()
    node.control.put("/v1/secrets/s1", json={"value": "some-value"})
    node.stop()
    key = (data / "master.key").read_bytes()
    (data / "master.key").unlink()
    with pytest.raises(RuntimeError, match="no master key was found"):
        node.start()
    fd = os.open(data / "master.key", os.O_WRONLY | os.O_CREAT, 0o600)
    os.write(fd, b"3q2-7wAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
    os.close(fd)
    with pytest.raises(RuntimeError, match="wrong master key"):
        node.start()
    (data / "master.key").write_bytes(key)
    node.start()
    try:
        assert node.control.get("/v1/secrets/s1").json()["value"] == "some-value"
    finally:
        node.close()


def test_rotation_killed_halfway_resumes(tmp_path: Path) -> None:
    env = {"RAMPARTS_REWRAP_BATCH": "5", "RAMPARTS_REWRAP_PAUSE": "0.05"}
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
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            job = node.control.get("/v1/encryption/status").json()["rewrap"]
            if 10 < job["processed"] < job["total"] - 20:
                break
            time.sleep(0.05)
        else:
            raise AssertionError(f"the re-wrap never got halfway: {job}")
        node.kill9()
        node.start()
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            status = node.control.get("/v1/encryption/status").json()
            if status["rewrap"]["state"] == "done":
                break
            time.sleep(0.2)
        assert status["rewrap"]["state"] == "done" and status["rewrap"]["failed"] == 0
        assert status["rewrap"]["processed"] >= job["processed"]
        assert status["current"] == "k2"
        time.sleep(5)  # the retire grace period
        retired = node.cli("encryption", "retire", "k1", "--force")
        assert retired.returncode == 0, retired.stderr
        # after the old KEK is gone every record still opens
        for i in range(items):
            r = node.control.get(f"/v1/kv/t/k{i}")
            assert r.status_code == 200 and r.json()["item"] == {"i": i}, r.text
        assert node.control.get("/v1/secrets/kept").json()["value"] == "kept-value"
        states = {
            k["id"]: k["state"] for k in node.control.get("/v1/encryption/status").json()["keks"]
        }
        assert states == {"k1": "retired", "k2": "active"}
        # the CLI's rotate follows the re-wrap with a progress bar and finishes
        cli = node.cli("encryption", "rotate")
        assert cli.returncode == 0, cli.stderr
        assert "re-wrap done" in cli.stdout
        assert "k3" in node.cli("encryption", "status").stdout
    finally:
        node.close()
