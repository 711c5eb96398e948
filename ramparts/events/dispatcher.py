"""The dispatcher: queued events in, handler invocations out.

One consumer task per function that has asynchronous triggers leases
messages from the function's queue, shapes each into the AWS event its
trigger promises, invokes the function's live version and then:

* acks on success;
* on failure retries after an exponential backoff (``backoff * 2**(n-1)``,
  capped, with jitter) until the trigger's ``retries`` are used up;
* then records a dead letter and, when the trigger names a ``dead_letter``
  topic, publishes the failure there, and acks.

Messages are acked only after the handler has returned, so a node killed
mid-invocation redelivers them after restart: at-least-once.  Leases are
short (``lease_for``, 10 s by default) and a heartbeat renews each one every
third of it while its delivery is being handled, so a slow handler keeps its
message while a dead node's messages come back quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
import time
from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from ramparts.bus.base import Bus, Message
from ramparts.events.schemas import schema_error
from ramparts.events.subscriptions import (
    QUEUE_PREFIX,
    DeliverySettings,
    Subscriptions,
    event_for_delivery,
)
from ramparts.observe.redact import redact_text
from ramparts.runtime.types import InvocationResult
from ramparts.store import Store

log = logging.getLogger("ramparts.dispatcher")

InvokeLive = Callable[[str, Any, str, str], Awaitable[InvocationResult | None]]
Publish = Callable[[str, str, Any], Awaitable[list[str]]]


class Dispatcher:
    def __init__(
        self,
        *,
        bus: Bus,
        store: Store,
        subscriptions: Callable[[], Subscriptions],
        invoke: InvokeLive,
        publish: Publish,
        concurrency: Callable[[str], int],
        max_delay: float = 300.0,
        lease_for: Callable[[str], float],
    ) -> None:
        self._bus = bus
        self._store = store
        self._subs = subscriptions
        self._invoke = invoke
        self._publish = publish
        self._concurrency = concurrency
        self._lease_for = lease_for
        self._max_delay = max_delay
        self._consumers: dict[str, asyncio.Task[None]] = {}
        self._closing = False

    def sync(self) -> None:
        """Start consumers for new async functions, stop those that lost their triggers."""
        wanted = self._subs().async_functions()
        for fn in wanted - self._consumers.keys():
            self._consumers[fn] = asyncio.get_running_loop().create_task(
                self._consume(fn), name=f"consume-{fn}"
            )
        for fn in set(self._consumers) - wanted:
            self._consumers.pop(fn).cancel()

    async def close(self) -> None:
        self._closing = True
        tasks = list(self._consumers.values())
        for t in tasks:
            t.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._consumers.clear()

    async def _consume(self, function: str) -> None:
        queue = QUEUE_PREFIX + function
        inflight: set[asyncio.Task[None]] = set()
        while not self._closing:
            limit = max(1, self._concurrency(function))
            free = limit - len(inflight)
            if free <= 0:
                await asyncio.wait(inflight, return_when=asyncio.FIRST_COMPLETED)
                continue
            lease = self._lease_for(function)
            try:
                messages = await self._bus.receive(
                    queue, max_messages=free, lease=lease, wait=1.0
                )
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("receiving from %s failed; retrying", queue)
                await asyncio.sleep(1.0)
                continue
            for msg in messages:
                task = asyncio.get_running_loop().create_task(
                    self._deliver_leased(function, msg, lease)
                )
                inflight.add(task)
                task.add_done_callback(inflight.discard)

    async def _deliver_leased(self, function: str, msg: Message, lease: float) -> None:
        """Deliver ``msg`` while a heartbeat keeps its lease alive."""
        heartbeat = asyncio.get_running_loop().create_task(self._heartbeat(msg, lease))
        try:
            await self._deliver(function, msg)
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, msg: Message, lease: float) -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                if not await self._bus.extend(msg, lease=lease):
                    # Delivered again elsewhere: at-least-once, nothing more to hold.
                    log.warning("lease of %s on %s was lost; it may run twice", msg.id, msg.queue)
                    return
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # the next beat tries again; the lease still holds
                log.warning("extending the lease of %s failed: %s", msg.id, exc)

    async def _deliver(self, function: str, msg: Message) -> None:
        try:
            body = orjson.loads(msg.body)
            event = event_for_delivery(body, msg.id, msg.attempt)
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            log.error("dropping malformed message %s on %s", msg.id, msg.queue)
            await self._dead_letter(function, msg, {}, "malformed message")
            await self._bus.ack(msg)
            return
        settings = self._subs().delivery(function, body.get("trigger"))
        if body.get("kind") == "topic":
            validator = self._subs().validator(function, body.get("trigger"))
            problem = schema_error(validator, body.get("data")) if validator else None
            if problem is not None:
                # Deterministic: a retry would fail the same way, so no retries.
                log.warning("message %s on %s: %s", msg.id, msg.queue, problem)
                await self._give_up(function, msg, body, event, problem, settings)
                return
        try:
            result = await self._invoke(function, event, body.get("kind", "event"), msg.id)
        except Exception:
            log.exception("invoking %s failed", function)
            result = None
        if result is not None and result.ok:
            await self._bus.ack(msg)
            return
        error = (
            "function not deployed"
            if result is None
            else (
                f"{result.status}: {result.error_type or ''} {result.error_message or ''}".strip()
            )
        )
        if msg.attempt <= settings.retries:
            delay = min(settings.backoff * 2 ** (msg.attempt - 1), self._max_delay)
            delay *= random.uniform(0.8, 1.2)  # noqa: S311 - jitter, not security
            await self._bus.retry(msg, delay=delay)
            return
        await self._give_up(function, msg, body, event, error, settings)

    async def _give_up(
        self,
        function: str,
        msg: Message,
        body: dict[str, Any],
        event: Any,
        error: str,
        settings: DeliverySettings,
    ) -> None:
        """Record the dead letter, publish it to the trigger's dead-letter topic, ack."""
        # Handler-made text can quote the message: secrets and personal data are masked.
        error = redact_text(error)
        await self._dead_letter(function, msg, body, error)
        if settings.dead_letter:
            try:
                await self._publish(
                    body.get("app", ""),
                    settings.dead_letter,
                    {
                        "function": function,
                        "source": body.get("source"),
                        "kind": body.get("kind"),
                        "message_id": msg.id,
                        "attempts": msg.attempt,
                        "error": error,
                        "event": event,
                    },
                )
            except Exception:
                log.exception("publishing to dead-letter topic %s failed", settings.dead_letter)
                await self._bus.retry(msg, delay=self._max_delay)
                return
        await self._bus.ack(msg)

    async def _dead_letter(
        self, function: str, msg: Message, body: dict[str, Any], error: str
    ) -> None:
        await asyncio.to_thread(
            self._store.add_dead_letter,
            {
                "at": time.time(),
                "function": function,
                "message_id": msg.id,
                "attempts": msg.attempt,
                "error": redact_text(error)[:2000],
                "source": f"{body.get('kind', '?')}:{body.get('source', '?')}"[:256],
            },
        )


class OutboxRelay:
    """Moves change events from the store's outbox to the bus.

    KV and object writes put their change events into the outbox in the same
    transaction as the write; this relay enqueues them on the bus and only
    then deletes them, so a crash between the two redelivers rather than loses.
    """

    def __init__(self, store: Store, bus: Bus) -> None:
        self._store = store
        self._bus = bus
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._idle = asyncio.Event()
        self._idle.set()

    def kick(self) -> None:
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="outbox-relay")
        self.kick()

    async def drain(self) -> None:
        while True:
            entries = await asyncio.to_thread(self._store.outbox_take, 200)
            if not entries:
                return
            from ramparts.bus.base import OutgoingMessage

            await self._bus.enqueue_many(
                [OutgoingMessage(e.queue, e.body, e.headers, e.message_id) for e in entries]
            )
            await asyncio.to_thread(self._store.outbox_delete, [e.seq for e in entries])

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wake.wait(), 1.0)
            except TimeoutError:
                pass
            self._wake.clear()
            self._idle.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; will retry")
            finally:
                self._idle.set()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
