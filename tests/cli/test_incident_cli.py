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


def _export(tmp_path: Path) -> tuple[VersionSigner, dict[str, object], Path]:
    """A well-formed incident export signed by a fresh key, written to ``tmp_path``."""
    signer = VersionSigner(Ed25519PrivateKey.generate(), created=True)
    bundle = _bundle(signer)
    incident = {
        "id": "x",
        "state": "open",
        "steps": [{"action": "notify", "status": "done", "requires_approval": False}],
    }
    bundle["contents"]["incident"] = incident  # type: ignore[index]
    bundle["signature"] = signer.sign(canonical(bundle["contents"]))
    doc = {
        "format": "ramparts-incident-export/1",
        "exported_at": 1.0,
        "incident": {**incident, "has_evidence": False},
        "bundle": bundle,
        "snapshot": None,
        "verification": {
            "command": f"ramparts incident verify FILE --public-key {signer.key_id}",
            "key_id": signer.key_id,
        },
    }
    path = tmp_path / "export.json"
    path.write_text(json.dumps(doc))
    return signer, doc, path


def test_a_given_but_empty_or_unusable_public_key_is_a_usage_error(tmp_path: Path) -> None:
    """adv-irp3 F3: ``--public-key ""`` (an unset variable) verified against the file's own
    key, looking pinned; every unusable pin is now exit 2 naming the flag."""
    _, _, path = _export(tmp_path)
    empty = tmp_path / "empty.pem"
    empty.write_text("")
    junk = tmp_path / "junk.pem"
    junk.write_text("not a key")
    for given in ("", "  ", str(tmp_path / "missing.pem"), str(empty), str(junk), "ABCDEF"):
        out = _cli("incident", "verify", str(path), "--public-key", given)
        assert out.returncode == 2, (given, out.stdout, out.stderr)
        assert "--public-key" in out.stderr and "Traceback" not in out.stderr, given
        assert "verifies" not in out.stdout, given


def test_an_unpinned_verify_says_it_proves_integrity_not_origin(tmp_path: Path) -> None:
    signer, _, path = _export(tmp_path)
    out = _cli("incident", "verify", str(path))
    assert out.returncode == 0, out.stdout + out.stderr
    text = " ".join(out.stdout.split())
    assert "not pinned" in text and "integrity, not origin" in text
    assert "not signed, not trusted: exported_at, verification" in text
    pinned = _cli("incident", "verify", str(path), "--public-key", signer.key_id, "--json")
    assert pinned.returncode == 0, pinned.stdout + pinned.stderr
    report = json.loads(pinned.stdout)
    assert report["pinned"] is True and report["unsigned"] == ["exported_at", "verification"]
    assert not any("not pinned" in n for n in report["notices"])


def test_the_readable_copy_must_equal_the_signed_one_as_json(tmp_path: Path) -> None:
    """adv-irp3 F6: ``false`` -> ``0`` and an added top-level field passed, and the key id
    the reader is told to pin was not checked against the signer."""
    signer, doc, path = _export(tmp_path)
    assert _cli("incident", "verify", str(path), "--public-key", signer.key_id).returncode == 0
    changes = {
        "false-to-0": lambda d: d["incident"]["steps"][0].update(requires_approval=0),
        "extra-top-level": lambda d: d.update(note="verified by CISO"),
        "extra-in-bundle": lambda d: d["bundle"].update(note="verified by CISO"),
        "pin-advice": lambda d: d["verification"].update(key_id="0" * 16),
    }
    for name, change in changes.items():
        altered = json.loads(json.dumps(doc))
        change(altered)
        bad = tmp_path / f"{name}.json"
        bad.write_text(json.dumps(altered))
        out = _cli("incident", "verify", str(bad), "--public-key", signer.key_id)
        assert out.returncode == 1 and "FAILS" in out.stdout, (name, out.stdout, out.stderr)
