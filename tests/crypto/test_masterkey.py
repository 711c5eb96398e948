"""Where the master key comes from, and every way it can be missing, exposed or wrong."""

from __future__ import annotations

import base64
import json
import os
import stat
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.crypto.envelope import Sealer, aad
from ramparts.crypto.keyring import Keyring, has_keks
from ramparts.crypto.kms import VaultTransit, open_kms
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.errors import ConfigError, MasterKeyError
from ramparts.store.sql import SQLStore


def _key() -> str:
    return base64.urlsafe_b64encode(os.urandom(32)).decode()


def test_first_start_creates_a_private_key_file(tmp_path: Path) -> None:
    master = resolve_master_key(tmp_path, create=True, environ={})
    path = tmp_path / "master.key"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = resolve_master_key(tmp_path, create=False, environ={})
    assert again.key_id == master.key_id
    assert path.read_text().strip() not in repr(master)


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    resolve_master_key(tmp_path, create=True, environ={})
    os.chmod(tmp_path / "master.key", 0o644)
    with pytest.raises(MasterKeyError, match="chmod 600"):
        resolve_master_key(tmp_path, create=False, environ={})


def test_environment_and_key_file_path(tmp_path: Path) -> None:
    key = _key()
    a = resolve_master_key(tmp_path, create=True, environ={"RAMPARTS_MASTER_KEY": key})
    assert not (tmp_path / "master.key").exists()  # an explicit key is never written out
    path = tmp_path / "elsewhere.key"
    path.write_text(key + "\n")
    os.chmod(path, 0o600)
    b = resolve_master_key(tmp_path, create=True, environ={"RAMPARTS_MASTER_KEY_FILE": str(path)})
    assert a.key_id == b.key_id
    with pytest.raises(MasterKeyError, match="32 bytes"):
        resolve_master_key(tmp_path, create=True, environ={"RAMPARTS_MASTER_KEY": "c2hvcnQ="})
    with pytest.raises(MasterKeyError, match="base64"):
        resolve_master_key(tmp_path, create=True, environ={"RAMPARTS_MASTER_KEY": "a"})


def test_missing_master_key_for_an_encrypted_store(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={}))
        assert has_keks(store.engine)
        (tmp_path / "master.key").unlink()
        with pytest.raises(MasterKeyError, match="no master key was found"):
            resolve_master_key(tmp_path, create=not has_keks(store.engine), environ={})
    finally:
        store.close()


def test_wrong_master_key_is_refused(tmp_path: Path) -> None:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={}))
        other = resolve_master_key(tmp_path, create=True, environ={"RAMPARTS_MASTER_KEY": _key()})
        with pytest.raises(MasterKeyError, match="wrong master key"):
            Keyring(store.engine, other)
    finally:
        store.close()


# -- the Vault Transit plugin against a real HTTP server speaking Transit's API ----------------
class _Vault(BaseHTTPRequestHandler):
    key = AESGCM.generate_key(bit_length=256)
    token = "s.test-token"
    calls: list[str] = []

    def log_message(self, *args: object) -> None:
        pass

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = json.loads(self.rfile.read(int(self.headers["content-length"])))
        self.calls.append(self.path)
        if self.headers.get("X-Vault-Token") != self.token:
            return self._send(403, {"errors": ["permission denied"]})
        aead = AESGCM(self.key)
        if self.path == "/v1/transit/encrypt/ramparts":
            nonce = os.urandom(12)
            ct = aead.encrypt(nonce, base64.b64decode(body["plaintext"]), None)
            return self._send(
                200, {"data": {"ciphertext": "vault:v1:" + base64.b64encode(nonce + ct).decode()}}
            )
        if self.path == "/v1/transit/decrypt/ramparts":
            raw = base64.b64decode(body["ciphertext"].removeprefix("vault:v1:"))
            try:
                pt = aead.decrypt(raw[:12], raw[12:], None)
            except Exception:
                return self._send(400, {"errors": ["cipher: message authentication failed"]})
            return self._send(200, {"data": {"plaintext": base64.b64encode(pt).decode()}})
        self._send(404, {"errors": []})

    def _send(self, status: int, data: dict) -> None:
        out = json.dumps(data).encode()
        self.send_response(status)
        self.send_header("content-type", "application/json")
        self.send_header("content-length", str(len(out)))
        self.end_headers()
        self.wfile.write(out)


@pytest.fixture()
def vault() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Vault)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"vault+http://127.0.0.1:{server.server_address[1]}/transit/ramparts"
    server.shutdown()
    server.server_close()


def test_vault_transit_wraps_the_keks(vault: str, tmp_path: Path) -> None:
    env = {"RAMPARTS_KMS_URL": vault, "VAULT_TOKEN": _Vault.token}
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    try:
        master = resolve_master_key(tmp_path, create=True, environ=env)
        assert isinstance(master, VaultTransit) and master.key_id == "vault:transit/ramparts"
        sealer = Sealer(Keyring(store.engine, master))
        record = sealer.seal(b"kept by vault", aad("kv", "a", "t", "k"))
        assert not (tmp_path / "master.key").exists()
        # a new node process: the KEK is unwrapped by Vault again
        again = Sealer(
            Keyring(store.engine, resolve_master_key(tmp_path, create=False, environ=env))
        )
        assert again.open(record, aad("kv", "a", "t", "k")) == b"kept by vault"
        assert "/v1/transit/decrypt/ramparts" in _Vault.calls
        bad = {**env, "VAULT_TOKEN": "wrong"}
        with pytest.raises(MasterKeyError, match="refused decrypt"):
            Keyring(store.engine, resolve_master_key(tmp_path, create=False, environ=bad))
    finally:
        store.close()


def test_vault_unreachable_and_bad_urls() -> None:
    with pytest.raises(ConfigError, match="unknown KMS scheme"):
        open_kms("aws-kms://x", {})
    with pytest.raises(MasterKeyError, match="VAULT_TOKEN"):
        open_kms("vault+http://127.0.0.1:1/transit/k", {})
    kms = open_kms("vault+http://127.0.0.1:1/transit/k", {"VAULT_TOKEN": "t"})
    with pytest.raises(MasterKeyError, match="unreachable"):
        kms.wrap(b"x" * 32, b"k1")
