"""The bus contract (``ramparts/bus/base.py``), run against every backend.

Each test runs once per backend through the ``target`` fixture: embedded
always, Redis and NATS when their servers on 127.0.0.1 answer.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from ramparts.bus import Bus, Message, OutgoingMessage, open_bus
from ramparts.errors import InvalidRequest

from .conftest import Target

Q = "fn.ship-order"


async def receive_all(bus: Bus, queue: str, n: int, *, lease: float = 30.0) -> list[Message]:
    """Receive until ``n`` messages arrived (or a few seconds passed)."""
    got: list[Message] = []
    deadline = time.monotonic() + 5
    while len(got) < n and time.monotonic() < deadline:
        got += await bus.receive(queue, max_messages=n - len(got), lease=lease, wait=0.5)
    return got


async def test_enqueue_then_receive(target: Target) -> None:
    async with target.connect() as bus:
        before = time.time()
        message_id = await bus.enqueue(Q, b"\x00payload\xff", headers={"trace": "t-1"})
        [msg] = await bus.receive(Q, wait=2)
        assert msg.id == message_id
        assert msg.queue == Q
        assert msg.body == b"\x00payload\xff"
        assert msg.headers == {"trace": "t-1"}
        assert msg.attempt == 1
        assert before - 1 <= msg.enqueued_at <= time.time() + 1


async def test_given_id_is_kept_and_enqueue_is_idempotent(target: Target) -> None:
    async with target.connect() as bus:
        assert await bus.enqueue(Q, b"one", message_id="order-1") == "order-1"
        assert await bus.enqueue(Q, b"one", message_id="order-1") == "order-1"
        assert await bus.depth(Q) == 1
        [msg] = await bus.receive(Q, wait=2)
        assert msg.id == "order-1"


async def test_ack_removes(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue(Q, b"x")
        assert await bus.depth(Q) == 1
        [msg] = await bus.receive(Q, wait=2)
        assert await bus.depth(Q) == 1  # leased still counts
        await bus.ack(msg)
        assert await bus.depth(Q) == 0
        assert await bus.receive(Q, wait=0.3) == []


async def test_ack_many_removes_exactly_the_given_messages(target: Target) -> None:
    async with target.connect() as bus:
        for n in range(5):
            await bus.enqueue(Q, f"m{n}".encode(), message_id=f"am-{n}")
        msgs = await _receive_n(bus, 5)
        await bus.ack_many([m for m in msgs if m.id != "am-2"])
        assert await bus.depth(Q) == 1
        await bus.retry(next(m for m in msgs if m.id == "am-2"), delay=0)
        [again] = await bus.receive(Q, wait=5)
        assert again.id == "am-2" and again.attempt == 2
        await bus.ack_many([again])
        await bus.ack_many([])
        assert await bus.depth(Q) == 0


async def _receive_n(bus: Bus, n: int) -> list[Message]:
    got: list[Message] = []
    for _ in range(50):
        got += await bus.receive(Q, max_messages=n - len(got), wait=1)
        if len(got) == n:
            return got
    raise AssertionError(f"received {len(got)} of {n}")


async def test_lease_hides_message_from_second_receive(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue(Q, b"x")
        [msg] = await bus.receive(Q, lease=30, wait=2)
        assert await bus.receive(Q, lease=30, wait=0.3) == []
        await bus.ack(msg)


async def test_expired_lease_makes_message_visible_again(target: Target) -> None:
    async with target.connect() as bus:
        message_id = await bus.enqueue(Q, b"x")
        [first] = await bus.receive(Q, lease=0.3, wait=2)
        await asyncio.sleep(0.4)
        [again] = await bus.receive(Q, lease=0.3, wait=2)
        assert again.id == message_id == first.id
        assert again.body == b"x"
        # attempt counts deliveries: a lease that ran out was one.
        assert again.attempt == 2
        await bus.ack(again)
        assert await bus.depth(Q) == 0


async def test_retry_with_delay(target: Target) -> None:
    async with target.connect() as bus:
        message_id = await bus.enqueue(Q, b"x", headers={"k": "v"})
        [msg] = await bus.receive(Q, lease=5, wait=2)
        retried_at = time.monotonic()
        await bus.retry(msg, delay=0.8)
        assert await bus.depth(Q) == 1  # delayed still counts
        assert await bus.receive(Q, lease=5, wait=0.3) == []
        [again] = await bus.receive(Q, lease=5, wait=3)
        assert time.monotonic() - retried_at >= 0.7
        assert (again.id, again.body, again.headers) == (message_id, b"x", {"k": "v"})
        assert again.attempt == 2
        await bus.retry(again, delay=0)
        [third] = await bus.receive(Q, lease=5, wait=2)
        assert third.attempt == 3
        await bus.ack(third)
        assert await bus.depth(Q) == 0


async def test_enqueue_with_delay(target: Target) -> None:
    """A delayed message is never received before its delay; messages enqueued after it
    without one are received meanwhile.

    The check is on the clock, not on an empty receive at a fixed moment: on a loaded
    machine 0.8 s passed before that receive, the delayed message was due, and the test
    failed although the bus was right.
    """
    delay = 2.0
    async with target.connect() as bus:
        sent = time.monotonic()
        await bus.enqueue(Q, b"later", delay=delay)
        await bus.enqueue(Q, b"now")
        got = await bus.receive(Q, wait=2)
        assert b"now" in [m.body for m in got]
        later_at = time.monotonic() if b"later" in [m.body for m in got] else None
        if later_at is None:
            assert await bus.depth(Q) == 2  # the leased message and the delayed one
        deadline = time.monotonic() + delay + 10
        while later_at is None and time.monotonic() < deadline:
            more = await bus.receive(Q, wait=0.2)
            if more:
                later_at = time.monotonic()
                got += more
        [later] = [m for m in got if m.body == b"later"]
        assert later.attempt == 1
        assert later_at is not None and later_at - sent >= delay, "received before its delay"


async def test_fifo_within_a_queue(target: Target) -> None:
    async with target.connect() as bus:
        ids = [await bus.enqueue(Q, str(i).encode()) for i in range(20)]
        got = await receive_all(bus, Q, 20)
        assert [m.id for m in got] == ids


async def test_queues_are_isolated(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue("fn.a", b"for a")
        await bus.enqueue("fn.b", b"for b")
        await bus.enqueue("fn", b"for fn")
        [a] = await bus.receive("fn.a", wait=2)
        assert a.body == b"for a" and a.queue == "fn.a"
        assert await bus.receive("fn.a", wait=0.2) == []
        assert [m.body for m in await bus.receive("fn.b", wait=2)] == [b"for b"]
        assert [m.body for m in await bus.receive("fn", wait=2)] == [b"for fn"]
        assert await bus.depth("fn.c") == 0


async def test_enqueue_many_keeps_order(target: Target) -> None:
    async with target.connect() as bus:
        batch = [OutgoingMessage(Q, f"m{i}".encode(), {"i": str(i)}) for i in range(5)]
        batch.insert(2, OutgoingMessage("fn.other", b"other", id="other-1"))
        ids = await bus.enqueue_many(batch)
        assert len(ids) == 6 and ids[2] == "other-1" and len(set(ids)) == 6
        got = await receive_all(bus, Q, 5)
        assert [m.body for m in got] == [f"m{i}".encode() for i in range(5)]
        assert [m.id for m in got] == ids[:2] + ids[3:]
        assert [m.headers["i"] for m in got] == ["0", "1", "2", "3", "4"]
        assert await bus.depth("fn.other") == 1
        assert await bus.enqueue_many([]) == []


async def test_max_messages_is_respected(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue_many([OutgoingMessage(Q, b"x") for _ in range(5)])
        assert len(await bus.receive(Q, max_messages=2, wait=2)) == 2
        assert len(await receive_all(bus, Q, 3)) == 3


async def test_waiting_receive_wakes_on_enqueue(target: Target) -> None:
    async with target.connect() as bus:
        await bus.depth(Q)  # let lazily created server-side state exist first

        async def enqueue_later() -> None:
            await asyncio.sleep(0.2)
            await bus.enqueue(Q, b"wake")

        task = asyncio.create_task(enqueue_later())
        started = time.monotonic()
        got = await bus.receive(Q, wait=8)
        await task
        assert [m.body for m in got] == [b"wake"]
        # Well before ``wait`` ran out: the receive was woken, not timed out.
        assert time.monotonic() - started < 4


async def test_reopen_after_close_keeps_messages(target: Target) -> None:
    async with target.connect() as bus:
        ids = await bus.enqueue_many([OutgoingMessage(Q, f"{i}".encode()) for i in range(3)])
    async with target.connect() as bus:
        assert await bus.depth(Q) == 3
        got = await receive_all(bus, Q, 3)
        assert sorted(m.id for m in got) == sorted(ids)


async def test_invalid_input_is_refused(target: Target) -> None:
    async with target.connect() as bus:
        for queue in ["", "a..b", "a.>", "a b", "a*", ".a", "a:b"]:
            with pytest.raises(InvalidRequest):
                await bus.enqueue(queue, b"x")
        with pytest.raises(InvalidRequest):
            await bus.enqueue(Q, b"x", message_id="id\r\nNats-Msg-Id: evil")
        with pytest.raises(InvalidRequest):
            await bus.enqueue(Q, b"x", delay=-1)
        with pytest.raises(InvalidRequest):
            await bus.receive("a..b")
        assert await bus.depth(Q) == 0


# -- crash safety: a real process, killed with SIGKILL -------------------------

_CHILD = """
import asyncio, os, signal, sys
from ramparts.bus import open_bus

async def main(url, queue, n, lease, consumer):
    bus = open_bus(url, consumer=consumer or None)
    await bus.open()
    for i in range(n):
        await bus.enqueue(queue, b"m%d" % i, message_id="m%d" % i)
    if lease:
        # Hold leases on some of them, as a dispatcher would mid-invocation.
        got = await bus.receive(queue, max_messages=3, lease=lease, wait=2)
        assert len(got) == 3, got
    # The instant the last call returned: no close, no flush, no atexit.
    os.kill(os.getpid(), signal.SIGKILL)

asyncio.run(main(sys.argv[1], sys.argv[2], int(sys.argv[3]), float(sys.argv[4]), sys.argv[5]))
"""


def _run_child_and_kill(url: str, n: int, lease: float = 0.0, consumer: str = "") -> None:
    proc = subprocess.run(
        [sys.executable, "-c", _CHILD, url, Q, str(n), str(lease), consumer],
        capture_output=True,
        timeout=30,
    )
    assert proc.returncode == -signal.SIGKILL, proc.stderr.decode()


async def test_kill_9_after_enqueue_loses_nothing(target: Target) -> None:
    await asyncio.to_thread(_run_child_and_kill, target.url, 25)
    async with target.connect() as bus:
        got = await receive_all(bus, Q, 25)
        assert sorted(m.id for m in got) == sorted(f"m{i}" for i in range(25))
        assert all(m.body == m.id.encode() for m in got)


async def test_leases_of_a_killed_consumer_are_redelivered(target: Target) -> None:
    lease = 1.0
    await asyncio.to_thread(_run_child_and_kill, target.url, 5, lease)
    async with target.connect() as bus:
        started = time.monotonic()
        got = await receive_all(bus, Q, 5, lease=lease)
        assert sorted(m.id for m in got) == [f"m{i}" for i in range(5)]
        assert sorted(m.attempt for m in got) == [1, 1, 2, 2, 2]
        if target.name == "embedded":
            # Single node: open() knows the old leases are dead, no need to wait them out.
            assert time.monotonic() - started < lease / 2


async def test_stale_retry_does_not_disturb_the_new_lease(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue(Q, b"x")
        [old] = await bus.receive(Q, lease=0.3, wait=2)
        await asyncio.sleep(0.4)
        [new] = await bus.receive(Q, lease=0.3, wait=2)
        await bus.retry(old, delay=0)  # the old consumer wakes up late
        assert await bus.receive(Q, lease=0.3, wait=0.1) == []
        await bus.ack(new)
        assert await bus.depth(Q) == 0


async def test_a_restarted_consumer_takes_back_its_leases_at_once(target: Target) -> None:
    if target.name == "nats":
        pytest.skip(
            "JetStream keeps leases per durable consumer, not per client: a restarted node"
            " cannot pick out its own, so they come back after one lease (see bus/base.py)"
        )
    # Leases far longer than this test may wait: only a reclaim at start can pass it.
    lease = 300.0
    await asyncio.to_thread(_run_child_and_kill, target.url, 5, lease, "node-0123456789abcdef")
    bus = open_bus(target.url, consumer="node-0123456789abcdef")
    await bus.open()
    try:
        assert bus.reclaims_leases_at_start
        got = await receive_all(bus, Q, 5, lease=lease)
        assert sorted(m.id for m in got) == [f"m{i}" for i in range(5)]
        assert sorted(m.attempt for m in got) == [1, 1, 2, 2, 2]  # the reclaim counts
        for m in got:
            await bus.ack(m)
        assert await bus.depth(Q) == 0
    finally:
        await bus.close()


async def test_another_consumer_does_not_take_live_leases_at_start(target: Target) -> None:
    # The reclaim is of one's own leases only: a second node starting up leaves
    # what a live node holds alone.
    async with target.connect() as first:
        await first.enqueue(Q, b"x")
        [held] = await first.receive(Q, lease=30, wait=2)
        second = open_bus(target.url, consumer="node-fedcba9876543210")
        if target.name == "embedded":
            return  # one process only: the file lock keeps a second node out
        await second.open()
        try:
            assert await second.receive(Q, lease=30, wait=0.5) == []
        finally:
            await second.close()
        await first.ack(held)


async def test_extend_keeps_a_slow_delivery_leased(target: Target) -> None:
    lease = 2.0
    async with target.connect() as bus:
        await bus.enqueue(Q, b"slow")
        [msg] = await bus.receive(Q, lease=lease, wait=2)
        started = time.monotonic()
        # Heartbeats every quarter lease, for well over one lease.
        while time.monotonic() - started < lease * 2:
            await asyncio.sleep(lease / 4)
            assert await bus.extend(msg, lease=lease)
            assert await bus.receive(Q, lease=lease, wait=0) == []
        await bus.ack(msg)
        assert await bus.depth(Q) == 0


async def test_extend_of_a_stale_delivery_changes_nothing(target: Target) -> None:
    async with target.connect() as bus:
        await bus.enqueue(Q, b"x")
        [old] = await bus.receive(Q, lease=0.3, wait=2)
        await asyncio.sleep(0.4)
        [new] = await bus.receive(Q, lease=0.3, wait=2)
        assert new.attempt == old.attempt + 1
        assert await bus.extend(old, lease=0.3) is False
        assert await bus.extend(new, lease=30) is True
        await bus.ack(new)
        assert await bus.depth(Q) == 0
