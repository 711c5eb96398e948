"""Envelope encryption: the one place where user data is sealed and opened.

Every value Ramparts keeps for a user (KV items, object blobs, queued event
payloads, secret values, invocation logs) passes through ``Sealer.seal`` on
its way to disk and ``Sealer.open`` on its way back.  Each record gets a
fresh 256-bit data key (DEK); the data is encrypted with AES-256-GCM under
the DEK, and the DEK is wrapped (AES-256-GCM again) by the current
key-encryption key (KEK) from the keyring.  The record names its KEK, so a
key rotation only has to re-wrap the 48-byte DEK, never re-encrypt the data.

The associated data (AAD) of the payload is the record's resource identity
(for example ``kv\\0app\\0table\\0key``): a ciphertext copied to another
record fails to open.  The AAD of the wrapped DEK binds it to its KEK id.

Record format, version 1 (all lengths in bytes)::

    "RPE" 0x01 | kek-id length (1) | kek-id (ascii) | wrap nonce (12) |
    wrapped DEK (32 + 16 tag) | data nonce (12) | ciphertext + tag (>= 16)

Anything that does not parse, carries an unknown KEK id or fails
authentication raises ``DecryptionError``: garbage is never returned.
"""

from __future__ import annotations

import base64
import binascii
import os
from typing import Protocol

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.errors import DecryptionError

MAGIC = b"RPE\x01"
TEXT_PREFIX = "enc1:"
_NONCE = 12
_DEK = 32
_TAG = 16
_WRAPPED = _DEK + _TAG


class KeySource(Protocol):
    """What the sealer needs from the keyring."""

    @property
    def current_id(self) -> str: ...

    def key(self, kek_id: str) -> bytes:
        """The KEK's bytes; raises ``DecryptionError`` (code ``unknown_key``) if unknown."""
        ...


def aad(kind: str, *parts: str) -> bytes:
    """The resource identity a record is bound to, e.g. ``aad("kv", app, table, key)``.

    Parts are joined with NUL, which none of our names may contain, so two
    different identities can never produce the same AAD.
    """
    return "\x00".join((kind, *parts)).encode("utf-8", "surrogatepass")


def _dek_aad(kek_id: bytes) -> bytes:
    return MAGIC + b"dek\x00" + kek_id


class Sealed:
    """The parsed header of a record (no decryption)."""

    __slots__ = ("kek_id", "wrap_nonce", "wrapped", "body")

    def __init__(self, record: bytes) -> None:
        if len(record) < 5 or record[:4] != MAGIC:
            raise DecryptionError("not a sealed record", code="malformed_record")
        n = record[4]
        end = 5 + n
        if n == 0 or len(record) < end + _NONCE + _WRAPPED + _NONCE + _TAG:
            raise DecryptionError("truncated sealed record", code="malformed_record")
        try:
            self.kek_id = record[5:end].decode("ascii")
        except UnicodeDecodeError:
            raise DecryptionError("malformed key id", code="malformed_record") from None
        self.wrap_nonce = record[end : end + _NONCE]
        self.wrapped = record[end + _NONCE : end + _NONCE + _WRAPPED]
        self.body = record[end + _NONCE + _WRAPPED :]


class Sealer:
    """Seals and opens records with per-record data keys under the keyring's KEKs.

    There is no way to turn sealing off: no setting, flag, environment
    variable or constructor argument.  (``bench/crypto_bench.py`` measures the
    cost of encryption against a pass-through subclass it defines itself.)
    """

    def __init__(self, keys: KeySource) -> None:
        self._keys = keys

    # -- bytes ------------------------------------------------------------------------------
    def seal(self, plaintext: bytes, context: bytes) -> bytes:
        kek_id = self._keys.current_id
        kid = kek_id.encode("ascii")
        dek = AESGCM.generate_key(bit_length=256)
        wrap_nonce, nonce = os.urandom(_NONCE), os.urandom(_NONCE)
        wrapped = AESGCM(self._keys.key(kek_id)).encrypt(wrap_nonce, dek, _dek_aad(kid))
        body = AESGCM(dek).encrypt(nonce, bytes(plaintext), MAGIC + context)
        return b"".join((MAGIC, bytes((len(kid),)), kid, wrap_nonce, wrapped, nonce, body))

    def open(self, record: bytes, context: bytes) -> bytes:
        parsed = Sealed(bytes(record))
        dek = self._unwrap(parsed)
        nonce, body = parsed.body[:_NONCE], parsed.body[_NONCE:]
        try:
            return AESGCM(dek).decrypt(nonce, body, MAGIC + context)
        except InvalidTag:
            raise DecryptionError(
                "a sealed record failed authentication (tampered or moved)",
                code="decryption_failed",
            ) from None

    def _unwrap(self, parsed: Sealed) -> bytes:
        kek = self._keys.key(parsed.kek_id)
        try:
            return AESGCM(kek).decrypt(
                parsed.wrap_nonce, parsed.wrapped, _dek_aad(parsed.kek_id.encode("ascii"))
            )
        except InvalidTag:
            raise DecryptionError(
                "a record's data key failed authentication", code="decryption_failed"
            ) from None

    def rewrap(self, record: bytes, target: str) -> bytes | None:
        """Re-wrap a record's data key under KEK ``target``; None if it already is.

        The data itself is not touched, so this works without knowing the
        record's resource identity and costs the same for 1 KiB or 10 MiB.
        """
        parsed = Sealed(bytes(record))
        if parsed.kek_id == target:
            return None
        dek = self._unwrap(parsed)
        kid = target.encode("ascii")
        wrap_nonce = os.urandom(_NONCE)
        wrapped = AESGCM(self._keys.key(target)).encrypt(wrap_nonce, dek, _dek_aad(kid))
        return b"".join((MAGIC, bytes((len(kid),)), kid, wrap_nonce, wrapped, parsed.body))

    @staticmethod
    def kek_of(record: bytes) -> str:
        return Sealed(bytes(record)).kek_id

    # -- text columns (invocation logs) ------------------------------------------------------
    def seal_text(self, plaintext: str, context: bytes) -> str:
        return TEXT_PREFIX + base64.b64encode(self.seal(plaintext.encode(), context)).decode()

    def open_text(self, value: str, context: bytes) -> str:
        return self.open(text_record(value), context).decode("utf-8", "replace")


def text_record(value: str) -> bytes:
    """The sealed bytes inside a text column value written by ``seal_text``."""
    if not value.startswith(TEXT_PREFIX):
        raise DecryptionError("not a sealed text value", code="malformed_record")
    try:
        return base64.b64decode(value[len(TEXT_PREFIX) :], validate=True)
    except (binascii.Error, ValueError):
        raise DecryptionError("malformed sealed text value", code="malformed_record") from None
