"""Fixtures for the bus tests: one ``target`` per backend, and async tests.

``async def`` tests run under ``asyncio.run`` (see ``pytest_pyfunc_call``), so
the suite needs no asyncio plugin.  Redis and NATS are the real servers on
127.0.0.1; when one is not reachable its tests skip and say why.  Each test
gets its own key prefix or stream and cleans it up, so tests never see each
other's messages.
"""

from __future__ import annotations

import asyncio
import inspect
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
ASYNC_TEST_TIMEOUT = 20.0


@pytest.hookimpl(tryfirst=True)
def pytest_pyfunc_call(pyfuncitem: pytest.Function) -> bool | None:
    func = pyfuncitem.obj
    if not inspect.iscoroutinefunction(func):
        return None
    kwargs = {name: pyfuncitem.funcargs[name] for name in pyfuncitem._fixtureinfo.argnames}

    async def bounded() -> None:
        await asyncio.wait_for(func(**kwargs), ASYNC_TEST_TIMEOUT)

    asyncio.run(bounded())
    return True


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


@pytest.fixture(
    params=[
        "embedded",
        pytest.param("redis", marks=pytest.mark.redis),
        pytest.param("nats", marks=pytest.mark.nats),
    ]
)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    if request.param == "embedded":
        yield Target("embedded", f"embedded://{tmp_path}/bus.db")
    elif request.param == "redis":
        yield from _redis_target()
    else:
        yield from _nats_target()
