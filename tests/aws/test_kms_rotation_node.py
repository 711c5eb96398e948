"""A KMS ciphertext made before a KEK rotation still decrypts after retire and a node restart."""

from __future__ import annotations

import sqlite3
import time
from pathlib import Path

from botocore.exceptions import ClientError

from ramparts.crypto.envelope import Sealer
from tests.aws.conftest import boto_client
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: rot-kms
functions:
  crypt:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, resources: ["key:orders"],
           actions: ["kms:Encrypt", "kms:Decrypt", "kms:DescribeKey"]}
"""


def wait_rewrap_done(node: RunningNode) -> dict:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        job = node.control.get("/v1/encryption/status").json()["rewrap"]
        if job and job["state"] == "done":
            return job
        time.sleep(0.1)
    raise AssertionError(f"the re-wrap did not finish: {job}")


def app_key_kek(data_dir: Path) -> str:
    db = sqlite3.connect(data_dir / "state.db")
    try:
        (raw,) = db.execute("SELECT material FROM kms_app_keys").fetchone()
    finally:
        db.close()
    return Sealer.kek_of(raw)


def test_rotate_retire_restart_then_decrypt(tmp_path: Path) -> None:
    data = tmp_path / "data"
    node = RunningNode(data, {"RAMPARTS_KEYRING_REFRESH": "0.2"}).start()
    try:
        node.deploy_ok(
            make_app(tmp_path / "app", MANIFEST, {"h.py": "def handler(e, c):\n  return 1\n"})
        )
        kms = boto_client(node, "kms", "crypt")
        blob = kms.encrypt(
            KeyId="alias/orders", Plaintext=b"before rotation", EncryptionContext={"k": "v"}
        )["CiphertextBlob"]
        assert app_key_kek(data) == "k1"
        assert node.control.post("/v1/encryption/rotate").json()["kek"]["id"] == "k2"
        job = wait_rewrap_done(node)
        assert job["failed"] == 0, job
        assert app_key_kek(data) == "k2"  # the app key moved to the new KEK
        deadline = time.monotonic() + 30
        while True:  # the retire grace: a few keyring refreshes after the rotation
            retired = node.cli("encryption", "retire", "k1", "--force")
            if retired.returncode == 0 or "kek_too_recent" not in retired.stderr:
                break
            assert time.monotonic() < deadline, retired.stderr
            time.sleep(0.2)
        assert retired.returncode == 0, retired.stderr
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})
        assert out["Plaintext"] == b"before rotation"
        node.stop()
        node.start()
        kms = boto_client(node, "kms", "crypt")
        out = kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "v"})
        assert out["Plaintext"] == b"before rotation"
        try:
            kms.decrypt(CiphertextBlob=blob, EncryptionContext={"k": "other"})
            raise AssertionError("decrypted under another encryption context")
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "InvalidCiphertextException"
        assert kms.describe_key(KeyId="alias/orders")["KeyMetadata"]["Enabled"] is True
    finally:
        node.close()
