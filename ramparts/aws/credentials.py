"""Per-function-version AWS credentials that any node of a cluster verifies without storage.

A handler's boto3 client signs with an access key id, a secret access key
and a session token, exactly as on Lambda.  Ramparts stores none of them:

- the **session token** is an AES-256-GCM sealed blob (``cryptography``)
  carrying the app, function, version id, expiry and access key id;
- the **secret access key** is an HMAC of those same fields under a node
  secret, so a node that opens the token can recompute the secret and check
  the SigV4 signature;
- the **container token** (``rpct_...``, ``AWS_CONTAINER_AUTHORIZATION_TOKEN``)
  is a second sealed blob, with its own associated data, that only ever
  yields fresh credentials for the one version it names.

Both keys are derived (HKDF) from one 32-byte root key kept in the state
store (table ``aws_credential_keys``) wrapped directly by the master key, not
by a key-encryption key: ``ramparts encryption rotate``/``retire`` replace
KEKs and leave it alone, and every node that shares the master key shares it.
Changing the master key ends every issued credential (they are short-lived).

Nothing here logs a secret; :class:`Credentials` masks its secret in ``repr``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import re
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy import Column, Float, LargeBinary, MetaData, String, Table, insert, select
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ramparts.errors import RampartsError
from ramparts.observe.redact import redactor

__all__ = [
    "ACCESS_KEY_RE",
    "CONTAINER_TOKEN_PREFIX",
    "CredentialAuthority",
    "CredentialError",
    "Credentials",
    "Session",
    "credentials_ttl",
    "open_authority",
]

DEFAULT_TTL = 3600.0
CONTAINER_TOKEN_PREFIX = "rpct_"  # noqa: S105 - a prefix, not a secret
_ROOT_CONTEXT = b"ramparts:aws-credentials-root:v1"
_SESSION_AAD = b"ramparts:aws-session-token:v1"
_CONTAINER_AAD = b"ramparts:aws-container-token:v1"
_PURPOSE = "credentials"
_B32 = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"

ACCESS_KEY_RE = re.compile(r"^ASIA[A-Z2-7]{16}$")

aws_metadata = MetaData()
aws_keys_t = Table(
    "aws_credential_keys",
    aws_metadata,
    Column("purpose", String(32), primary_key=True),
    Column("wrapped", LargeBinary, nullable=False),  # the root key, wrapped by the master key
    Column("created_at", Float, nullable=False),
)


class CredentialError(RampartsError):
    """A token that does not open, has expired, or does not match its access key id.

    ``reason`` is one of ``malformed``, ``unknown``, ``expired``, ``mismatch``.
    """

    status = 403
    code = "invalid_credentials"

    def __init__(self, reason: str, message: str) -> None:
        super().__init__(message)
        self.reason = reason


def credentials_ttl() -> float:
    """Seconds a credential lives: 1 hour, ``RAMPARTS_AWS_CREDENTIALS_TTL`` for tests."""
    raw = os.environ.get("RAMPARTS_AWS_CREDENTIALS_TTL", "")
    try:
        value = float(raw) if raw else DEFAULT_TTL
    except ValueError:
        return DEFAULT_TTL
    return value if 0 < value <= 12 * 3600 else DEFAULT_TTL


@dataclass(frozen=True)
class Session:
    """What a verified session token says: whose it is and until when."""

    app: str
    function: str
    version: str
    access_key_id: str
    expires_at: float


@dataclass(frozen=True)
class Credentials:
    access_key_id: str
    secret_access_key: str = field(repr=False)
    session_token: str = field(repr=False)
    expires_at: float

    def expiration(self) -> str:
        return time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(self.expires_at))

    def container_json(self) -> dict[str, Any]:
        """The JSON botocore's container credentials provider reads."""
        return {
            "AccessKeyId": self.access_key_id,
            "SecretAccessKey": self.secret_access_key,
            "Token": self.session_token,
            "Expiration": self.expiration(),
        }


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _unb64(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


class CredentialAuthority:
    """Issues and verifies credentials; one per node, built from the shared root key."""

    def __init__(self, root: bytes, *, ttl: float | None = None) -> None:
        self._seal = AESGCM(self._derive(root, b"seal"))
        self._secret = self._derive(root, b"secret")
        self.ttl = ttl if ttl is not None else credentials_ttl()

    @staticmethod
    def _derive(root: bytes, info: bytes) -> bytes:
        return HKDF(hashes.SHA256(), 32, salt=None, info=b"ramparts-aws:" + info).derive(root)

    def __repr__(self) -> str:
        return "CredentialAuthority(<keys hidden>)"

    # -- session credentials ----------------------------------------------------------------
    def issue(
        self, app: str, function: str, version: str, *, now: float | None = None
    ) -> Credentials:
        now = time.time() if now is None else now
        expires = float(int(now + self.ttl))
        akid = "ASIA" + "".join(secrets.choice(_B32) for _ in range(16))
        session = Session(app, function, version, akid, expires)
        token = self._seal_json(
            _SESSION_AAD,
            {"a": app, "f": function, "v": version, "k": akid, "e": expires},
        )
        secret = self.secret_for(session)
        # a handler that prints its credentials has them masked in its logs, like secrets
        redactor.add_secret(secret)
        redactor.add_secret(token)
        return Credentials(akid, secret, token, expires)

    def secret_for(self, session: Session) -> str:
        """The secret access key of ``session``: recomputed, never stored."""
        message = "\n".join(
            (
                session.access_key_id,
                session.app,
                session.function,
                session.version,
                f"{session.expires_at:.0f}",
            )
        ).encode()
        return base64.b64encode(hmac.new(self._secret, message, hashlib.sha256).digest())[
            :40
        ].decode()

    def open_session(self, access_key_id: str, token: str, *, now: float | None = None) -> Session:
        """The session of a (key id, token) pair, or :class:`CredentialError`."""
        if not ACCESS_KEY_RE.match(access_key_id):
            raise CredentialError("malformed", "the access key id is not one Ramparts issued")
        data = self._open_json(_SESSION_AAD, token)
        try:
            session = Session(
                str(data["a"]), str(data["f"]), str(data["v"]), str(data["k"]), float(data["e"])
            )
        except (KeyError, TypeError, ValueError):
            raise CredentialError("malformed", "the session token is malformed") from None
        if not hmac.compare_digest(session.access_key_id, access_key_id):
            raise CredentialError("mismatch", "the session token belongs to another access key")
        if (time.time() if now is None else now) >= session.expires_at:
            raise CredentialError(
                "expired", "the security token included in the request is expired"
            )
        return session

    # -- container token ----------------------------------------------------------------------
    def container_token(self, app: str, function: str, version: str) -> str:
        """Renews credentials for this one version (``AWS_CONTAINER_AUTHORIZATION_TOKEN``)."""
        blob = self._seal_json(
            _CONTAINER_AAD, {"a": app, "f": function, "v": version, "i": time.time()}
        )
        return CONTAINER_TOKEN_PREFIX + blob

    def open_container_token(self, token: str) -> tuple[str, str, str]:
        if not token.startswith(CONTAINER_TOKEN_PREFIX):
            raise CredentialError("malformed", "not a Ramparts container credentials token")
        data = self._open_json(_CONTAINER_AAD, token[len(CONTAINER_TOKEN_PREFIX) :])
        try:
            return str(data["a"]), str(data["f"]), str(data["v"])
        except (KeyError, TypeError):
            raise CredentialError("malformed", "the container token is malformed") from None

    # -- sealing --------------------------------------------------------------------------------
    def _seal_json(self, aad: bytes, data: dict[str, Any]) -> str:
        nonce = os.urandom(12)
        return _b64(nonce + self._seal.encrypt(nonce, orjson.dumps(data), aad))

    def _open_json(self, aad: bytes, token: str) -> dict[str, Any]:
        if not token or len(token) > 4096:
            raise CredentialError("malformed", "the security token is missing or malformed")
        try:
            raw = _unb64(token)
        except (ValueError, TypeError):
            raise CredentialError("malformed", "the security token is malformed") from None
        if len(raw) < 12 + 16:
            raise CredentialError("malformed", "the security token is malformed")
        try:
            plain = self._seal.decrypt(raw[:12], raw[12:], aad)
        except InvalidTag:
            raise CredentialError(
                "unknown", "the security token is not one Ramparts issued"
            ) from None
        data = orjson.loads(plain)
        if not isinstance(data, dict):
            raise CredentialError("malformed", "the security token is malformed")
        return data


def open_authority(engine: Engine, master: Any, *, ttl: float | None = None) -> CredentialAuthority:
    """Load the store's credentials root key (wrapped by the master key), creating it once.

    Two nodes racing on a fresh store: the unique insert lets one win and both use its key.
    """
    aws_metadata.create_all(engine)
    root = _load_root(engine, master)
    if root is None:
        fresh = os.urandom(32)
        try:
            with engine.begin() as conn:
                conn.execute(
                    insert(aws_keys_t).values(
                        purpose=_PURPOSE,
                        wrapped=master.wrap(fresh, _ROOT_CONTEXT),
                        created_at=time.time(),
                    )
                )
            root = fresh
        except IntegrityError:
            root = _load_root(engine, master)
            if root is None:
                raise RampartsError("the AWS credentials key could not be created") from None
    return CredentialAuthority(root, ttl=ttl)


def _load_root(engine: Engine, master: Any) -> bytes | None:
    with engine.begin() as conn:
        row = conn.execute(select(aws_keys_t).where(aws_keys_t.c.purpose == _PURPOSE)).first()
    if row is None:
        return None
    return bytes(master.unwrap(bytes(row.wrapped), _ROOT_CONTEXT))
