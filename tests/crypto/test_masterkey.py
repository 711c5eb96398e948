"""Where the master key comes from, and every way it can be missing, exposed or wrong."""

from __future__ import annotations

import base64
import os
import stat
from pathlib import Path

import pytest

from ramparts.crypto.envelope import Sealer, aad
from ramparts.crypto.keyring import Keyring, has_keks
from ramparts.crypto.kms import VaultTransit, open_kms
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.errors import ConfigError, MasterKeyError
from ramparts.store.sql import SQLStore
from tests.crypto.servers import TransitServer


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
def test_vault_transit_wraps_the_keks(transit: str, tmp_path: Path) -> None:
    env = {"RAMPARTS_KMS_URL": transit, "VAULT_TOKEN": TransitServer.token}
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
        assert "/v1/transit/decrypt/ramparts" in TransitServer.calls
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


def test_empty_key_file_from_an_interrupted_write(tmp_path: Path) -> None:
    """A 0-byte master.key (a crash mid-write, before writes were atomic) never blocks a
    fresh store, and is never silently replaced over encrypted data."""
    path = tmp_path / "master.key"
    path.touch(mode=0o600)
    with pytest.raises(MasterKeyError, match="is empty .* restore master.key from your backup"):
        resolve_master_key(tmp_path, create=False, environ={})
    assert path.read_bytes() == b""  # untouched when the store holds KEKs
    master = resolve_master_key(tmp_path, create=True, environ={})  # an empty store: replaced
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert resolve_master_key(tmp_path, create=False, environ={}).key_id == master.key_id
    assert [p.name for p in tmp_path.iterdir()] == ["master.key"]  # no temp file left over
