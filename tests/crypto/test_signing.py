"""The version-signing key: one per store, sealed at rest, never silently replaced."""

from __future__ import annotations

import base64
from collections.abc import Iterator
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from sqlalchemy import text

from ramparts.crypto.envelope import Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.crypto.signing import open_signer
from ramparts.errors import SigningKeyError
from ramparts.store.sql import SQLStore


@pytest.fixture()
def store(tmp_path: Path) -> Iterator[SQLStore]:
    s = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture()
def sealer(store: SQLStore, tmp_path: Path) -> Sealer:
    return Sealer(Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={})))


def test_created_once_then_loaded(store: SQLStore, sealer: Sealer) -> None:
    first = open_signer(store.engine, sealer, has_signed=lambda: False)
    again = open_signer(store.engine, sealer, has_signed=lambda: False)
    assert first.created and not again.created
    assert first.key_id == again.key_id
    sig = first.sign(b"payload")
    assert sig.startswith(f"ed25519:{first.key_id}:")
    assert again.verify(b"payload", sig)


def test_private_key_is_sealed_at_rest(store: SQLStore, sealer: Sealer) -> None:
    signer = open_signer(store.engine, sealer, has_signed=lambda: False)
    raw = signer._private.private_bytes(  # the test may look; nothing else does
        serialization.Encoding.Raw, serialization.PrivateFormat.Raw, serialization.NoEncryption()
    )
    with store.engine.begin() as conn:
        rows = conn.execute(text("SELECT * FROM crypto_signing_keys")).all()
    dump = repr(rows).encode()
    assert len(rows) == 1 and raw not in bytes(rows[0].sealed) and raw.hex().encode() not in dump


@pytest.mark.parametrize(
    "bad",
    [
        b"payload!",  # another payload
        None,  # a signature by another key
    ],
)
def test_verify_refuses_what_this_key_did_not_sign(
    store: SQLStore, sealer: Sealer, tmp_path: Path, bad: bytes | None
) -> None:
    signer = open_signer(store.engine, sealer, has_signed=lambda: False)
    sig = signer.sign(b"payload")
    if bad is not None:
        assert not signer.verify(bad, sig)
        return
    other_store = SQLStore(f"sqlite:///{tmp_path / 'other.db'}")
    (tmp_path / "o").mkdir()
    try:
        other_sealer = Sealer(
            Keyring(other_store.engine, resolve_master_key(tmp_path / "o", create=True, environ={}))
        )
        other = open_signer(other_store.engine, other_sealer, has_signed=lambda: False)
        forged = other.sign(b"payload")
        assert not signer.verify(b"payload", forged)
        # Even claiming this key's id does not help.
        assert not signer.verify(b"payload", forged.replace(other.key_id, signer.key_id))
    finally:
        other_store.close()
    for garbage in ("", "ed25519", f"ed25519:{signer.key_id}:!!", "rsa:x:y"):
        assert not signer.verify(b"payload", garbage)


def test_altered_key_refuses_to_load(store: SQLStore, sealer: Sealer) -> None:
    open_signer(store.engine, sealer, has_signed=lambda: False)
    with store.engine.begin() as conn:
        sealed = bytes(conn.execute(text("SELECT sealed FROM crypto_signing_keys")).scalar_one())
        flipped = sealed[:-1] + bytes([sealed[-1] ^ 1])
        conn.execute(text("UPDATE crypto_signing_keys SET sealed = :s"), {"s": flipped})
    with pytest.raises(SigningKeyError, match="does not open"):
        open_signer(store.engine, sealer, has_signed=lambda: False)


def test_missing_key_for_signed_versions_is_not_recreated(
    store: SQLStore, sealer: Sealer
) -> None:
    with pytest.raises(SigningKeyError, match="signed versions but no version-signing key"):
        open_signer(store.engine, sealer, has_signed=lambda: True)
    with store.engine.begin() as conn:
        assert conn.execute(text("SELECT count(*) FROM crypto_signing_keys")).scalar_one() == 0


def test_signature_text_is_base64(store: SQLStore, sealer: Sealer) -> None:
    signer = open_signer(store.engine, sealer, has_signed=lambda: False)
    assert len(base64.b64decode(signer.sign(b"x").split(":")[2])) == 64
