"""Verification keys for JWT issuers: a local JWKS/PEM file, or a JWKS URL behind a cache.

A key is found by the token's ``kid`` only among keys *we* loaded from the
configured source; the token's own ``jku``, ``x5u`` and ``jwk`` headers are
never followed, so a token cannot bring its own key.

Remote sets are cached (``max_age``); an unknown ``kid`` triggers a refresh
(the issuer may have rotated), but at most one per ``min_refresh`` seconds,
so a flood of tokens with made-up kids cannot turn the gateway into a
load generator against the issuer.  A failed refresh keeps the keys we had;
with no keys at all the request is refused (fail closed).
"""

from __future__ import annotations

import asyncio
import ipaddress
import json
import logging
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
from joserfc.errors import JoseError
from joserfc.jwk import ECKey, Key, KeySet, OKPKey, RSAKey

from ramparts.errors import ConfigError

log = logging.getLogger("ramparts.identity.jwks")

MAX_JWKS_BYTES = 256 * 1024


class KeyIndex:
    """Keys by kid; a set with a single key also answers a token without a kid."""

    def __init__(self, keys: list[Key]) -> None:
        self.keys = [k for k in keys if k.get("use") in (None, "sig")]
        self._by_kid = {k.kid: k for k in self.keys if k.kid}

    def get(self, kid: str | None) -> Key | None:
        if kid is None:
            return self.keys[0] if len(self.keys) == 1 else None
        return self._by_kid.get(kid)

    def __len__(self) -> int:
        return len(self.keys)


def parse_jwks(data: Any) -> KeyIndex:
    """A JWKS document (``{"keys": [...]}``) or a single JWK -> public keys."""
    if isinstance(data, dict) and "keys" in data and isinstance(data["keys"], list):
        docs = data["keys"]
    elif isinstance(data, dict) and "kty" in data:
        docs = [data]
    else:
        raise ConfigError("not a JWKS document")
    keys: list[Key] = []
    for doc in docs:
        if not isinstance(doc, dict):
            continue
        try:
            # Import the public half only: a private JWK must never sign by mistake here.
            key = KeySet.import_key_set({"keys": [doc]}).keys[0]  # type: ignore[typeddict-item]
            if key.is_private:
                key = type(key).import_key(key.as_dict(private=False))
                if doc.get("kid"):
                    key = type(key).import_key({**key.as_dict(), "kid": doc["kid"]})
        except (JoseError, ValueError, TypeError, KeyError):
            log.warning("skipping a JWK that cannot be imported")
            continue
        keys.append(key)
    return KeyIndex(keys)


def load_local(path: Path) -> KeyIndex:
    """A JWKS (JSON) or PEM public key file of the app."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read key file {path.name}: {exc.strerror}") from None
    if raw.lstrip().startswith(b"{"):
        try:
            return parse_jwks(json.loads(raw))
        except ValueError as exc:
            raise ConfigError(f"{path.name} is not valid JSON") from exc
    for cls in (RSAKey, ECKey, OKPKey):
        try:
            key: Key = cls.import_key(raw)
        except (JoseError, ValueError, TypeError):
            continue
        if key.is_private:
            key = cls.import_key(key.as_dict(private=False))
        return KeyIndex([key])
    raise ConfigError(f"{path.name} holds neither a JWKS nor a PEM public key")


def check_jwks_url(url: str) -> str:
    """https everywhere; plain http only to a loopback address (local development, tests)."""
    parts = urlsplit(url)
    if parts.scheme == "https" and parts.hostname:
        return url
    if parts.scheme == "http" and parts.hostname:
        host = parts.hostname
        try:
            loopback = ipaddress.ip_address(host).is_loopback
        except ValueError:
            loopback = host == "localhost"
        if loopback:
            return url
    raise ConfigError(
        f"{url!r}: a JWKS or introspection URL must use https (http only on loopback)"
    )


class RemoteJwks:
    """A JWKS URL with a cache, refresh on unknown kid, and a refresh rate limit."""

    def __init__(
        self,
        url: str,
        *,
        max_age: float = 300.0,
        min_refresh: float = 30.0,
        timeout: float = 3.0,
    ) -> None:
        self.url = check_jwks_url(url)
        self.max_age = max_age
        self.min_refresh = min_refresh
        self.timeout = timeout
        self.fetches = 0  # how many times we went to the network (tests and metrics)
        self._index: KeyIndex | None = None
        self._fetched_at = 0.0
        self._attempted_at = float("-inf")
        self._lock = asyncio.Lock()

    async def key(self, kid: str | None) -> Key | None:
        now = time.monotonic()
        index = self._index
        if index is not None and now - self._fetched_at < self.max_age:
            found = index.get(kid)
            if found is not None:
                return found
        await self._refresh()
        return self._index.get(kid) if self._index is not None else None

    @property
    def loaded(self) -> bool:
        return self._index is not None

    async def _refresh(self) -> None:
        async with self._lock:
            now = time.monotonic()
            if now - self._attempted_at < self.min_refresh:
                return  # rate limit: someone refreshed (or tried) a moment ago
            self._attempted_at = now
            self.fetches += 1
            try:
                async with httpx.AsyncClient(timeout=self.timeout, follow_redirects=False) as c:
                    async with c.stream(
                        "GET", self.url, headers={"accept": "application/json"}
                    ) as r:
                        if r.status_code != 200:
                            raise ValueError(f"HTTP {r.status_code}")
                        body = b""
                        async for chunk in r.aiter_bytes():
                            body += chunk
                            if len(body) > MAX_JWKS_BYTES:
                                raise ValueError("JWKS document too large")
                index = parse_jwks(json.loads(body))
            except (httpx.HTTPError, ValueError, ConfigError) as exc:
                log.warning("fetching JWKS %s failed: %s", self.url, exc)
                return  # keep the keys we had; an unknown kid stays unknown
            self._index = index
            self._fetched_at = time.monotonic()
