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
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.bus.targets import BACKENDS, Target, bus_target

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


@pytest.fixture(params=BACKENDS)
def target(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Target]:
    yield from bus_target(request.param, tmp_path)
