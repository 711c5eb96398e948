"""Per-app data keys for the KMS-compatible API, kept in the node's keyring.

An app key is 32 random bytes that encrypt and decrypt what a function asks
``kms.encrypt`` / ``kms.decrypt`` to.  It never leaves the host: a worker
only ever sees ciphertext blobs and the plaintext it sent or asked for.  At
rest each key is a sealed record (``Sealer.seal``, AAD
``kmskey\\0APP\\0KEY-ID``) in the table ``kms_app_keys``: its data key is
wrapped by the current key-encryption key, which the master key wraps, so a
stolen database without the master key yields nothing, and a key row copied
to another app or id does not open.  ``ramparts encryption rotate`` re-wraps
these rows like every other sealed record (``ramparts.crypto.rewrap``
lists the table), and ``retire`` refuses while one still needs the old KEK.

A key has a name (the alias, ``alias/NAME`` to AWS callers) and an id, a
UUID derived from the app and the name, so every node and offline tools
agree on it without a lookup.  Keys are created on first use by name
(:meth:`AppKeys.get_or_create`) and never deleted by the API.
"""

from __future__ import annotations

import os
import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from sqlalchemy import (
    Column,
    Float,
    LargeBinary,
    MetaData,
    String,
    Table,
    UniqueConstraint,
    and_,
    insert,
    select,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import BackendError, DecryptionError

appkeys_metadata = MetaData()
kms_app_keys_t = Table(
    "kms_app_keys",
    appkeys_metadata,
    Column("app", String(63), primary_key=True),
    Column("key_id", String(36), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("material", LargeBinary, nullable=False),  # sealed, never plain
    Column("created_at", Float, nullable=False),
    UniqueConstraint("app", "name", name="uq_kms_app_keys_name"),
)
_KEY_NS = uuid.UUID("0b7f5b7e-58d4-4c38-8f3e-2a9f3c1e4d21")


def key_id_for(app: str, name: str) -> str:
    """The stable UUID of ``app``'s key ``name`` (the KeyId AWS callers see)."""
    return str(uuid.uuid5(_KEY_NS, f"{app}\x00{name}"))


def seal_context(app: str, key_id: str) -> bytes:
    return aad("kmskey", app, key_id)


@dataclass(frozen=True)
class AppKey:
    app: str
    key_id: str
    name: str
    created_at: float
    material: bytes  # 32 bytes; lives in memory only while a call uses it

    def __repr__(self) -> str:  # never print the material
        return f"AppKey({self.app!r}, {self.key_id!r}, {self.name!r})"


class AppKeys:
    """The ``kms_app_keys`` table: app keys sealed by ``sealer``."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        appkeys_metadata.create_all(engine)

    def _open(self, row: Any) -> AppKey:
        material = self._sealer.open(bytes(row.material), seal_context(row.app, row.key_id))
        return AppKey(row.app, row.key_id, row.name, row.created_at, material)

    def by_id(self, app: str, key_id: str) -> AppKey | None:
        with self._engine.begin() as conn:
            row = conn.execute(
                select(kms_app_keys_t).where(
                    and_(kms_app_keys_t.c.app == app, kms_app_keys_t.c.key_id == key_id)
                )
            ).first()
        return None if row is None else self._open(row)

    def by_name(self, app: str, name: str) -> AppKey | None:
        return self.by_id(app, key_id_for(app, name))

    def get_or_create(self, app: str, name: str) -> AppKey:
        found = self.by_name(app, name)
        if found is not None:
            return found
        key_id = key_id_for(app, name)
        material = AESGCM.generate_key(bit_length=256)
        try:
            with self._engine.begin() as conn:
                conn.execute(
                    insert(kms_app_keys_t).values(
                        app=app,
                        key_id=key_id,
                        name=name,
                        material=self._sealer.seal(material, seal_context(app, key_id)),
                        created_at=time.time(),
                    )
                )
        except IntegrityError:
            pass  # another call or node created it at the same moment: use theirs
        found = self.by_id(app, key_id)
        if found is None:
            raise BackendError("the app key could not be stored", code="key_store_failed")
        return found


# -- ciphertext blobs ---------------------------------------------------------------------------
# What ``kms.encrypt`` returns, version 1 (lengths in bytes):
#
#     "RKM" 0x01 | key id (16, the UUID's bytes) | nonce (12) | ciphertext + tag (>= 16)
#
# AES-256-GCM under the app key; the AAD is the 20-byte header, a NUL and the
# EncryptionContext as canonical JSON (keys sorted), so a blob opens only with
# the same context it was made with, and only under the key its header names.
BLOB_MAGIC = b"RKM\x01"
_HEADER = len(BLOB_MAGIC) + 16
_NONCE = 12
_TAG = 16


def _context_aad(header: bytes, context: dict[str, str]) -> bytes:
    return header + b"\x00" + orjson.dumps(context, option=orjson.OPT_SORT_KEYS)


def seal_blob(key: AppKey, plaintext: bytes, context: dict[str, str]) -> bytes:
    header = BLOB_MAGIC + uuid.UUID(key.key_id).bytes
    nonce = os.urandom(_NONCE)
    body = AESGCM(key.material).encrypt(nonce, plaintext, _context_aad(header, context))
    return header + nonce + body


def blob_key_id(blob: bytes) -> str:
    """The key id a blob names; ``DecryptionError`` if it is not one of our blobs."""
    if len(blob) < _HEADER + _NONCE + _TAG or blob[: len(BLOB_MAGIC)] != BLOB_MAGIC:
        raise DecryptionError("not a ciphertext blob", code="invalid_ciphertext")
    return str(uuid.UUID(bytes=blob[len(BLOB_MAGIC) : _HEADER]))


def open_blob(key: AppKey, blob: bytes, context: dict[str, str]) -> bytes:
    if blob_key_id(blob) != key.key_id:
        raise DecryptionError("the blob was made under another key", code="invalid_ciphertext")
    header, nonce, body = blob[:_HEADER], blob[_HEADER : _HEADER + _NONCE], blob[_HEADER + _NONCE :]
    try:
        return AESGCM(key.material).decrypt(nonce, body, _context_aad(header, context))
    except InvalidTag:
        raise DecryptionError(
            "the blob failed authentication (tampered, or another encryption context)",
            code="invalid_ciphertext",
        ) from None
