"""The built-in OAuth2 client-credentials issuer (RFC 6749 §4.4) and its signing keys.

``ramparts clients create`` registers a client (its secret is shown once and
stored as an HMAC); ``POST /oauth/token`` on the gateway trades the client's
id and secret for a short-lived RS256 JWT whose ``scope`` is the requested
scopes, never more than the client was granted; ``/.well-known/jwks.json``
publishes the public keys.  ``ramparts clients rotate-signing-key`` makes a
new active key; the old one is still published and still verifies until every
token it signed has expired (``retired_at + token TTL + leeway``).

Signing private keys live in the state store as PEM (so every node can sign
and verify); encrypting them at rest is the job of the envelope-encryption
issue.  A client bound to an app (``--app``) gets tokens whose ``aud`` is that
app, so they are refused on other apps' routes.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import os
import secrets
import time
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import parse_qsl, unquote

from cryptography.hazmat.primitives.asymmetric import rsa
from joserfc import jwt as jose_jwt
from joserfc.jwk import Key, RSAKey

from ramparts.errors import InvalidRequest
from ramparts.identity.apikeys import check_name, check_rates, check_scopes
from ramparts.identity.jwt import IssuerVerifier
from ramparts.identity.records import (
    ClientRecord,
    FreshCounter,
    IdentityRecords,
    SigningKeyRecord,
)

DEFAULT_ISSUER = "urn:ramparts:oauth2"
ANY_APP_AUDIENCE = "ramparts"
ALG = "RS256"
LEEWAY = 30
_CLIENT_ID_LEN = 19  # "rc_" + 16 hex


def _ttl_from_env() -> int:
    raw = os.environ.get("RAMPARTS_OAUTH_TOKEN_TTL", "")
    try:
        value = int(raw) if raw else 300
    except ValueError:
        value = 300
    return max(10, min(value, 3600))


@dataclass
class TokenError(Exception):
    """An RFC 6749 §5.2 error: ``error`` is the stable code, ``reason`` is for the audit log."""

    status: int
    error: str
    reason: str
    client: str | None = None

    def body(self) -> dict[str, str]:
        return {"error": self.error, "code": self.error}


def generate_signing_key() -> SigningKeyRecord:
    from cryptography.hazmat.primitives import serialization

    private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    pem = private.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    ).decode()
    key = RSAKey.import_key(pem)
    kid = key.thumbprint()
    public = {**key.as_dict(private=False), "kid": kid, "use": "sig", "alg": ALG}
    return SigningKeyRecord(kid, ALG, pem, public, time.time(), None)


class BuiltinIssuer:
    def __init__(
        self,
        records: IdentityRecords,
        server_secret: bytes,
        *,
        issuer: str | None = None,
        token_ttl: int | None = None,
    ) -> None:
        self._records = records
        self._secret = server_secret
        self.issuer = issuer or os.environ.get("RAMPARTS_OAUTH_ISSUER") or DEFAULT_ISSUER
        self.token_ttl = token_ttl or _ttl_from_env()
        self.leeway = LEEWAY  # how long past its tokens' expiry a retired key still verifies
        self._keys: dict[str, tuple[SigningKeyRecord, Key]] = {}
        self._generation = -1
        self._counter = FreshCounter(records.generation)
        self._last_reload = float("-inf")
        self._lock = asyncio.Lock()
        self._verifiers: dict[str, IssuerVerifier] = {}
        # What an unknown client id's secret is compared with: a random secret's hash.
        self._dummy_hash = self._hash(secrets.token_urlsafe(32))

    async def start(self) -> None:
        await self._reload(force=True)
        if not any(rec.retired_at is None for rec, _ in self._keys.values()):
            await asyncio.to_thread(
                self._records.add_signing_key, generate_signing_key(), retire_others=False
            )
            await self._reload(force=True)

    # -- keys -----------------------------------------------------------------------------
    async def _reload(self, force: bool = False) -> None:
        async with self._lock:
            now = time.monotonic()
            if not force and now - self._last_reload < 1.0:
                return  # rate limit: unknown kids cannot hammer the store
            self._last_reload = now
            rows = await asyncio.to_thread(self._records.signing_keys)
            self._keys = {r.kid: (r, RSAKey.import_key(r.private_pem)) for r in rows}

    def _published(self, rec: SigningKeyRecord, now: float) -> bool:
        return rec.retired_at is None or rec.retired_at + self.token_ttl + self.leeway > now

    async def key(self, kid: str | None) -> Key | None:
        if kid is None:
            return None  # our tokens always carry a kid
        found = self._keys.get(kid)
        if found is None:
            await self._reload()  # another node may have rotated
            found = self._keys.get(kid)
        if found is None or not self._published(found[0], time.time()):
            return None
        return found[1]

    def jwks(self) -> dict[str, Any]:
        now = time.time()
        return {
            "keys": [rec.public_jwk for rec, _ in self._keys.values() if self._published(rec, now)]
        }

    def signing_keys(self) -> list[dict[str, Any]]:
        now = time.time()
        return [
            {
                "kid": rec.kid,
                "alg": rec.alg,
                "created_at": rec.created_at,
                "retired_at": rec.retired_at,
                "state": "active"
                if rec.retired_at is None
                else ("verifying" if self._published(rec, now) else "expired"),
            }
            for rec, _ in sorted(self._keys.values(), key=lambda x: x[0].created_at)
        ]

    async def rotate(self) -> dict[str, Any]:
        previous = [rec.kid for rec, _ in self._keys.values() if rec.retired_at is None]
        new = generate_signing_key()
        await asyncio.to_thread(self._records.add_signing_key, new, retire_others=True)
        await self._reload(force=True)
        return {
            "kid": new.kid,
            "retired": previous,
            "old_keys_verify_for_s": self.token_ttl + self.leeway,
        }

    def verifier(self, app: str) -> IssuerVerifier:
        v = self._verifiers.get(app)
        if v is None:
            v = IssuerVerifier(
                issuer=self.issuer,
                audiences=[app, ANY_APP_AUDIENCE],
                algorithms=[ALG],
                leeway=LEEWAY,
                keys=self.key,
                method="oauth2",
            )
            self._verifiers[app] = v
        return v

    # -- clients --------------------------------------------------------------------------
    def _hash(self, secret: str) -> str:
        import hashlib

        return hmac.new(self._secret, secret.encode(), hashlib.sha256).hexdigest()

    def create_client(
        self, name: str, scopes: list[str], app: str | None, rate: object = None
    ) -> tuple[str, ClientRecord]:
        check_name(name)
        scope_t = check_scopes(scopes)
        rate_t = check_rates(rate)
        if not scope_t:
            raise InvalidRequest("a client needs at least one scope", code="invalid_argument")
        client_id = "rc_" + secrets.token_hex(8)
        secret = "rcs_" + secrets.token_urlsafe(32)
        rec = ClientRecord(
            client_id, name, self._hash(secret), scope_t, app, time.time(), None, rate_t
        )
        self._records.add_client(rec)
        return secret, rec

    # -- the token endpoint ------------------------------------------------------------------
    async def token(
        self,
        headers: dict[str, str],
        body: bytes,
        admit: Callable[[ClientRecord], Awaitable[None]] | None = None,
    ) -> dict[str, Any]:
        """Answer one token request, or raise ``TokenError``.

        ``admit`` runs once the client has proved its secret, before a token
        is signed: the gateway counts the client's own rate there (it raises
        to refuse), so a wrong secret cannot use up a client's quota.
        """
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if ctype != "application/x-www-form-urlencoded":
            raise TokenError(400, "invalid_request", "not_form_encoded")
        try:
            form_items = parse_qsl(
                body.decode("ascii"), keep_blank_values=True, strict_parsing=False
            )
        except (UnicodeDecodeError, ValueError):
            raise TokenError(400, "invalid_request", "bad_form") from None
        form: dict[str, str] = {}
        for k, v in form_items:
            if k in form:
                raise TokenError(400, "invalid_request", "repeated_parameter")  # RFC 6749 §3.2
            form[k] = v
        if form.get("grant_type") != "client_credentials":
            raise TokenError(400, "unsupported_grant_type", "grant_type")
        client_id, secret = self._client_credentials(headers, form)
        try:
            rec = await asyncio.to_thread(self._records.get_client, client_id)
        except Exception:
            raise TokenError(503, "temporarily_unavailable", "identity_store_unavailable") from None
        who = f"client:{client_id}"
        known = rec is not None and rec.deleted_at is None
        # An unknown id is checked against a dummy hash through the same path as a
        # known one: the same work either way, so timing does not tell which ids exist.
        matches = self._secret_matches(secret, rec.secret_hash if known and rec else None)
        if not known:
            raise TokenError(401, "invalid_client", "client_unknown", who)
        if not matches:
            raise TokenError(401, "invalid_client", "client_secret_mismatch", who)
        assert rec is not None
        requested = form.get("scope")
        if requested is None or not requested.strip():
            granted = list(rec.scopes)
        else:
            wanted = requested.split()
            extra = [s for s in wanted if s not in rec.scopes]
            if extra:
                raise TokenError(400, "invalid_scope", "scope_not_granted", who)
            granted = sorted(set(wanted))
        if admit is not None:
            await admit(rec)
        return await self._issue(rec, granted)

    def _secret_matches(self, secret: str, stored: str | None) -> bool:
        """Whether ``secret`` hashes to ``stored``; with None, to a hash nothing matches.

        Every token request with a well-formed client id comes here exactly once,
        known id or not (``tests/identity/test_token_endpoint.py`` counts it).
        """
        expected = stored if stored is not None else self._dummy_hash
        return hmac.compare_digest(self._hash(secret), expected) and stored is not None

    @staticmethod
    def _client_credentials(headers: dict[str, str], form: dict[str, str]) -> tuple[str, str]:
        auth = headers.get("authorization")
        in_form = "client_secret" in form
        if auth is not None:
            if in_form:
                raise TokenError(400, "invalid_request", "two_client_auth_methods")
            scheme, _, value = auth.partition(" ")
            if scheme.lower() != "basic" or not value:
                raise TokenError(401, "invalid_client", "bad_client_auth_header")
            try:
                decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
            except (binascii.Error, UnicodeDecodeError):
                raise TokenError(401, "invalid_client", "bad_client_auth_header") from None
            cid, sep, secret = decoded.partition(":")
            if not sep:
                raise TokenError(401, "invalid_client", "bad_client_auth_header")
            cid, secret = unquote(cid), unquote(secret)
            if form.get("client_id") not in (None, cid):
                raise TokenError(400, "invalid_request", "client_id_mismatch")
        elif in_form:
            cid, secret = form.get("client_id", ""), form["client_secret"]
        else:
            raise TokenError(401, "invalid_client", "no_client_auth")
        if len(cid) != _CLIENT_ID_LEN or not cid.startswith("rc_") or len(secret) > 200:
            raise TokenError(401, "invalid_client", "client_unknown")
        return cid, secret

    async def _issue(self, rec: ClientRecord, scopes: list[str]) -> dict[str, Any]:
        # Sign with the key that is active *now* cluster-wide, even if another node rotated.
        generation = await self._counter.get()
        if generation != self._generation:
            await self._reload(force=True)
            self._generation = generation
        active = [(r, k) for r, k in self._keys.values() if r.retired_at is None]
        if not active:
            raise TokenError(503, "temporarily_unavailable", "no_signing_key")
        signing, key = max(active, key=lambda x: x[0].created_at)
        now = int(time.time())
        claims = {
            "iss": self.issuer,
            "sub": rec.id,
            "aud": rec.app or ANY_APP_AUDIENCE,
            "iat": now,
            "nbf": now,
            "exp": now + self.token_ttl,
            "jti": uuid.uuid4().hex,
            "client_id": rec.id,
            "scope": " ".join(scopes),
        }
        token = jose_jwt.encode(
            {"alg": ALG, "typ": "at+jwt", "kid": signing.kid}, claims, key, algorithms=[ALG]
        )
        return {
            "access_token": token,
            "token_type": "Bearer",
            "expires_in": self.token_ttl,
            "scope": claims["scope"],
        }
