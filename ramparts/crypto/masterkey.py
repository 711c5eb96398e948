"""The master key: the root that wraps the key-encryption keys (KEKs).

Where it comes from, first match wins:

1. ``RAMPARTS_KMS_URL``: a KMS plugin (see ``ramparts.crypto.kms``) wraps and
   unwraps the KEKs; the master key never reaches this machine.
2. ``RAMPARTS_MASTER_KEY``: 32 bytes, base64 (standard or URL-safe).
3. ``RAMPARTS_MASTER_KEY_FILE``: a file holding the base64 key.
4. ``<data dir>/master.key``: created (mode 0600, written atomically) on the
   first start of a node whose store holds no KEKs yet.  An empty key file (an
   interrupted write) is replaced only while the store holds no KEKs.

A key file readable by group or others is refused, as is a missing key for a
store that already holds KEKs (a fresh key would silently orphan the data).
The master key only ever wraps KEKs; it never touches a user's record.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import stat
from collections.abc import Mapping
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ramparts.crypto.keysource import MasterKey
from ramparts.crypto.kms import open_kms
from ramparts.errors import MasterKeyError, StorageError
from ramparts.files import write_private

__all__ = ["MASTER_KEY_FILE", "LocalMasterKey", "MasterKey", "check_private", "resolve_master_key"]

MASTER_KEY_FILE = "master.key"
_NONCE = 12


class LocalMasterKey(MasterKey):
    """A 256-bit key held in memory; wraps with AES-256-GCM."""

    def __init__(self, key: bytes, source: str) -> None:
        if len(key) != 32:
            raise MasterKeyError(f"the master key from {source} must be 32 bytes")
        self._aead = AESGCM(key)
        # A fingerprint lets an operator tell keys apart without exposing them.
        self.key_id = (
            "local:" + hmac.new(key, b"ramparts master key id", hashlib.sha256).hexdigest()[:16]
        )
        self.source = source

    def wrap(self, plaintext: bytes, context: bytes) -> bytes:
        nonce = os.urandom(_NONCE)
        return nonce + self._aead.encrypt(nonce, plaintext, context)

    def unwrap(self, blob: bytes, context: bytes) -> bytes:
        try:
            return self._aead.decrypt(blob[:_NONCE], blob[_NONCE:], context)
        except (InvalidTag, ValueError):
            raise MasterKeyError(
                f"the master key from {self.source} does not unlock this store's "
                "key-encryption keys (wrong master key?)"
            ) from None

    def __repr__(self) -> str:
        return f"LocalMasterKey({self.key_id})"


def _decode(text: str, source: str) -> bytes:
    raw = text.strip()
    try:
        key = base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4))
    except (binascii.Error, ValueError):
        raise MasterKeyError(f"the master key from {source} is not valid base64") from None
    if len(key) != 32:
        raise MasterKeyError(f"the master key from {source} must decode to 32 bytes")
    return key


def check_private(path: Path) -> None:
    """Refuse a key file that group or others can read or write."""
    mode = stat.S_IMODE(path.stat().st_mode)
    if mode & 0o077:
        raise MasterKeyError(
            f"{path} is accessible by other users (mode {mode:o}); run chmod 600 on it"
        )


def _read_file(path: Path) -> bytes:
    try:
        check_private(path)
        return _decode(path.read_text(), str(path))
    except FileNotFoundError:
        raise MasterKeyError(f"the master key file {path} does not exist") from None
    except OSError as exc:
        raise MasterKeyError(f"cannot read the master key file {path}: {exc.strerror}") from None


def resolve_master_key(
    data_dir: Path, *, create: bool, environ: Mapping[str, str] | None = None
) -> MasterKey:
    """Find the master key; create ``data_dir/master.key`` only when ``create``."""
    env = os.environ if environ is None else environ
    if env.get("RAMPARTS_KMS_URL"):

        return open_kms(env["RAMPARTS_KMS_URL"], env)
    if env.get("RAMPARTS_MASTER_KEY"):
        return LocalMasterKey(
            _decode(env["RAMPARTS_MASTER_KEY"], "RAMPARTS_MASTER_KEY"), "RAMPARTS_MASTER_KEY"
        )
    if env.get("RAMPARTS_MASTER_KEY_FILE"):
        path = Path(env["RAMPARTS_MASTER_KEY_FILE"]).expanduser()
        return LocalMasterKey(_read_file(path), str(path))
    path = data_dir / MASTER_KEY_FILE
    empty = _is_empty(path)
    if path.exists() and not (empty and create):
        if empty:
            raise MasterKeyError(
                f"the master key file {path} is empty (a write interrupted by a crash?) but the "
                "state store holds encrypted data: restore master.key from your backup"
            )
        return LocalMasterKey(_read_file(path), str(path))
    if not create:
        raise MasterKeyError(
            f"the state store holds encrypted data but no master key was found ({path} is "
            "missing and neither RAMPARTS_MASTER_KEY, RAMPARTS_MASTER_KEY_FILE nor "
            "RAMPARTS_KMS_URL is set); restore the key file from your backup"
        )
    # An empty file next to a store without KEKs wraps nothing: replacing it loses nothing.
    key = AESGCM.generate_key(bit_length=256)
    try:
        write_private(path, (base64.urlsafe_b64encode(key).decode() + "\n").encode(),
                      exclusive=not empty)
    except StorageError as exc:
        raise MasterKeyError(exc.message) from exc
    return LocalMasterKey(key, str(path))


def _is_empty(path: Path) -> bool:
    """True for a key file that exists and holds nothing but whitespace."""
    try:
        if path.stat().st_size > 256:
            return False
        return not path.read_bytes().strip()
    except OSError:
        return False
