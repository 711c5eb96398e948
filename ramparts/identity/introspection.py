"""RFC 7662 token introspection for opaque tokens from an outside authorization server.

The gateway POSTs ``token=...`` to the configured endpoint, authenticating
with its client id and secret (HTTP Basic).  Only an answer that is HTTP 200,
JSON, ``"active": true`` and (when configured) for our audience and not past
its ``exp`` counts; anything else, including timeouts and server errors, is a
refusal.  Positive answers are cached briefly (``cache``, never beyond the
token's ``exp``), keyed by a hash of the token; errors and negative answers
are never cached as success.
"""

from __future__ import annotations

import hashlib
import logging
import time
from collections import OrderedDict
from typing import Any

import httpx

from ramparts.identity.errors import AuthFailed
from ramparts.identity.jwks import check_jwks_url
from ramparts.identity.principal import Principal, scopes_from_claims

log = logging.getLogger("ramparts.identity.introspection")

_MAX_RESPONSE = 64 * 1024


class Introspector:
    def __init__(
        self,
        url: str,
        client_id: str,
        client_secret: str,
        *,
        audiences: list[str] | None = None,
        cache_ttl: float = 30.0,
        timeout: float = 3.0,
        max_entries: int = 10_000,
    ) -> None:
        self.url = check_jwks_url(url)
        self._auth = (client_id, client_secret)
        self._audiences = audiences or []
        self._ttl = cache_ttl
        self._timeout = timeout
        self._max = max_entries
        self._cache: OrderedDict[str, tuple[float, Principal]] = OrderedDict()
        self.calls = 0  # network round trips (tests and metrics)
        self._client: httpx.AsyncClient | None = None

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()

    async def authenticate(self, token: str) -> Principal:
        key = hashlib.sha256(token.encode()).hexdigest()
        now = time.time()
        hit = self._cache.get(key)
        if hit is not None:
            if hit[0] > now:
                return hit[1]
            self._cache.pop(key, None)
        data = await self._ask(token)
        if data.get("active") is not True:
            raise AuthFailed("invalid_token", "introspection_inactive")
        exp = data.get("exp")
        if exp is not None and (not isinstance(exp, int | float) or exp <= now):
            raise AuthFailed("token_expired", "expired")
        nbf = data.get("nbf")
        if isinstance(nbf, int | float) and nbf > now + 30:
            raise AuthFailed("invalid_token", "not_yet_valid")
        if self._audiences:
            aud = data.get("aud")
            auds = [aud] if isinstance(aud, str) else aud if isinstance(aud, list) else []
            if not any(a in self._audiences for a in auds):
                raise AuthFailed("invalid_token", "wrong_audience")
        sub = data.get("sub") if isinstance(data.get("sub"), str) else None
        client = data.get("client_id") if isinstance(data.get("client_id"), str) else None
        principal = Principal(
            method="introspection",
            id=f"sub:{sub}" if sub else f"client:{client}",
            scopes=scopes_from_claims(data),
            claims=data,
            extra={"sub": sub, "clientId": client, "claims": data},
        )
        until = now + self._ttl
        if isinstance(exp, int | float):
            until = min(until, float(exp))
        self._cache[key] = (until, principal)
        if len(self._cache) > self._max:
            self._cache.popitem(last=False)
        return principal

    async def _ask(self, token: str) -> dict[str, Any]:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self._timeout, follow_redirects=False)
        self.calls += 1
        try:
            r = await self._client.post(
                self.url,
                data={"token": token, "token_type_hint": "access_token"},
                auth=self._auth,
                headers={"accept": "application/json"},
            )
        except httpx.HTTPError as exc:
            log.warning("introspection at %s failed: %s", self.url, exc.__class__.__name__)
            raise AuthFailed("auth_unavailable", "introspection_unreachable", status=503) from None
        if r.status_code != 200 or len(r.content) > _MAX_RESPONSE:
            log.warning("introspection at %s answered HTTP %s", self.url, r.status_code)
            raise AuthFailed("auth_unavailable", "introspection_error", status=503)
        try:
            data = r.json()
        except ValueError:
            raise AuthFailed("auth_unavailable", "introspection_error", status=503) from None
        if not isinstance(data, dict):
            raise AuthFailed("auth_unavailable", "introspection_error", status=503)
        return data
