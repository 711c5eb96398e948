"""Queued payloads are sealed on every bus backend: embedded (SQLite), Redis Streams, NATS.

Each test runs ``SealedBus`` (the wrapper the node puts around its bus) over a
real backend: the embedded queue's file, the Redis server and the NATS
JetStream server on 127.0.0.1 (skipped with a reason where absent).  What the
backend stores is ciphertext bound to the queue and the message id; a
ciphertext copied into another message is never delivered as data.
"""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest

from ramparts.bus import open_bus
from ramparts.bus.base import OutgoingMessage
from ramparts.crypto.envelope import MAGIC, Sealer
from ramparts.crypto.keyring import Keyring
from ramparts.crypto.masterkey import resolve_master_key
from ramparts.crypto.seams import SealedBus
from ramparts.store.sql import SQLStore
from tests.bus.targets import BACKENDS, bus_target


@pytest.fixture()
def sealer(tmp_path: Path) -> Iterator[Sealer]:
    store = SQLStore(f"sqlite:///{tmp_path / 'state.db'}")
    yield Sealer(Keyring(store.engine, resolve_master_key(tmp_path, create=True, environ={})))
    store.close()


def _redis_raw(prefix: str) -> bytes:
    """Every byte Redis holds under ``prefix``: stream entries, hashes, sorted sets."""
    import redis

    client = redis.Redis("127.0.0.1", 6379)
    try:
        out = []
        for key in client.scan_iter(match=f"{prefix}*"):
            out.append(client.dump(key) or b"")
        return b"".join(out)
    finally:
        client.close()


@pytest.fixture(params=BACKENDS)
def bus_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    for target in bus_target(request.param, tmp_path):
        yield target.url


def test_payloads_are_sealed_in_the_backend(bus_url: str, sealer: Sealer, tmp_path: Path) -> None:
    marker = b"BUS-MARKER-" + uuid.uuid4().hex.encode()
    queue = "fn.sealed"

    async def scenario() -> tuple[bytes, bytes, bytes]:
        bus = SealedBus(open_bus(bus_url), sealer)
        await bus.open()
        try:
            ids = await bus.enqueue_many(
                [
                    OutgoingMessage(queue, b'{"a": "' + marker + b'"}'),
                    OutgoingMessage(queue, b'{"b": "' + marker + b'"}'),
                ]
            )
            # what the backend itself holds and hands out: ciphertext
            (raw,) = await bus.inner.receive(queue, max_messages=1, lease=30, wait=2)
            assert raw.id == ids[0]
            assert raw.body.startswith(MAGIC) and marker not in raw.body
            await bus.inner.ack(raw)
            if bus_url.startswith("redis"):
                assert marker not in _redis_raw(bus_url.split("key_prefix=")[1])
            # through the seal: plaintext, for the node
            (plain,) = await bus.receive(queue, max_messages=1, lease=30, wait=2)
            assert plain.id == ids[1] and plain.body == b'{"b": "' + marker + b'"}'
            await bus.ack(plain)
            # a ciphertext copied into another message (another id) does not open
            await bus.inner.enqueue_many([OutgoingMessage(queue, raw.body, id="copied-1")])
            (moved,) = await bus.receive(queue, max_messages=1, lease=30, wait=2)
            await bus.ack(moved)
            return raw.body, plain.body, moved.body
        finally:
            await bus.close()

    _, _, moved = asyncio.run(scenario())
    assert moved == b""  # handed on empty: the dispatcher dead-letters it as malformed
    if bus_url.startswith("embedded"):
        files = [p for p in tmp_path.iterdir() if p.name.startswith("bus.db")]
        assert files and all(marker not in p.read_bytes() for p in files)
