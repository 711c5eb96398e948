"""API keys: ``rk_<id>_<secret>``, stored only as a keyed hash, checked with one HMAC.

The ``rk_`` prefix tells a key from a JWT in an ``Authorization: Bearer``
header; ``<id>`` (12 hex characters) is the lookup prefix ``keys list``
shows.  The store keeps HMAC-SHA256(server secret, key): a stolen table
does not yield usable keys, and the server secret can live outside the
store (``RAMPARTS_API_KEY_SECRET``).

Hot path: a key's record is cached in memory and the cache is dropped
whenever the store's identity generation moved (read fresh for every request
through ``GenerationReader``: on SQLite one primary-key read inline, on
PostgreSQL one round trip shared by concurrent requests), so a revoke on any
node is effective on the next request on every node while a warm check costs
one HMAC and one tiny counter read, never a key-row read.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import hmac
import logging
import re
import secrets
import time

from ramparts.errors import InvalidRequest
from ramparts.identity.errors import AuthFailed
from ramparts.identity.principal import Principal
from ramparts.identity.records import ApiKeyRecord, IdentityRecords

log = logging.getLogger("ramparts.identity")

KEY_RE = re.compile(r"^rk_([0-9a-f]{12})_([A-Za-z0-9_-]{43})\Z")
SCOPE_RE = re.compile(r"^[A-Za-z0-9:._/*-]{1,128}\Z")
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._:@-]{0,127}\Z")
_CACHE_MAX = 50_000


def check_scopes(scopes: list[str]) -> tuple[str, ...]:
    for s in scopes:
        if not isinstance(s, str) or not SCOPE_RE.match(s):
            raise InvalidRequest(
                f"invalid scope {s!r}: use letters, digits and : . _ / * - (at most 128)",
                code="invalid_argument",
            )
    return tuple(sorted(set(scopes)))


MAX_RATES = 5


def check_rates(rates: object) -> tuple[str, ...]:
    """A key's or client's own limits: one to five of ``N/second|minute|hour|day``."""
    from ramparts.manifest import parse_rate

    if rates is None:
        return ()
    if isinstance(rates, str):
        rates = [rates]
    if not isinstance(rates, list) or len(rates) > MAX_RATES:
        raise InvalidRequest(
            f"rate must be a list of at most {MAX_RATES} limits such as 50/second",
            code="invalid_argument",
        )
    out = []
    for rate in rates:
        try:
            amount, unit = parse_rate(rate)
        except ValueError:
            raise InvalidRequest(
                f"rate: {str(rate)[:64]!r} is not a limit such as 50/second "
                "(per second, minute, hour or day)",
                code="invalid_argument",
            ) from None
        out.append(f"{amount}/{unit}")
    return tuple(dict.fromkeys(out))


def check_name(name: object) -> str:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise InvalidRequest(
            "name must start with a letter or digit and use letters, digits, spaces and "
            "._:@- (at most 128 characters)",
            code="invalid_argument",
        )
    return name


class ApiKeys:
    def __init__(self, records: IdentityRecords, server_secret: bytes | None = None) -> None:
        self._records = records
        self._secret = server_secret or b""
        self._counter = records.generation_reader()
        self._generation = -1
        self._cache: dict[str, ApiKeyRecord | None] = {}
        self._principals: dict[str, tuple[ApiKeyRecord, Principal]] = {}
        self._used: dict[str, float] = {}
        self._task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        if not self._secret:
            self._secret = await asyncio.to_thread(self._records.server_secret)
        self._task = asyncio.get_running_loop().create_task(self._flush_loop())

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        await asyncio.to_thread(self._flush)
        self._counter.close()

    def hash(self, key: str) -> str:
        # hmac.digest: the same HMAC-SHA256, computed in one C call (no HMAC object).
        return hmac.digest(self._secret, key.encode(), hashlib.sha256).hex()

    # -- management ---------------------------------------------------------------------
    def create(
        self,
        name: str,
        scopes: list[str],
        expires_in: float | None,
        app: str | None,
        rate: object = None,
    ) -> tuple[str, ApiKeyRecord]:
        """Make a key; the plain key is returned once and never stored."""
        check_name(name)
        scope_t = check_scopes(scopes)
        rate_t = check_rates(rate)
        if expires_in is not None and not 0 < expires_in <= 10 * 365 * 86400:
            raise InvalidRequest(
                "expires must be between 1 second and 10 years", code="invalid_argument"
            )
        key_id = secrets.token_hex(6)
        key = f"rk_{key_id}_{secrets.token_urlsafe(32)}"
        now = time.time()
        rec = ApiKeyRecord(
            key_id,
            name,
            self.hash(key),
            scope_t,
            app,
            now,
            now + expires_in if expires_in else None,
            None,
            None,
            rate_t,
        )
        self._records.add_api_key(rec)
        return key, rec

    # -- the hot path -------------------------------------------------------------------
    async def authenticate(self, key: str) -> Principal:
        match = KEY_RE.match(key)
        if match is None:
            raise AuthFailed("invalid_api_key", "api_key_malformed")
        key_id = match.group(1)
        try:
            generation = await self._counter.get()
        except Exception as exc:  # the store is down: we cannot know about revocations
            log.warning("cannot read the identity generation: %s", exc.__class__.__name__)
            raise AuthFailed("auth_unavailable", "identity_store_unavailable", status=503) from None
        if generation != self._generation:
            self._cache.clear()
            self._generation = generation
        if key_id in self._cache:
            rec = self._cache[key_id]
        else:
            try:
                rec = await asyncio.to_thread(self._records.get_api_key, key_id)
            except Exception:
                raise AuthFailed(
                    "auth_unavailable", "identity_store_unavailable", status=503
                ) from None
            if len(self._cache) >= _CACHE_MAX:
                self._cache.clear()
            self._cache[key_id] = rec
        who = f"key:{key_id}"
        # Until the secret matches, the request proved nothing: the id is only claimed.
        if rec is None:
            raise AuthFailed("invalid_api_key", "api_key_unknown", claimed_key=key_id)
        if not hmac.compare_digest(self.hash(key), rec.hash):
            raise AuthFailed("invalid_api_key", "api_key_mismatch", claimed_key=key_id)
        now = time.time()
        if rec.revoked_at is not None:
            raise AuthFailed("invalid_api_key", "api_key_revoked", principal=who)
        if rec.expires_at is not None and rec.expires_at <= now:
            raise AuthFailed("invalid_api_key", "api_key_expired", principal=who)
        self._used[key_id] = now
        principal = self._principals.get(key_id)
        if principal is None or principal[0] is not rec:  # one per cached record
            principal = (
                rec,
                Principal(
                    method="api_key",
                    id=who,
                    scopes=frozenset(rec.scopes),
                    app=rec.app,
                    extra={"keyId": key_id, "keyName": rec.name},
                    rate=rec.rate,
                ),
            )
            if len(self._principals) >= _CACHE_MAX:
                self._principals.clear()
            self._principals[key_id] = principal
        return principal[1]

    # -- last used, batched ---------------------------------------------------------------
    def _flush(self) -> None:
        used, self._used = self._used, {}
        try:
            self._records.touch_api_keys(used)
        except Exception:
            log.warning("could not record API key use")

    async def _flush_loop(self) -> None:
        while True:
            await asyncio.sleep(2.0)
            if self._used:
                await asyncio.to_thread(self._flush)
