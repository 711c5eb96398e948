"""Envelope encryption with a real keyring in a real SQLite store: bad records fail closed."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import text

from ramparts.crypto.envelope import MAGIC, Sealer, aad
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.crypto.seams import SealedStore
from ramparts.errors import DecryptionError
from ramparts.store.sql import SQLStore

CTX = aad("kv", "app", "orders", "o-1")


@pytest.fixture()
def store(tmp_path: Path) -> SQLStore:
    s = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield s
    s.close()


@pytest.fixture()
def keyring(store: SQLStore, tmp_path: Path) -> Keyring:
    return Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={}))


@pytest.fixture()
def sealer(keyring: Keyring) -> Sealer:
    return Sealer(keyring)


def test_roundtrip_fresh_key_and_nonce_per_record(sealer: Sealer) -> None:
    a = sealer.seal(b"hello world", CTX)
    b = sealer.seal(b"hello world", CTX)
    assert a != b and a.startswith(MAGIC) and b"hello" not in a
    assert sealer.open(a, CTX) == sealer.open(b, CTX) == b"hello world"
    assert Sealer.kek_of(a) == "k1"


@pytest.mark.parametrize("where", [6, 10, 40, -1, -20])
def test_flipped_byte_fails(sealer: Sealer, where: int) -> None:
    record = bytearray(sealer.seal(b"x" * 100, CTX))
    record[where] ^= 0x01
    with pytest.raises(DecryptionError):
        sealer.open(bytes(record), CTX)


def test_wrong_aad_fails(sealer: Sealer) -> None:
    record = sealer.seal(b"secret item", CTX)
    with pytest.raises(DecryptionError) as exc:
        sealer.open(record, aad("kv", "app", "orders", "o-2"))
    assert exc.value.code == "decryption_failed"


@pytest.mark.parametrize("cut", [0, 3, 5, 20, 80])
def test_truncated_record_fails(sealer: Sealer, cut: int) -> None:
    record = sealer.seal(b"some data", CTX)
    with pytest.raises(DecryptionError) as exc:
        sealer.open(record[:cut], CTX)
    assert exc.value.code == "malformed_record"


def test_tail_truncation_fails(sealer: Sealer) -> None:
    record = sealer.seal(b"some longer data" * 10, CTX)
    with pytest.raises(DecryptionError):
        sealer.open(record[:-5], CTX)


def test_unknown_key_id_fails(sealer: Sealer) -> None:
    record = sealer.seal(b"data", CTX)
    forged = MAGIC + bytes((3,)) + b"k99" + record[4 + 1 + 2 :]
    with pytest.raises(DecryptionError) as exc:
        sealer.open(forged, CTX)
    assert exc.value.code == "unknown_key"


def test_rotation_rewrap_and_retire(keyring: Keyring, sealer: Sealer) -> None:
    old = sealer.seal(b"before rotation", CTX)
    info = keyring.rotate()
    assert keyring.current_id == info.id == "k2"
    new = sealer.seal(b"after rotation", CTX)
    assert Sealer.kek_of(new) == "k2"
    assert sealer.open(old, CTX) == b"before rotation"  # the old KEK still opens
    moved = sealer.rewrap(old, "k2")
    assert moved is not None and Sealer.kek_of(moved) == "k2"
    assert sealer.rewrap(moved, "k2") is None
    keyring.retire("k1")
    assert sealer.open(moved, CTX) == b"before rotation"
    with pytest.raises(DecryptionError):
        sealer.open(old, CTX)  # a record left on a retired KEK is unreadable, never garbage


def test_ciphertext_copied_to_another_record_fails(store: SQLStore, sealer: Sealer) -> None:
    sealed = SealedStore(store, sealer)
    sealed.kv_put("app", "orders", "a", b'{"total": 1}', [])
    sealed.kv_put("app", "orders", "b", b'{"total": 2}', [])
    with store.engine.begin() as conn:
        conn.execute(
            text(
                "UPDATE kv_items SET value = (SELECT value FROM kv_items WHERE key = 'a') "
                "WHERE key = 'b'"
            )
        )
    assert sealed.kv_get("app", "orders", "a") == b'{"total": 1}'
    with pytest.raises(DecryptionError):
        sealed.kv_get("app", "orders", "b")


def test_object_size_and_etag_describe_the_plaintext(store: SQLStore, sealer: Sealer) -> None:
    import hashlib

    sealed = SealedStore(store, sealer)
    rec = sealed.object_put("app", "files", "a.bin", b"\x00" * 1000, "x/y", [])
    assert rec.size == 1000 and rec.etag == hashlib.md5(b"\x00" * 1000).hexdigest()
    listed = sealed.object_list("app", "files", "", 10)
    assert listed[0].size == 1000
    assert sealed.object_get("app", "files", "a.bin")[1] == b"\x00" * 1000
    raw = store.object_get("app", "files", "a.bin")
    assert raw is not None and raw[1].startswith(MAGIC)


def test_text_records(sealer: Sealer) -> None:
    ctx = aad("inv", "req-1", "logs")
    value = sealer.seal_text("line one\nline two", ctx)
    assert value.startswith("enc1:") and "line" not in value
    assert sealer.open_text(value, ctx) == "line one\nline two"
    with pytest.raises(DecryptionError):
        sealer.open_text(value, aad("inv", "req-2", "logs"))
    with pytest.raises(DecryptionError):
        sealer.open_text("plain text", ctx)


def _flip_last(v: bytes) -> bytes:
    return v[:-1] + bytes((v[-1] ^ 0x01,))


def _unknown_kek(v: bytes) -> bytes:
    assert v[4:7] == b"\x02k1"
    return v[:6] + b"9" + v[7:]  # "k1" -> "k9", a KEK the keyring never had


@pytest.mark.parametrize(
    ("tamper", "code"),
    [
        (_flip_last, "decryption_failed"),
        (lambda v: v[:40], "malformed_record"),
        (_unknown_kek, "unknown_key"),
    ],
    ids=["flipped-bit", "truncated", "unknown-kek"],
)
def test_tampered_rows_in_the_database_fail(
    store: SQLStore, sealer: Sealer, tamper: object, code: str
) -> None:
    """Edit the stored row in the SQLite file itself; the read fails closed, never garbage."""
    sealed = SealedStore(store, sealer)
    sealed.kv_put("app", "orders", "a", b'{"total": 1}' * 10, [])
    with store.engine.begin() as conn:
        raw = conn.execute(text("SELECT value FROM kv_items WHERE key = 'a'")).scalar_one()
        conn.execute(
            text("UPDATE kv_items SET value = :v WHERE key = 'a'"), {"v": tamper(bytes(raw))}
        )
    with pytest.raises(DecryptionError) as exc:
        sealed.kv_get("app", "orders", "a")
    assert exc.value.code == code
