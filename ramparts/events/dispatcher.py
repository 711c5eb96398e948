"""The dispatcher: queued events in, handler invocations out.

One consumer task per function that has asynchronous triggers leases
messages from the function's queue, shapes each into the AWS event its
trigger promises, invokes the function's live version and then:

* acks on success;
* on failure retries after an exponential backoff (``backoff * 2**(n-1)``,
  capped, with jitter) until the trigger's ``retries`` are used up;
* then records a dead letter and, when the trigger names a ``dead_letter``
  topic, publishes the failure there, and acks.

A throttled invocation (a concurrency cap, an exhausted budget) is not a
failure: the message keeps its lease (renewed by the heartbeat) and is
invoked again after a short backoff, without using up a retry, and while a
function's budget is exhausted (``hold``) its consumer leases nothing new,
so its events wait in the bus until the window resets or the budget is
raised.

Messages are acked only after the handler has returned, so a node killed
mid-invocation redelivers them after restart: at-least-once.  Leases are
short (``lease_for``, 10 s by default) and a heartbeat renews each one every
third of it while its delivery is being handled, so a slow handler keeps its
message while a dead node's messages come back quickly.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import orjson

from ramparts.aio import wait_event
from ramparts.bus.base import Bus, Message
from ramparts.events.schemas import schema_error
from ramparts.events.subscriptions import (
    QUEUE_PREFIX,
    DeliverySettings,
    Subscriptions,
    batch_event,
    event_for_delivery,
    filter_envelope,
    record_for_delivery,
    record_ids,
)
from ramparts.observe.redact import redact_text
from ramparts.observe.tracing import DISABLED, Tracing
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
        tracing: Tracing = DISABLED,
        on_dead_letter: Callable[[str], None] | None = None,
        on_backend_error: Callable[[str], None] | None = None,
        hold: Callable[[str], float] | None = None,
    ) -> None:
        self._hold = hold or (lambda _fn: 0.0)
        self._tracing = tracing
        self._on_dead_letter = on_dead_letter
        self._on_backend_error = on_backend_error
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
        # Every live function: any may be sent an asynchronous invocation (Lambda's Event).
        wanted = self._subs().async_functions() | self._subs().all_functions()
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
        """Lease messages, group them per trigger into batches, deliver each batch.

        A trigger's batch goes out when it holds ``batch_size`` records or its
        oldest record has waited ``batch_window``; with the defaults (1, 0)
        every message is its own delivery.  Buffered and in-flight messages
        stay leased by one heartbeat for the whole consumer.
        """
        queue = QUEUE_PREFIX + function
        loop = asyncio.get_running_loop()
        inflight: set[asyncio.Task[None]] = set()
        pending: dict[tuple[str, int | None], _Pending] = {}
        held: dict[int, Message] = {}
        heartbeat = loop.create_task(self._heartbeat(function, held))
        try:
            while not self._closing:
                limit = max(1, self._concurrency(function))
                now = loop.time()
                for key in list(pending):
                    group = pending[key]
                    while group.items and len(inflight) < limit and group.ready(now):
                        chunk = group.take()
                        task = loop.create_task(self._deliver_batch(function, group, chunk, held))
                        inflight.add(task)
                        task.add_done_callback(inflight.discard)
                    if not group.items:
                        del pending[key]
                free = limit - len(inflight)
                due = min((g.due for g in pending.values()), default=now + 1.0)
                wait = min(1.0, max(due - loop.time(), 0.0))
                room = free * self._subs().largest_batch(function) - sum(
                    len(g.items) for g in pending.values()
                )
                if free <= 0 or room <= 0:
                    if inflight:
                        await asyncio.wait(
                            inflight,
                            timeout=None if free <= 0 else wait,
                            return_when=asyncio.FIRST_COMPLETED,
                        )
                    else:
                        await asyncio.sleep(wait)
                    continue
                if self._hold(function) > 0:
                    # Over budget: leave the events in the bus (visible to every node) and
                    # look again shortly; a raised budget takes effect within a second.
                    await asyncio.sleep(_HOLD_POLL)
                    continue
                lease = self._lease_for(function)
                try:
                    messages = await self._bus.receive(
                        queue, max_messages=min(room, _MAX_RECEIVE), lease=lease, wait=wait
                    )
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("receiving from %s failed; retrying", queue)
                    self._backend_error("bus_receive")
                    await asyncio.sleep(1.0)
                    continue
                for msg in messages:
                    body = _parse(msg)
                    if body is None:
                        log.error("dropping malformed message %s on %s", msg.id, msg.queue)
                        await self._dead_letter(function, msg, {}, "malformed message")
                        await self._bus.ack(msg)
                        continue
                    held[id(msg)] = msg
                    kind = str(body.get("kind"))
                    trigger = body.get("trigger")
                    group = pending.get((kind, trigger))
                    if group is None:
                        settings = self._subs().delivery(function, trigger)
                        if kind not in _BATCHED:
                            settings = dataclasses.replace(settings, batch_size=1, batch_window=0)
                        group = _Pending(kind, settings, loop.time() + settings.batch_window)
                        pending[(kind, trigger)] = group
                    group.items.append((msg, body))
        finally:
            heartbeat.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await heartbeat

    async def _heartbeat(self, function: str, held: dict[int, Message]) -> None:
        """Keep every buffered or in-flight message of a consumer leased."""
        while True:
            lease = self._lease_for(function)
            await asyncio.sleep(lease / 3)
            for msg in list(held.values()):
                try:
                    if not await self._bus.extend(msg, lease=lease) and id(msg) in held:
                        # Delivered again elsewhere: at-least-once, nothing more to hold.
                        log.warning(
                            "lease of %s on %s was lost; it may run twice", msg.id, msg.queue
                        )
                        held.pop(id(msg), None)
                except asyncio.CancelledError:
                    raise
                except Exception as exc:  # the next beat tries again; the lease still holds
                    log.warning("extending the lease of %s failed: %s", msg.id, exc)

    async def _deliver_batch(
        self,
        function: str,
        group: _Pending,
        chunk: list[tuple[Message, dict[str, Any]]],
        held: dict[int, Message],
    ) -> None:
        try:
            if group.kind in _BATCHED:
                await self._deliver_records(function, group.kind, group.settings, chunk)
            else:
                for msg, body in chunk:
                    await self._deliver(function, msg, body, group.settings)
        finally:
            for msg, _body in chunk:
                held.pop(id(msg), None)

    async def _deliver_records(
        self,
        function: str,
        kind: str,
        settings: DeliverySettings,
        chunk: list[tuple[Message, dict[str, Any]]],
    ) -> None:
        """One invocation for a batch of topic or table records, then per-record outcomes."""
        batch: list[tuple[Message, dict[str, Any], dict[str, Any]]] = []
        skipped: list[Message] = []
        for msg, body in chunk:
            if kind == "topic":
                validator = self._subs().validator(function, body.get("trigger"))
                problem = schema_error(validator, body.get("data")) if validator else None
                if problem is not None:
                    # Deterministic: a retry would fail the same way, so no retries.
                    log.warning("message %s on %s: %s", msg.id, msg.queue, problem)
                    event = event_for_delivery(body, msg.id, msg.attempt)
                    await self._give_up(function, msg, body, event, problem, settings)
                    continue
            try:
                record = record_for_delivery(body, msg.id, msg.attempt)
            except (KeyError, TypeError, ValueError):
                log.error("dropping malformed message %s on %s", msg.id, msg.queue)
                await self._dead_letter(function, msg, body, "malformed message")
                await self._bus.ack(msg)
                continue
            if not settings.passes(filter_envelope(kind, record)):
                skipped.append(msg)  # filtered out: acked, never invoked (as ESM does)
                continue
            batch.append((msg, body, record))
        await self._ack_all(skipped)
        if not batch:
            return
        event = batch_event(kind, [record for _m, _b, record in batch])
        try:
            result = await self._traced_invoke(
                function, event, kind, [m for m, _b, _r in batch]
            )
        except Exception:
            log.exception("invoking %s failed", function)
            result = None
        if result is not None and result.status == "throttled":
            return  # stopping: left leased, the lease runs out and another consumer gets it
        failed: list[int] = list(range(len(batch)))
        if result is not None and result.ok:
            if not settings.report_batch_item_failures:
                failed = []
            else:
                reported = _reported_failures(result.result, kind, [r for _m, _b, r in batch])
                if isinstance(reported, str):
                    log.warning("%s: %s; the whole batch is retried", function, reported)
                    error = f"invalid batch response: {reported}"
                else:
                    failed = reported
                    if kind == "table" and failed:
                        # As Lambda does for a stream: the lowest reported record is the
                        # checkpoint, and it and every record after it are retried.  A
                        # handler that stops at its first failure and reports only that
                        # record (AWS's documented example) loses nothing after it.
                        failed = list(range(min(failed), len(batch)))
                    error = "reported in batchItemFailures"
        else:
            error = _error_text(result)
        failing = set(failed)
        await self._ack_all([m for i, (m, _b, _r) in enumerate(batch) if i not in failing])
        for i in failed:
            msg, body, record = batch[i]
            await self._fail(function, msg, body, batch_event(kind, [record]), error, settings)

    async def _traced_invoke(
        self, function: str, event: Any, kind: Any, messages: list[Message]
    ) -> InvocationResult | None:
        """Invoke for ``messages`` until it is not throttled; a throttle uses up no retry.

        The messages stay leased (the heartbeat renews them) while this waits; if
        the node stops meanwhile they come back to another consumer after their lease.
        """
        backoff = _THROTTLE_BACKOFF
        while True:
            wait = self._hold(function)
            if wait > 0:
                await asyncio.sleep(min(wait, _HOLD_POLL))
                continue
            result = await self._traced_invoke_once(function, event, kind, messages)
            if result is None or result.status != "throttled" or self._closing:
                return result
            await asyncio.sleep(backoff * random.uniform(0.5, 1.0))  # noqa: S311 - jitter
            backoff = min(backoff * 2, _THROTTLE_BACKOFF_MAX)

    async def _traced_invoke_once(
        self, function: str, event: Any, kind: Any, messages: list[Message]
    ) -> InvocationResult | None:
        """Invoke for ``messages``, in a consumer span continuing the first one's trace.

        The other messages of a batch are linked to the span, each with its own trace.
        """
        if not self._tracing.enabled:
            return await self._invoke(function, event, kind, messages[0].id)
        contexts = [self._tracing.extract(m.headers) for m in messages]
        with self._tracing.span(
            f"deliver {function}",
            kind="consumer",
            parent=contexts[0],
            links=[c for c in contexts[1:] if c is not None],
            attributes={
                "faas.name": function,
                "messaging.batch.message_count": len(messages),
                "messaging.message.id": messages[0].id,
                "ramparts.attempt": messages[0].attempt,
            },
        ):
            return await self._invoke(function, event, kind, messages[0].id)

    def _dead_letter_span(self, function: str, msg: Message) -> Any:
        """The failed message's trace goes on into its dead-letter topic (tracing on)."""
        if not self._tracing.enabled:
            return contextlib.nullcontext()
        return self._tracing.span(
            f"dead-letter {function}",
            kind="producer",
            parent=self._tracing.extract(msg.headers),
            attributes={"faas.name": function, "ramparts.attempt": msg.attempt},
        )

    def _backend_error(self, component: str) -> None:
        if self._on_backend_error is not None:
            self._on_backend_error(component)

    async def _ack_all(self, messages: list[Message]) -> None:
        if messages:
            await self._bus.ack_many(messages)

    async def _deliver(
        self, function: str, msg: Message, body: dict[str, Any], settings: DeliverySettings
    ) -> None:
        try:
            event = event_for_delivery(body, msg.id, msg.attempt)
        except (KeyError, TypeError, ValueError):
            log.error("dropping malformed message %s on %s", msg.id, msg.queue)
            await self._dead_letter(function, msg, {}, "malformed message")
            await self._bus.ack(msg)
            return
        try:
            result = await self._traced_invoke(function, event, body.get("kind", "event"), [msg])
        except Exception:
            log.exception("invoking %s failed", function)
            result = None
        if result is not None and result.ok:
            await self._bus.ack(msg)
            return
        if result is not None and result.status == "throttled":
            return  # stopping: left leased, the lease runs out and another consumer gets it
        await self._fail(function, msg, body, event, _error_text(result), settings)

    async def _fail(
        self,
        function: str,
        msg: Message,
        body: dict[str, Any],
        event: Any,
        error: str,
        settings: DeliverySettings,
    ) -> None:
        """Retry after a backoff while retries remain, else give up on the message."""
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
                with self._dead_letter_span(function, msg):
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
        if self._on_dead_letter is not None:
            self._on_dead_letter(function)


_HOLD_POLL = 1.0  # seconds between looks at an exhausted budget
_THROTTLE_BACKOFF = 0.2  # first wait after a throttled delivery, doubling up to the max
_THROTTLE_BACKOFF_MAX = 5.0
_BATCHED = frozenset({"topic", "table"})  # the kinds whose records are batched and filtered
_MAX_RECEIVE = 1000


@dataclass
class _Pending:
    """Messages of one trigger waiting to go out as a batch."""

    kind: str
    settings: DeliverySettings
    due: float  # loop time by which the oldest message must go
    items: list[tuple[Message, dict[str, Any]]] = field(default_factory=list)

    def ready(self, now: float) -> bool:
        return len(self.items) >= self.settings.batch_size or now >= self.due

    def take(self) -> list[tuple[Message, dict[str, Any]]]:
        chunk = self.items[: self.settings.batch_size]
        del self.items[: self.settings.batch_size]
        return chunk


def _parse(msg: Message) -> dict[str, Any] | None:
    try:
        body = orjson.loads(msg.body)
    except orjson.JSONDecodeError:
        return None
    return body if isinstance(body, dict) and "kind" in body and "data" in body else None


def _error_text(result: InvocationResult | None) -> str:
    if result is None:
        return "function not deployed"
    return f"{result.status}: {result.error_type or ''} {result.error_message or ''}".strip()


def _reported_failures(response: Any, kind: str, records: list[dict[str, Any]]) -> list[int] | str:
    """The batch positions a handler's ``batchItemFailures`` names, or what is wrong with it.

    As Lambda does: no response, no list or an empty list is a complete
    success; a response that is not an object, an entry that is not
    ``{"itemIdentifier": "<id>"}`` or an id not in the batch fails the whole
    batch, so a typo can never ack a record the handler did not process.
    """
    if response is None:
        return []
    if not isinstance(response, dict):
        return "the response is not an object"
    entries = response.get("batchItemFailures")
    if entries is None:
        return []
    if not isinstance(entries, list):
        return "batchItemFailures is not a list"
    positions: dict[str, list[int]] = {}
    for i, record in enumerate(records):
        for rid in record_ids(kind, record):
            positions.setdefault(rid, []).append(i)
    failed: set[int] = set()
    for entry in entries:
        if not isinstance(entry, dict) or set(entry) != {"itemIdentifier"}:
            return "a batchItemFailures entry is not {itemIdentifier: ID}"
        rid = entry["itemIdentifier"]
        if not isinstance(rid, str) or not rid:
            return "an itemIdentifier is not a non-empty string"
        if rid not in positions:
            return "an itemIdentifier names no record of the batch"
        failed.update(positions[rid])
    return sorted(failed)


class OutboxRelay:
    """Moves change events from the store's outbox to the bus.

    KV and object writes put their change events into the outbox in the same
    transaction as the write; this relay enqueues them on the bus and only
    then deletes them, so a crash between the two redelivers rather than loses.
    """

    def __init__(
        self, store: Store, bus: Bus, *, on_error: Callable[[str], None] | None = None
    ) -> None:
        self._on_error = on_error
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
            await wait_event(self._wake, 1.0)
            self._wake.clear()
            self._idle.clear()
            try:
                await self.drain()
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("outbox relay failed; will retry")
                if self._on_error is not None:
                    self._on_error("outbox_relay")
            finally:
                self._idle.set()

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
