"""``ramparts playbook check`` and ``ramparts incident verify`` need no node: bad input gets a
message naming the file (and field), a non-zero exit and no traceback; a bundle verifies only
with its own key and unchanged contents."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from ramparts.containment.bundle import FORMAT, canonical
from ramparts.crypto.signing import VersionSigner
from ramparts.observe.evidence import EXPORT_FORMAT


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", *args],
        capture_output=True,
        text=True,
        timeout=120,
    )


def test_playbook_check(tmp_path: Path) -> None:
    good = tmp_path / "good.yaml"
    good.write_text("playbooks:\n  - name: a\n    actions: [{notify: {webhook: true}}]\n")
    out = _cli("playbook", "check", str(good))
    assert out.returncode == 0 and "1 playbook(s) valid" in out.stdout
    bad = tmp_path / "bad.yaml"
    bad.write_text("playbooks:\n  - name: a\n    actions: [{quarantine: {function: 7}}]\n")
    out = _cli("playbook", "check", str(bad))
    assert out.returncode == 1
    assert "bad.yaml" in out.stderr and "playbooks[0].actions[0].quarantine.function" in out.stderr
    assert "Traceback" not in out.stderr
    aimed = tmp_path / "aimed.yaml"
    aimed.write_text("playbooks:\n  - name: a\n    match: {}\n    actions: [{quarantine: {}}]\n")
    out = _cli("playbook", "check", str(aimed))
    assert out.returncode == 0 and "1 playbook(s) valid" in out.stdout
    text = " ".join(out.stdout.split())
    assert "match is empty" in text
    assert "actions[0].quarantine takes its function from the alert's evidence" in text
    assert "target_from_evidence: true" in text
    missing = _cli("playbook", "check", str(tmp_path / "none.yaml"))
    assert missing.returncode == 1 and "none.yaml" in missing.stderr
    assert "Traceback" not in missing.stderr


def _bundle(signer: VersionSigner) -> dict[str, object]:
    statement = {"from": 0.0, "to": 1.0, "exported_at": 1.0, "starts": {}, "ends": {}}
    from ramparts.observe.chain import statement_payload

    audit = {
        "format": EXPORT_FORMAT,
        "partitions": [],
        "statement": statement,
        "signature": signer.sign(statement_payload("export", statement)),
        "key_id": signer.key_id,
        "public_key": signer.public_key_pem(),
    }
    contents = {"audit": audit, "functions": [], "incident": {"id": "x", "state": "open"}}
    return {
        "format": FORMAT,
        "contents": contents,
        "signature": signer.sign(canonical(contents)),
        "key_id": signer.key_id,
        "public_key": signer.public_key_pem(),
    }


def test_verify_bundle_offline(tmp_path: Path) -> None:
    signer = VersionSigner(Ed25519PrivateKey.generate(), created=True)
    path = tmp_path / "bundle.json"
    path.write_text(json.dumps(_bundle(signer)))
    ok = _cli("incident", "verify", str(path), "--public-key", signer.key_id)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    pem = tmp_path / "node.pem"
    pem.write_text(signer.public_key_pem())
    assert _cli("incident", "verify", str(path), "--public-key", str(pem)).returncode == 0
    other = (
        Ed25519PrivateKey.generate()
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
    )
    wrong = tmp_path / "other.pem"
    wrong.write_bytes(other)
    assert _cli("incident", "verify", str(path), "--public-key", str(wrong)).returncode == 1
    changed = tmp_path / "changed.json"
    changed.write_text(path.read_text().replace('"open"', '"shut"'))
    out = _cli("incident", "verify", str(changed))
    assert out.returncode == 1 and "FAILS" in out.stdout
    junk = tmp_path / "junk.json"
    junk.write_text("{not json")
    out = _cli("incident", "verify", str(junk))
    assert out.returncode == 1 and "junk.json" in out.stderr and "Traceback" not in out.stderr
    listed = tmp_path / "list.json"
    listed.write_text("[1, 2]")
    out = _cli("incident", "verify", str(listed))
    assert out.returncode == 1 and "list.json" in out.stderr and "Traceback" not in out.stderr
    other_doc = tmp_path / "other.json"
    other_doc.write_text('{"format": "something-else"}')
    out = _cli("incident", "verify", str(other_doc))
    assert out.returncode == 1 and "not a ramparts-evidence-bundle/1" in out.stderr
