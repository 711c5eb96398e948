"""Re-wrap after a KEK rotation: every sealed table, app keys included; nothing is miscounted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.crypto.appkeys import AppKeys, open_blob, seal_blob
from ramparts.crypto.envelope import Sealer
from ramparts.crypto.seams import SealedStore
from ramparts.crypto.vault import Vault, open_vault
from ramparts.identity.records import metadata as identity_metadata
from ramparts.store import open_store
from ramparts.store.base import Store


@pytest.fixture()
def opened(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Store, Vault]]:
    monkeypatch.setenv("RAMPARTS_KEYRING_REFRESH", "0.05")  # a short retire grace
    store = open_store(f"sqlite:///{tmp_path / 'state.db'}")
    identity_metadata.create_all(store.engine)  # type: ignore[attr-defined]  # as a node does
    yield store, open_vault(store, tmp_path)
    store.close()


def run_job(vault: Vault) -> dict:
    while vault.rewrapper.step():
        pass
    status = vault.rewrapper.status()
    assert status is not None and status["state"] == "done"
    return status


def invocation(request_id: str, logs: str) -> dict:
    return {
        "request_id": request_id,
        "function": "fn",
        "version": "v",
        "trigger": "http",
        "status": "ok",
        "started_at": time.time(),
        "duration_ms": 1.0,
        "cold": 0,
        "error_type": None,
        "error_message": None,
        "logs": logs,
    }


def retire_old(vault: Vault, kek: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            vault.retire(kek)
            return
        except Exception as exc:  # the grace after a rotation: retry until it has passed
            if getattr(exc, "code", "") != "kek_too_recent" or time.monotonic() > deadline:
                raise
            time.sleep(0.05)


def test_invocations_without_logs_are_not_failures(opened: tuple[Store, Vault]) -> None:
    store, vault = opened
    sealed = SealedStore(store, vault.sealer)
    # a handler that printed nothing leaves logs "" (the column is NOT NULL): nothing sealed
    sealed.add_invocations([invocation("r-empty", ""), invocation("r-logs", "printed a line")])
    vault.rotate()
    status = run_job(vault)
    assert status["failed"] == 0, status
    assert status["rewrapped"] >= 1
    assert vault.rewrapper.remaining("k1") == 0
    rows = {r["request_id"]: r for r in sealed.list_invocations("fn", 0, 10)}
    assert rows["r-logs"]["logs"] == "printed a line" and rows["r-empty"]["logs"] == ""


def test_app_keys_follow_rotation_and_survive_retire(
    opened: tuple[Store, Vault], tmp_path: Path
) -> None:
    store, vault = opened
    engine = store.engine  # type: ignore[attr-defined]
    keys = AppKeys(engine, vault.sealer)
    key = keys.get_or_create("shop", "orders")
    blob = seal_blob(key, b"card 4242", {"order": "o-1"})
    assert keys.get_or_create("shop", "orders").material == key.material  # created once
    assert keys.by_name("other", "orders") is None  # keys are per app
    vault.rotate()
    run_job(vault)
    from sqlalchemy import select

    from ramparts.crypto.appkeys import kms_app_keys_t

    with engine.begin() as conn:
        material = conn.execute(select(kms_app_keys_t.c.material)).scalar_one()
    assert Sealer.kek_of(bytes(material)) == "k2"
    retire_old(vault, "k1")
    # a node started afresh (new keyring, k1 gone) still decrypts the old ciphertext
    again = open_vault(store, tmp_path)
    reloaded = AppKeys(engine, again.sealer).by_name("shop", "orders")
    assert reloaded is not None
    assert open_blob(reloaded, blob, {"order": "o-1"}) == b"card 4242"


def test_retire_refuses_while_an_app_key_needs_the_old_kek(opened: tuple[Store, Vault]) -> None:
    store, vault = opened
    engine = store.engine  # type: ignore[attr-defined]
    AppKeys(engine, vault.sealer).get_or_create("shop", "orders")
    assert vault.rewrapper.remaining("k1") == 1  # the app key is counted as a k1 record
    vault.keyring.rotate()  # a rotation whose job never ran: retire must sweep first
    retire_old(vault, "k1")
    assert vault.rewrapper.remaining("k1") == 0
    assert AppKeys(engine, vault.sealer).by_name("shop", "orders") is not None


def test_the_version_signing_key_survives_retire(
    opened: tuple[Store, Vault], tmp_path: Path
) -> None:
    """Retiring the KEK that sealed the signing key left a node that could not start."""
    from ramparts.crypto.signing import open_signer

    store, vault = opened
    engine = store.engine  # type: ignore[attr-defined]
    signer = open_signer(engine, vault.sealer, has_signed=lambda: False)
    signature = signer.sign(b"version")
    vault.rotate()
    assert run_job(vault)["failed"] == 0
    assert vault.rewrapper.remaining("k1") == 0
    retire_old(vault, "k1")
    again = open_vault(store, tmp_path)  # what the next start of the node does
    reopened = open_signer(engine, again.sealer, has_signed=lambda: True)
    assert reopened.key_id == signer.key_id and reopened.verify(b"version", signature)
