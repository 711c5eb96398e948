"""Private bus URLs on each backend, for tests of the bus and of what wraps it.

Redis and NATS are the real servers on 127.0.0.1; when one is not reachable
the test skips and says why.  Each target has its own key prefix or stream
and is cleaned up afterwards, so tests never see each other's messages.
"""

from __future__ import annotations

import asyncio
import socket
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import pytest

from ramparts.bus import Bus, open_bus

REDIS = ("127.0.0.1", 6379)
NATS = ("127.0.0.1", 4222)
BACKENDS = [
    "embedded",
    pytest.param("redis", marks=pytest.mark.redis),
    pytest.param("nats", marks=pytest.mark.nats),
]


@dataclass(frozen=True)
class Target:
    """One backend under test: a URL private to this test."""

    name: str
    url: str

    @asynccontextmanager
    async def connect(self) -> AsyncIterator[Bus]:
        bus = open_bus(self.url)
        await bus.open()
        try:
            yield bus
        finally:
            await bus.close()


def _reachable(address: tuple[str, int]) -> bool:
    try:
        with socket.create_connection(address, timeout=0.5):
            return True
    except OSError:
        return False


def _redis_target() -> Iterator[Target]:
    if not _reachable(REDIS):
        pytest.skip("Redis not reachable on 127.0.0.1:6379")
    redis = pytest.importorskip("redis", reason="redis driver not installed (ramparts[redis])")

    prefix = f"ramparts-test:{uuid.uuid4().hex[:12]}:"
    yield Target("redis", f"redis://127.0.0.1:6379/0?key_prefix={prefix}")
    client = redis.Redis(*REDIS)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _nats_target() -> Iterator[Target]:
    if not _reachable(NATS):
        pytest.skip("NATS not reachable on 127.0.0.1:4222")
    pytest.importorskip("nats", reason="nats-py not installed (ramparts[nats])")
    import nats
    import nats.js.errors

    tag = uuid.uuid4().hex[:12]
    stream = f"RAMPARTS_TEST_{tag}"
    yield Target("nats", f"nats://127.0.0.1:4222?stream={stream}&subjects=rt{tag}.q")

    async def drop() -> None:
        nc = await nats.connect("nats://127.0.0.1:4222")
        try:
            await nc.jetstream().delete_stream(stream)
        except nats.js.errors.NotFoundError:
            pass
        finally:
            await nc.close()

    asyncio.run(drop())


def bus_target(backend: str, tmp_path: Path) -> Iterator[Target]:
    """One ``Target`` on ``backend`` (a ``BACKENDS`` value), removed after use."""
    if backend == "embedded":
        yield Target("embedded", f"embedded://{tmp_path}/bus.db")
    elif backend == "redis":
        yield from _redis_target()
    else:
        yield from _nats_target()
