"""The node's Ed25519 signing key: what makes a function version tamper-evident.

Every version the registry commits is signed (its digest and manifest, see
``ramparts.registry.signing``) and the signature is checked before a zygote
starts.  The key is the cluster's, not one machine's: nodes are stateless and
any of them may start a zygote of a version another one deployed, so the
private key lives in the state store (table ``crypto_signing_keys``), sealed by
the envelope encryption under the master key that every node of a store
already shares.  Someone who can write the store but does not hold the master
key can neither read the key nor slip in one of their own: a sealed record
opens only under its KEK and its resource identity.

The key is created once, atomically (a unique insert: of two nodes racing on
a fresh store one wins and both use its key), on the first start of a store
without one.  A store that already holds signed versions but no key is
refused rather than given a fresh key, which would make an erased key look
like a store from before signing.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import time
from collections.abc import Callable

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from sqlalchemy import Column, Float, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import DecryptionError, SigningKeyError

__all__ = ["SIGNATURE_PREFIX", "VersionSigner", "open_signer"]

SIGNATURE_PREFIX = "ed25519"
_PURPOSE = "versions"  # the one key this table holds today; room for others later

signing_metadata = MetaData()

signing_keys_t = Table(
    "crypto_signing_keys",
    signing_metadata,
    Column("purpose", String(32), primary_key=True),
    Column("key_id", String(32), nullable=False),
    Column("public_key", LargeBinary, nullable=False),  # raw 32 bytes, for display and checks
    Column("sealed", LargeBinary, nullable=False),  # the raw private key, sealed
    Column("created_at", Float, nullable=False),
)


def _key_id(public: Ed25519PublicKey) -> str:
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def _context(key_id: str) -> bytes:
    return aad("crypto", "signing_key", _PURPOSE, key_id)


class VersionSigner:
    """Signs and verifies with the store's Ed25519 key.

    Signatures are text, ``ed25519:<key id>:<base64 signature>``, so a stored
    one says which key made it.
    """

    def __init__(self, private: Ed25519PrivateKey, *, created: bool) -> None:
        self._private = private
        self._public = private.public_key()
        self.key_id = _key_id(self._public)
        self.created = created  # made by this start: the store had no key before

    def sign(self, payload: bytes) -> str:
        sig = base64.b64encode(self._private.sign(payload)).decode()
        return f"{SIGNATURE_PREFIX}:{self.key_id}:{sig}"

    def verify(self, payload: bytes, signature: str) -> bool:
        """Whether ``signature`` is this key's over ``payload``; never raises."""
        prefix, _, rest = signature.partition(":")
        key_id, _, b64 = rest.partition(":")
        if prefix != SIGNATURE_PREFIX or key_id != self.key_id:
            return False
        try:
            self._public.verify(base64.b64decode(b64, validate=True), payload)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    def public_key_pem(self) -> str:
        """The public half (SubjectPublicKeyInfo PEM): what an offline verifier pins."""
        return self._public.public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        ).decode()

    def __repr__(self) -> str:
        return f"VersionSigner({self.key_id})"


def open_signer(engine: Engine, sealer: Sealer, *, has_signed: Callable[[], bool]) -> VersionSigner:
    """Load the store's signing key, creating it on a store that never had one.

    ``has_signed`` tells whether the store holds signed versions: then a missing
    key is an error (``SigningKeyError``), never a reason to make a new one.
    """
    signing_metadata.create_all(engine)
    found = _load(engine, sealer)
    if found is not None:
        return VersionSigner(found, created=False)
    if has_signed():
        raise SigningKeyError(
            "the state store holds signed versions but no version-signing key: refusing to "
            "start (restore the crypto_signing_keys table from a backup)"
        )
    private = Ed25519PrivateKey.generate()
    key_id = _key_id(private.public_key())
    raw = private.private_bytes(
        serialization.Encoding.Raw,
        serialization.PrivateFormat.Raw,
        serialization.NoEncryption(),
    )
    try:
        with engine.begin() as conn:
            conn.execute(
                insert(signing_keys_t).values(
                    purpose=_PURPOSE,
                    key_id=key_id,
                    public_key=private.public_key().public_bytes(
                        serialization.Encoding.Raw, serialization.PublicFormat.Raw
                    ),
                    sealed=sealer.seal(raw, _context(key_id)),
                    created_at=time.time(),
                )
            )
    except IntegrityError:  # another node created it first: use theirs
        found = _load(engine, sealer)
        if found is None:
            raise SigningKeyError("the version-signing key could not be created") from None
        return VersionSigner(found, created=False)
    return VersionSigner(private, created=True)


def _load(engine: Engine, sealer: Sealer) -> Ed25519PrivateKey | None:
    with engine.begin() as conn:
        row = conn.execute(
            select(signing_keys_t).where(signing_keys_t.c.purpose == _PURPOSE)
        ).first()
    if row is None:
        return None
    try:
        private = Ed25519PrivateKey.from_private_bytes(
            sealer.open(bytes(row.sealed), _context(row.key_id))
        )
    except (DecryptionError, ValueError) as exc:
        raise SigningKeyError(
            "the version-signing key in the state store does not open (altered, or another "
            "master key)"
        ) from exc
    if _key_id(private.public_key()) != row.key_id:
        raise SigningKeyError("the version-signing key does not match its recorded id")
    return private
