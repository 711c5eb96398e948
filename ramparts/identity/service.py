"""The node's identity service: from a request's headers and route to a principal, or a refusal.

Where it sits: the gateway's ``RouteAuthCheck`` calls ``authenticate`` for
every non-webhook route before the body is read.  Credentials come from
``X-API-Key: rk_...`` or ``Authorization: Bearer ...`` (``rk_`` -> API key,
three dot-separated segments -> JWT, anything else -> opaque token for
introspection).  The route's ``auth`` says which methods it accepts:

* ``api_key``: API keys only;
* ``jwt``: JWTs from the issuers under ``auth.jwt`` of the live version's
  manifest (stored with the version, never read back from its code dir);
* ``oauth2``: tokens of the built-in client-credentials issuer, or opaque
  tokens checked by RFC 7662 introspection when the app configures it;
* no ``auth``: private, any of the above the app can perform;
* ``none``: public (the caller is anonymous).

Then the principal must be allowed on this app (a key or client bound to
another app is refused) and hold every scope and claim the route requires.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import re
import time
from collections import OrderedDict
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from joserfc.jwk import Key, OctKey

from ramparts.crypto.envelope import Sealer
from ramparts.errors import ConfigError
from ramparts.identity.apikeys import ApiKeys
from ramparts.identity.errors import AuthFailed, denied
from ramparts.identity.introspection import Introspector
from ramparts.identity.issuer import BuiltinIssuer
from ramparts.identity.jwks import RemoteJwks, load_local
from ramparts.identity.jwt import (
    MAX_TOKEN_BYTES,
    IssuerVerifier,
    JwtVerifier,
    Verified,
    looks_like_jwt,
    parse_unverified,
    verify_keyed,
)
from ramparts.identity.principal import Principal
from ramparts.identity.records import IdentityRecords
from ramparts.manifest import AuthConfig, HttpTrigger, JwtIssuer
from ramparts.secrets import SecretSource

if TYPE_CHECKING:
    from ramparts.registry.service import LiveFunction
    from ramparts.store import Store

log = logging.getLogger("ramparts.identity")

# RFC 6750 §2.1: "Bearer" 1*SP b64token.  Anything else is malformed, not guessed at.
_BEARER = re.compile(r"^[Bb][Ee][Aa][Rr][Ee][Rr] ([A-Za-z0-9\-._~+/]+=*)$")

# Verified JWTs: at most this many, each for at most this long (and never past its exp).
VERIFIED_CACHE_MAX = 10_000
VERIFIED_CACHE_TTL = 60.0


@dataclass
class AppAuth:
    """What one deployed version of an app can verify."""

    app: str
    jwt: JwtVerifier
    builtin: IssuerVerifier
    introspector: Introspector | None


def _static_keys(index: Any) -> Callable[[str | None], Awaitable[Key | None]]:
    async def lookup(kid: str | None) -> Key | None:
        return index.get(kid)  # type: ignore[no-any-return]

    return lookup


def _fail_keys(reason: str) -> Callable[[str | None], Awaitable[Key | None]]:
    async def lookup(kid: str | None) -> Key | None:
        raise AuthFailed("auth_unavailable", reason, status=503)

    return lookup


class IdentityService:
    def __init__(self, store: Store, secrets: SecretSource, sealer: Sealer) -> None:
        self._store = store
        self._secrets = secrets
        self._sealer = sealer
        self._apps: dict[tuple[str, str, str], AppAuth] = {}
        self._secrets_of: dict[tuple[str, str, str], set[str]] = {}  # names each one read
        self._remote: dict[tuple[str, float], RemoteJwks] = {}
        # Verified JWTs by a hash of (app, route method, token), until min(exp, 60 s), LRU-
        # bounded: a repeated token costs a hash and a dict lookup, not a signature check.
        self._verified: OrderedDict[bytes, tuple[float, AppAuth, Verified]] = OrderedDict()
        # Built-in OAuth2 clients' own limits by client id, valid for one identity generation
        # (a ``clients update --rate`` or a delete bumps it on every node).
        self._client_rates: dict[str, tuple[str, ...]] = {}
        self._client_rates_at = -1
        self.records: IdentityRecords
        self.api_keys: ApiKeys
        self.issuer: BuiltinIssuer

    async def start(self) -> None:
        engine = getattr(self._store, "engine", None)
        if engine is None:
            raise ConfigError("the identity service needs an SQL state store")
        self.records = await asyncio.to_thread(IdentityRecords, engine, self._sealer)
        pepper = os.environ.get("RAMPARTS_API_KEY_SECRET", "")
        if pepper and len(pepper) < 32:
            raise ConfigError("RAMPARTS_API_KEY_SECRET must be at least 32 characters")
        secret = pepper.encode() if pepper else await asyncio.to_thread(self.records.server_secret)
        self.api_keys = ApiKeys(self.records, secret)
        await self.api_keys.start()
        self.issuer = BuiltinIssuer(self.records, secret)
        await self.issuer.start()
        self._client_generation = self.records.generation_reader()

    async def close(self) -> None:
        await self.api_keys.close()
        reader = getattr(self, "_client_generation", None)
        if reader is not None:
            reader.close()
        for app in self._apps.values():
            if app.introspector is not None:
                await app.introspector.close()

    async def client_rate(self, client_id: str, issuer: object = None) -> tuple[str, ...]:
        """A built-in issuer's client's own limits (``clients create --rate``), or ``()``.

        Only for tokens of our issuer (``issuer`` is the token's ``iss``): another
        issuer's ``client_id`` names none of our clients.  Read from the store once
        per identity generation, so a change is effective on the next request.
        """
        if issuer != self.issuer.issuer:
            return ()
        generation = await self._client_generation.get()
        if generation != self._client_rates_at:
            self._client_rates.clear()
            self._client_rates_at = generation
        found = self._client_rates.get(client_id)
        if found is None:
            rec = await asyncio.to_thread(self.records.get_client, client_id)
            found = rec.rate if rec is not None and rec.deleted_at is None else ()
            if len(self._client_rates) >= VERIFIED_CACHE_MAX:
                self._client_rates.clear()
            self._client_rates[client_id] = found
        return found

    # -- per-app configuration ------------------------------------------------------------
    def app_auth(self, fn: LiveFunction) -> AppAuth:
        """What the version being called verifies with: the ``auth:`` it was deployed with.

        Keyed by the configuration itself (and the code dir, where a local JWKS
        file lives), so every function of one deploy shares one ``AppAuth`` and a
        redeploy with another ``auth:`` gets a new one, whatever its code.
        """
        config = fn.auth or AuthConfig()
        digest = hashlib.sha256(config.model_dump_json(by_alias=True).encode()).hexdigest()
        key = (fn.app, str(fn.spec.code_dir), digest)
        found = self._apps.get(key)
        if found is None:
            found = self._build(fn.app, Path(fn.spec.code_dir), config)
            self._apps[key] = found
            names = {i.secret for i in config.jwt if i.secret}
            if config.introspection is not None:
                names.add(config.introspection.client_secret)
            self._secrets_of[key] = names
        return found

    def forget_secret(self, name: str) -> None:
        """A secret changed (set, rotated, deleted, shared...): verifiers built on it go.

        They hold the value they were built with; the next request builds them
        again from the current value, so a rotated JWT secret takes effect at
        once, without a redeploy (which, for unchanged content, creates no
        version) or a restart.  Every app's verifiers naming ``name`` go, since
        a shared secret is read under the same name by other apps.
        """
        for key in [k for k, names in self._secrets_of.items() if name in names]:
            self._secrets_of.pop(key, None)
            dropped = self._apps.pop(key, None)
            if dropped is not None and dropped.introspector is not None:
                asyncio.get_running_loop().create_task(dropped.introspector.close())

    def _build(self, app: str, code_dir: Path, config: AuthConfig) -> AppAuth:
        issuers = [self._issuer(app, code_dir, i) for i in config.jwt]
        introspector = None
        if config.introspection is not None:
            ic = config.introspection
            secret = self._secrets.get(ic.client_secret, app=app)
            audiences = [ic.audience] if isinstance(ic.audience, str) else list(ic.audience or [])
            introspector = Introspector(
                ic.url,
                ic.client_id,
                secret.reveal() if secret is not None else "",
                audiences=audiences,
                cache_ttl=ic.cache,
                timeout=ic.timeout,
            )
            if secret is None:  # the server will refuse us: every such token gets a 503
                log.warning("app %s: introspection secret %r is not set", app, ic.client_secret)
        return AppAuth(app, JwtVerifier(issuers), self.issuer.verifier(app), introspector)

    def _issuer(self, app: str, code_dir: Path, cfg: JwtIssuer) -> IssuerVerifier:
        audiences = [cfg.audience] if isinstance(cfg.audience, str) else list(cfg.audience)
        if cfg.secret:
            value = self._secrets.get(cfg.secret, app=app)
            if value is None:
                log.warning(
                    "app %s: JWT secret %r is not set; its tokens are refused", app, cfg.secret
                )
                keys = _fail_keys("jwt_secret_unavailable")
            else:
                keys = _static_keys(_SingleKey(OctKey.import_key(value.reveal().encode())))
        elif cfg.jwks and "://" in cfg.jwks:
            remote = self._remote.get((cfg.jwks, cfg.jwks_min_refresh))
            if remote is None:
                remote = RemoteJwks(cfg.jwks, min_refresh=cfg.jwks_min_refresh)
                self._remote[(cfg.jwks, cfg.jwks_min_refresh)] = remote
            keys = remote.key
        else:
            keys = _static_keys(load_local(code_dir / str(cfg.jwks)))
        return IssuerVerifier(
            issuer=cfg.issuer,
            audiences=audiences,
            algorithms=list(cfg.algorithms),
            leeway=int(cfg.leeway),
            keys=keys,
        )

    # -- the check --------------------------------------------------------------------------
    async def authenticate(
        self, fn: LiveFunction, trigger: HttpTrigger, headers: dict[str, str]
    ) -> Principal:
        """The principal for a non-public route, or ``AuthFailed``."""
        method = trigger.auth
        credential = extract_credential(headers)
        if credential is None:
            raise AuthFailed("missing_credentials", "no_credentials")
        kind, value = credential
        if kind == "api_key":
            if method not in (None, "api_key"):
                raise AuthFailed("credential_not_accepted", "api_key_on_token_route")
            principal = await self.api_keys.authenticate(value)
        elif method == "api_key":
            raise AuthFailed("credential_not_accepted", "token_on_api_key_route")
        else:
            principal = await self._token(self.app_auth(fn), method, value)
        _authorize(principal, fn.app, trigger)
        return principal

    async def _token(self, app: AppAuth, method: str | None, token: str) -> Principal:
        if len(token) > MAX_TOKEN_BYTES:
            raise AuthFailed("invalid_token", "token_too_large")
        if looks_like_jwt(token):
            cache_key = hashlib.sha256(f"{app.app}\n{method}\n{token}".encode()).digest()
            hit = self._verified.get(cache_key)
            if hit is not None:
                principal = await self._still_valid(cache_key, app, *hit)
                if principal is not None:
                    return principal
            verified = await self._jwt(app, method, token)
            if isinstance(verified, Principal):
                return verified  # introspected: the introspector keeps its own cache
            exp = verified.principal.claims.get("exp")
            if isinstance(exp, int | float) and not isinstance(exp, bool):
                self._verified[cache_key] = (
                    min(float(exp), time.time() + VERIFIED_CACHE_TTL),
                    app,
                    verified,
                )
                while len(self._verified) > VERIFIED_CACHE_MAX:
                    self._verified.popitem(last=False)
            return verified.principal
        if method in (None, "oauth2") and app.introspector is not None:
            return await app.introspector.authenticate(token)
        raise AuthFailed("invalid_token", "malformed_token")

    async def _still_valid(
        self, cache_key: bytes, app: AppAuth, until: float, cached_for: AppAuth, verified: Verified
    ) -> Principal | None:
        """A cached verification, if the token has not expired and its key still verifies.

        Only for the same deployed configuration (a redeploy may change issuers or
        audiences), before ``min(exp, 60 s)`` and while the issuer still returns the
        very key that verified it.
        """
        if until <= time.time() or cached_for is not app:
            self._verified.pop(cache_key, None)
            return None
        if await verified.issuer.keys(verified.kid) is not verified.key:
            self._verified.pop(cache_key, None)  # the key was dropped or replaced: verify again
            return None
        self._verified.move_to_end(cache_key)
        return verified.principal

    async def _jwt(self, app: AppAuth, method: str | None, token: str) -> Verified | Principal:
        parsed = parse_unverified(token)
        claims = parsed[2]
        builtin = claims.get("iss") == self.issuer.issuer
        if builtin and method in (None, "oauth2"):
            return await verify_keyed(app.builtin, *parsed)
        if method in (None, "jwt") and app.jwt.trusts(claims):
            return await app.jwt.verify_keyed(token, parsed)
        if method in (None, "oauth2") and app.introspector is not None and not builtin:
            return await app.introspector.authenticate(token)
        if method == "jwt" or (method is None and not app.introspector):
            raise AuthFailed("invalid_token", "unknown_issuer")
        raise AuthFailed("invalid_token", "issuer_not_accepted_here")


class _SingleKey:
    """A shared HMAC secret: the one key, whatever the kid says."""

    def __init__(self, key: Key) -> None:
        self._key = key

    def get(self, kid: str | None) -> Key:
        return self._key


def extract_credential(headers: dict[str, str]) -> tuple[str, str] | None:
    """The one credential a request carries, or ``None``; ambiguity is refused.

    ``headers`` joins repeated fields with ", " (RFC 9110 §5.3, as the gateway
    builds it), and no API key or b64token contains a comma: ", " means two
    ``Authorization`` or two ``X-API-Key`` fields (or two values in one), and
    we refuse to guess which one the caller meant.  (Any other comma fails the
    header's own syntax check below.)
    """
    x_key = headers.get("x-api-key")
    auth = headers.get("authorization")
    if (x_key is not None and ", " in x_key) or (auth is not None and ", " in auth):
        raise AuthFailed("malformed_credentials", "duplicate_credentials")
    if x_key is not None and auth is not None:
        raise AuthFailed("malformed_credentials", "two_credentials")
    if x_key is not None:
        value = x_key.strip()
        if not value.startswith("rk_"):
            raise AuthFailed("malformed_credentials", "bad_api_key_header")
        return "api_key", value
    if auth is None:
        return None
    if len(auth) > MAX_TOKEN_BYTES + 16:
        raise AuthFailed("invalid_token", "token_too_large")
    match = _BEARER.match(auth.strip())
    if match is None:
        raise AuthFailed("malformed_credentials", "bad_authorization_header")
    token = match.group(1)
    return ("api_key" if token.startswith("rk_") else "token"), token


def _authorize(principal: Principal, app: str, trigger: HttpTrigger) -> None:
    if principal.app is not None and principal.app != app:
        raise denied("wrong_app", principal.id)
    if trigger.scopes and not principal.scopes.issuperset(trigger.scopes):
        raise denied("missing_scope", principal.id)
    for name, wanted in trigger.claims.items():
        have = principal.claims.get(name)
        options = wanted if isinstance(wanted, list) else [wanted]
        values = have if isinstance(have, list) else [have]
        if not any(isinstance(v, str) and v in options for v in values):
            raise denied("missing_claim", principal.id)
