"""Queued payloads are sealed on every bus backend: embedded (SQLite), Redis Streams, NATS.

Each test runs ``SealedBus`` (the wrapper the node puts around its bus) over a
real backend: the embedded queue's file, the Redis server and the NATS
JetStream server on 127.0.0.1 (skipped with a reason where absent).  What the
backend stores is ciphertext bound to the queue and the message id; a
ciphertext copied into another message is never delivered as data.
"""

from __future__ import annotations

import asyncio
import socket
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


def _reachable(port: int) -> bool:
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


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


def _redis_drop(prefix: str) -> None:
    import redis

    client = redis.Redis("127.0.0.1", 6379)
    try:
        keys = list(client.scan_iter(match=f"{prefix}*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def _nats_drop(stream: str) -> None:
    import nats
    import nats.js.errors

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
def bus_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    tag = uuid.uuid4().hex[:12]
    if request.param == "embedded":
        yield f"embedded://{tmp_path}/bus.db"
    elif request.param == "redis":
        if not _reachable(6379):
            pytest.skip("Redis not reachable on 127.0.0.1:6379")
        pytest.importorskip("redis", reason="redis driver not installed (ramparts[redis])")
        prefix = f"ramparts-test:{tag}:"
        yield f"redis://127.0.0.1:6379/0?key_prefix={prefix}"
        _redis_drop(prefix)
    else:
        if not _reachable(4222):
            pytest.skip("NATS not reachable on 127.0.0.1:4222")
        pytest.importorskip("nats", reason="nats-py not installed (ramparts[nats])")
        stream = f"RAMPARTS_TEST_{tag}"
        yield f"nats://127.0.0.1:4222?stream={stream}&subjects=rt{tag}.q"
        _nats_drop(stream)


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
