"""The counter: the ``limits`` library's moving window, over memory or Redis, chosen by URL.

Why a moving window: it counts the requests of the last ``window`` seconds
exactly, at any instant.  A fixed window lets a caller send twice the limit
across a window boundary (the end of one minute and the start of the next);
the sliding-window counter approximates; a token bucket is not in ``limits``.
The price is memory: one timestamp per counted request and key, at most the
limit's amount per key (in the node's memory, or in Redis).

Storage (``--rate-limit-storage``):

* ``memory://`` (default): this node's memory (``memory.py``).  Each node
  counts for itself, so N nodes behind a balancer admit up to N times a limit.
* ``redis://[:password@]host:port[/db]`` or ``rediss://...``: one Redis that
  every node shares, so a limit holds across the cluster (redis-py's asyncio
  client; the ``redis`` extra).

Fail closed: a storage that cannot answer (down, slow past ``timeout``)
raises ``RateLimitUnavailable`` (503 ``rate_limit_unavailable``); a request is
never let through uncounted.
"""

from __future__ import annotations

import asyncio
import functools
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

import limits
from limits import RateLimitItem
from limits.aio.strategies import MovingWindowRateLimiter

from ramparts.errors import BackendError, ConfigError

if TYPE_CHECKING:
    from ramparts.ratelimit.memory import MovingWindowMemory

SCHEMES = ("memory", "redis", "rediss")
DEFAULT_STORAGE = "memory://"
_KEY_PREFIX = "ramparts-rl"


class RateLimitUnavailable(BackendError):
    """The rate-limit storage did not answer: the request is refused, not let through."""

    code = "rate_limit_unavailable"
    status = 503


@dataclass(frozen=True)
class Limit:
    """One limit as written (``100/minute``) and the ``limits`` item that counts it."""

    text: str
    item: RateLimitItem

    @functools.cached_property  # read several times per counted request
    def amount(self) -> int:
        return int(self.item.amount)

    @functools.cached_property
    def window(self) -> int:
        """The window in seconds (``minute`` -> 60)."""
        return int(self.item.get_expiry())


@dataclass(frozen=True)
class Outcome:
    """What one count decided, and what the response headers report.

    ``limit`` is the limit that refused the request, or, when every limit let
    it through, the one with the fewest requests left; ``reset`` is the whole
    seconds until that limit admits one more request (at least 1 when refused).
    """

    allowed: bool
    limit: Limit
    remaining: int
    reset: int
    policy: tuple[Limit, ...]


@functools.lru_cache(maxsize=4096)
def _parse(texts: tuple[str, ...]) -> tuple[Limit, ...]:
    from ramparts.manifest import parse_rate

    out = []
    for text in texts:
        amount, unit = parse_rate(text)  # our grammar, stricter than the library's
        out.append(Limit(f"{amount}/{unit}", limits.parse(f"{amount}/{unit}")))
    # Shortest window first: a request a short limit refuses is not counted by the long
    # ones (a burst does not eat the hourly quota), see RateLimiter.hit.
    return tuple(sorted(out, key=lambda limit: (limit.window, limit.amount)))


def parse_limits(texts: Sequence[str]) -> tuple[Limit, ...]:
    """``["10/second", "1000/hour"]`` -> limits, shortest window first; ValueError if bad."""
    return _parse(tuple(texts))


def check_storage_url(url: str, *, name: str = "--rate-limit-storage") -> str:
    """The storage URL if its scheme is one we count with; a ``ConfigError`` naming it if not."""
    try:
        parts = urlsplit(url)
    except ValueError:
        raise ConfigError(f"{name}: not a URL (use memory:// or redis://HOST:PORT)") from None
    if parts.scheme not in SCHEMES:
        raise ConfigError(
            f"{name}: {parts.scheme + '://' if parts.scheme else 'this URL'} is not a rate-limit "
            "storage "
            "(use memory:// for this node alone, or redis://HOST:PORT/DB or rediss://...)"
        )
    if parts.scheme != "memory" and not parts.hostname:
        raise ConfigError(f"{name}: a Redis URL needs a host, e.g. redis://127.0.0.1:6379/0")
    return url


class RateLimiter:
    """Counts hits of ``Limit``s per identity in one storage; every call is bounded in time."""

    def __init__(self, url: str = DEFAULT_STORAGE, *, timeout: float = 1.0) -> None:
        check_storage_url(url)
        self.url = url
        self.shared = not url.startswith("memory")
        self._timeout = timeout
        self._memory: MovingWindowMemory | None = None
        if self.shared:
            from limits.aio.storage import RedisStorage

            try:
                self._storage = RedisStorage(
                    url,
                    wrap_exceptions=True,
                    implementation="redispy",
                    key_prefix=_KEY_PREFIX,
                    socket_connect_timeout=timeout,
                    socket_timeout=timeout,
                )
            except limits.errors.ConfigurationError as exc:
                raise ConfigError(
                    "--rate-limit-storage redis:// needs the redis client: "
                    "pip install 'ramparts[redis]'"
                ) from exc
        else:
            from ramparts.ratelimit.memory import MovingWindowMemory

            self._storage = self._memory = MovingWindowMemory()
        self._strategy = MovingWindowRateLimiter(self._storage)

    async def hit(
        self, policy: Sequence[Limit], identity: Sequence[str], *, stats: bool = True
    ) -> Outcome:
        """Count one request of ``identity`` against every limit of ``policy``.

        Limits are counted shortest window first and counting stops at the
        first refusal, so a refused request is counted only by the shorter
        limits it passed (they forget it within their own short window).  With
        ``stats``, an admitted request also reads each limit's window to report
        the tightest in the headers (one more storage read per limit).
        """
        try:
            if self._memory is not None:  # no I/O: counted inline, nothing to wait for
                return self._hit_memory(self._memory, policy, "/".join(identity), stats)
            return await asyncio.wait_for(self._hit(policy, identity, stats), self._timeout)
        except RateLimitUnavailable:
            raise
        except Exception as exc:  # down, timed out, or any storage failure: fail closed
            raise RateLimitUnavailable(
                "rate limits cannot be checked right now; retry later"
            ) from exc

    @staticmethod
    def _hit_memory(
        memory: MovingWindowMemory, policy: Sequence[Limit], who: str, stats: bool
    ) -> Outcome:
        """``_hit`` over this node's memory, synchronously (the same decisions).

        Each limit is counted and its window read in one pass (``MovingWindowMemory.hit``):
        the window reported is the one the count just saw.
        """
        best, remaining, reset = policy[0], policy[0].amount - 1, policy[0].window
        best_key: tuple[int, int] | None = None
        for limit in policy:
            admitted, start, count = memory.hit(f"{who}/{limit.text}", limit.amount, limit.window)
            if not admitted:
                return Outcome(False, limit, 0, _seconds_until(start + limit.window, 1),
                               tuple(policy))
            left = limit.amount - count
            if stats and (best_key is None or (left, -limit.window) < best_key):
                best_key = (left, -limit.window)
                best, remaining = limit, max(left, 0)
                reset = _seconds_until(start + limit.window, 0)
        return Outcome(True, best, remaining, reset, tuple(policy))

    async def _hit(self, policy: Sequence[Limit], identity: Sequence[str], stats: bool) -> Outcome:
        strategy = self._strategy
        for limit in policy:
            if not await strategy.hit(limit.item, *identity):
                reset, _ = await strategy.get_window_stats(limit.item, *identity)
                return Outcome(False, limit, 0, _seconds_until(reset, 1), tuple(policy))
        tightest = policy[0]
        remaining, reset = tightest.amount - 1, tightest.window
        if stats:
            if self.shared and len(policy) > 1:  # one round trip for all of them
                found = await asyncio.gather(
                    *(strategy.get_window_stats(limit.item, *identity) for limit in policy)
                )
            else:
                found = [await strategy.get_window_stats(limit.item, *identity)
                         for limit in policy]
            best = min(range(len(policy)), key=lambda i: (found[i][1], -policy[i].window))
            tightest = policy[best]
            remaining = max(int(found[best][1]), 0)
            reset = _seconds_until(found[best][0], 0)
        return Outcome(True, tightest, remaining, reset, tuple(policy))

    async def check(self) -> bool:
        """Whether the storage answers now (for start-up warnings; requests fail closed)."""
        try:
            return bool(await asyncio.wait_for(self._storage.check(), self._timeout))
        except Exception:
            return False

    async def reset(self) -> None:
        """Forget every count (tests and benchmarks only)."""
        await self._storage.reset()

    async def close(self) -> None:
        if self.shared:
            bridge = getattr(self._storage, "bridge", None)
            client = getattr(bridge, "storage", None)
            close = getattr(client, "aclose", None) or getattr(client, "close", None)
            if close is not None:
                try:
                    await asyncio.wait_for(close(), self._timeout)
                except Exception:  # noqa: S110 - closing a dead connection: nothing to do
                    pass


def _seconds_until(at: float, floor: int) -> int:
    return max(floor, math.ceil(at - time.time()))
