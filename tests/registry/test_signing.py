"""Signed versions: tampering with a stored version stops its zygote from starting.

Each test runs a real node, stops it, alters what it stored (the unpacked
artifact, the archive in the state db, a version's config, auth or
signature), starts it again and calls the function: the call fails cleanly,
no handler runs, and an audit event says why.
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from ramparts.registry.artifacts import pack_app, tree_digest
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: signed
{auth}
functions:
  greet:
    handler: greet.py:handler
    triggers:
      - http: {{method: GET, path: /greet, auth: none}}
"""
AUTH_B = """auth:
  jwt:
    - issuer: https://other.example/
      audience: other
      algorithms: [HS256]
      secret: some-secret
"""
CODE = {
    "greet.py": "def handler(event, context):\n    return {'word': 'hello'}\n",
    "lib/__init__.py": "",
}


def _app(root: Path, auth: str = "") -> Path:
    return make_app(root, MANIFEST.format(auth=auth), CODE)


@pytest.fixture
def node(tmp_path: Path) -> Iterator[RunningNode]:
    running = RunningNode(tmp_path / "data").start()
    yield running
    running.close()


def _db(node: RunningNode) -> sqlite3.Connection:
    return sqlite3.connect(node.data_dir / "state.db")


def _row(node: RunningNode) -> dict[str, Any]:
    with _db(node) as db:
        db.row_factory = sqlite3.Row
        row = db.execute("SELECT * FROM versions WHERE function = 'greet' ORDER BY seq").fetchone()
    return dict(row)


def _writable(path: Path) -> None:
    for root, dirs, names in os.walk(path):
        os.chmod(root, 0o755)
        for name in names:
            os.chmod(Path(root) / name, 0o644)


def _wait_audit(node: RunningNode, kind: str, **detail: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    seen: list[dict[str, Any]] = []
    while time.monotonic() < deadline:
        seen = [e for e in node.audit() if e["kind"] == kind]
        for e in seen:
            if all(e["detail"].get(k) == v for k, v in detail.items()):
                return e
        time.sleep(0.2)
    raise AssertionError(f"no {kind} event with {detail}: {[e['detail'] for e in seen]}")


def _refused(node: RunningNode, reason: str) -> None:
    """The call fails with a fixed error, no traceback or path, and is audited."""
    r = node.gateway.get("/greet")
    assert r.status_code == 502, r.text
    body = r.json()
    assert body["code"] == "function_error"
    assert set(body) == {"code", "message", "request_id"}
    assert "Traceback" not in r.text and str(node.data_dir) not in r.text
    event = _wait_audit(node, "registry.verify", reason=reason)
    assert event["decision"] == "deny" and event["detail"]["function"] == "greet"
    # The invocation record says why; the admin sees it, the caller did not.
    rows = node.wait_invocations("greet", 1, status="error")
    assert rows[-1]["error_type"] == "Runtime.VersionUnverified"


def _tamper_file(node: RunningNode, row: dict[str, Any]) -> None:
    code = node.data_dir / "artifacts" / row["artifact"]
    _writable(code)
    (code / "greet.py").write_text("def handler(event, context):\n    return {'word': 'pwned'}\n")


def _plant_file(node: RunningNode, row: dict[str, Any]) -> None:
    code = node.data_dir / "artifacts" / row["artifact"]
    _writable(code)
    (code / "lib" / "sitecustomize.py").write_text("import os\n")


def _tamper_config(node: RunningNode, row: dict[str, Any]) -> None:
    config = json.loads(row["config"])
    config["environment"] = {"INJECTED": "1"}
    with _db(node) as db:
        db.execute("UPDATE versions SET config = ?", (json.dumps(config, sort_keys=True),))


def _tamper_auth(node: RunningNode, row: dict[str, Any]) -> None:
    with _db(node) as db:
        db.execute("UPDATE versions SET auth = ?", (json.dumps({"jwt": []}),))


def _tamper_app_config(node: RunningNode, row: dict[str, Any]) -> None:
    # Turning the app's WAF off in the store is tampering like any other.
    with _db(node) as db:
        db.execute("UPDATE versions SET app_config = ?", (json.dumps({"waf": {"mode": "off"}}),))


def _tamper_blob(node: RunningNode, row: dict[str, Any]) -> None:
    other = _app(node.data_dir.parent / "evil")
    (other / "greet.py").write_text("def handler(event, context):\n    return 'evil'\n")
    with _db(node) as db:
        db.execute("UPDATE artifacts SET data = ?", (pack_app(other),))
    code = node.data_dir / "artifacts" / row["artifact"]
    _writable(code)
    shutil.rmtree(code)  # the node unpacks it again from the (altered) store


def _drop_signature(node: RunningNode, row: dict[str, Any]) -> None:
    with _db(node) as db:
        db.execute("UPDATE versions SET signature = NULL")


@pytest.mark.parametrize(
    ("tamper", "reason"),
    [
        (_tamper_file, "artifact_tampered"),
        (_plant_file, "artifact_tampered"),
        (_tamper_config, "version_signature_invalid"),
        (_tamper_auth, "version_signature_invalid"),
        (_tamper_app_config, "version_signature_invalid"),
        (_tamper_blob, "artifact_tampered"),
        (_drop_signature, "version_unsigned"),
    ],
    ids=[
        "artifact-file",
        "planted-file",
        "config",
        "auth",
        "app-config",
        "stored-archive",
        "signature",
    ],
)
def test_tampered_version_does_not_start(
    node: RunningNode, tmp_path: Path, tamper: Any, reason: str
) -> None:
    node.deploy_ok(_app(tmp_path / "app"))
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    versions = node.control.get("/v1/functions/greet/versions").json()["versions"]
    assert versions[0]["signed"] is True and versions[0]["signer"]
    node.stop()
    tamper(node, _row(node))
    node.start()
    _refused(node, reason)
    assert not [r for r in node.invocations("greet") if r["status"] == "ok"][1:]


def test_missing_signing_key_with_signed_versions_refuses_to_start(
    node: RunningNode, tmp_path: Path
) -> None:
    node.deploy_ok(_app(tmp_path / "app"))
    node.stop()
    with _db(node) as db:
        db.execute("DELETE FROM crypto_signing_keys")
    with pytest.raises(RuntimeError, match="signed versions but no version-signing key"):
        node.start()


def test_versions_from_before_signing_are_signed_once_where_provable(
    node: RunningNode, tmp_path: Path
) -> None:
    """A store from before signing: artifacts keyed by the code digest alone (the first
    deploy's archive, manifest and all), no auth or signature columns, no key."""
    app = _app(tmp_path / "app")
    first_archive = pack_app(app)
    legacy_key = tree_digest(app)
    v1 = node.deploy_ok(app)["functions"][0]["version"]
    _app(app, AUTH_B)  # same code, another auth: the case the old layout got wrong
    v2 = node.deploy_ok(app)["functions"][0]["version"]
    assert v1 != v2
    node.stop()
    with _db(node) as db:
        db.execute("DELETE FROM artifacts")
        db.execute(
            "INSERT INTO artifacts (digest, size, data, created_at) VALUES (?, ?, ?, 0)",
            (legacy_key, len(first_archive), first_archive),
        )
        db.execute("UPDATE versions SET artifact = ?", (legacy_key,))
        db.execute("ALTER TABLE versions DROP COLUMN auth")
        db.execute("ALTER TABLE versions DROP COLUMN signature")
        db.execute("DROP TABLE crypto_signing_keys")
        # nor a signed audit chain: that came later still (its head would name the lost key)
        db.execute("DELETE FROM audit_events")
    (node.data_dir / "audit-head.json").unlink()
    artifacts = node.data_dir / "artifacts"
    _writable(artifacts)
    shutil.rmtree(artifacts)
    artifacts.mkdir(mode=0o700)

    node.start()
    migrated = _wait_audit(node, "registry.version_migrated", version=v1[:12])
    assert migrated["decision"] == "allow" and migrated["detail"]["reason"] == "signed"
    # The live version's auth is not the one in the shared archive: it cannot be proven.
    kept = _wait_audit(node, "registry.version_migrated", version=v2[:12])
    assert kept["decision"] == "deny" and kept["detail"]["reason"] == "version_id_mismatch"
    signed = {
        v["version"]: v["signed"]
        for v in node.control.get("/v1/functions/greet/versions").json()["versions"]
    }
    assert signed == {v1: True, v2: False}
    _refused(node, "version_unsigned")

    # The signed one runs; a redeploy signs the other; nothing is migrated twice.
    r = node.control.post("/v1/functions/greet/rollback", json={})
    assert r.status_code == 200 and r.json()["to"] == v1
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    assert node.deploy_ok(app)["functions"][0]["version"] == v2
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    versions = node.control.get("/v1/functions/greet/versions").json()["versions"]
    assert all(v["signed"] for v in versions)
    node.stop()
    node.start()
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    assert len([e for e in node.audit() if e["kind"] == "registry.version_migrated"]) == 2


def test_a_tampered_tree_is_unpacked_again_from_the_verified_archive(
    node: RunningNode, tmp_path: Path
) -> None:
    """Issue 11 F6: the tampered start is refused, then a redeploy recovers without a restart."""
    app = _app(tmp_path / "app")
    node.deploy_ok(app)
    node.stop()
    row = _row(node)
    _tamper_file(node, row)
    node.start()
    _refused(node, "artifact_tampered")
    report = node.deploy_ok(app)  # the same app again: the same version, its code unpacked anew
    assert report["functions"][0]["created"] is False
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    code = node.data_dir / "artifacts" / row["artifact"]
    assert "pwned" not in (code / "greet.py").read_text()
    assert not [p for p in code.parent.iterdir() if p.name.startswith(".")]  # nothing left aside

    # A deleted tree, on a running node, comes back on the next deploy too.
    _writable(code)
    shutil.rmtree(code)
    node.deploy_ok(app)
    assert node.gateway.get("/greet").json() == {"word": "hello"}
    assert (code / "greet.py").is_file()
