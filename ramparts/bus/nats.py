"""NATS JetStream bus: durable queues shared by every node of a cluster.

URL: ``nats://[user:password@]host:4222`` with optional query options
``stream`` (default ``RAMPARTS``), ``subjects`` (subject prefix, default
``ramparts.q``) and ``replicas`` (default 1).  The dispatcher sees only the
``Bus`` contract.

Layout: one work-queue stream holding ``<subjects>.>``; queue ``Q`` is the
subject ``<subjects>.Q`` and has one durable pull consumer (explicit ack,
``ack_wait`` = the receive lease) whose filter is exactly that subject.

How the guarantees of ``ramparts.bus.base`` are met:

* ``enqueue`` returns only after JetStream's PubAck, i.e. once the stream
  stored the message.  The message id is sent as ``Nats-Msg-Id``, so an
  enqueue repeated within the stream's duplicate window (2 min) is stored once.
  ``enqueue_many`` publishes in order but is not all-or-nothing: if it fails
  half way, repeating the whole call is safe thanks to that dedupe.
* Leases are JetStream's ack wait; ``retry`` is ``nak(delay)``; ``ack`` waits
  for the server to confirm.  ``attempt`` is JetStream's delivery count
  (``num_delivered``), so a lease that ran out counts, as on the other backends.
* JetStream (before 2.12) cannot publish a message for later: a message
  enqueued with a delay carries a ``Ramparts-Not-Before`` header and is
  nak'd with the remaining delay when pulled early.  That deferral is not
  counted as an attempt.
* A ``retry`` from a delivery whose lease already ran out (the message was
  delivered again since) is ignored, so it cannot cut the newer lease short.
  JetStream 2.9 itself honours such a late nak, so this holds among the
  receives of one bus instance; across nodes a late nak only causes an early
  redelivery, which at-least-once delivery allows.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any
from urllib.parse import parse_qsl, urlsplit, urlunsplit

import nats
import nats.errors
import nats.js.errors
from nats.aio.client import Client
from nats.aio.msg import Msg
from nats.js import JetStreamContext
from nats.js.api import (
    AckPolicy,
    ConsumerConfig,
    DeliverPolicy,
    RetentionPolicy,
    StorageType,
    StreamConfig,
)

from ramparts.bus._common import (
    check_consumer,
    check_delay,
    check_outgoing,
    check_queue,
    check_receive_args,
    dump_headers,
    load_headers,
    redact_url,
)
from ramparts.bus.base import Bus, Message, OutgoingMessage
from ramparts.errors import BackendError, ConfigError, InvalidRequest

log = logging.getLogger(__name__)

DEFAULT_STREAM = "RAMPARTS"
DEFAULT_SUBJECTS = "ramparts.q"

_H_ID = "Ramparts-Id"
_H_HEADERS = "Ramparts-Headers"
_H_ENQUEUED_AT = "Ramparts-Enqueued-At"
_H_NOT_BEFORE = "Ramparts-Not-Before"

_STREAM_RE = re.compile(r"[A-Za-z0-9_-]{1,64}")
_SUBJECTS_RE = re.compile(r"[A-Za-z0-9_-]+(?:\.[A-Za-z0-9_-]+)*")
# Shortest fetch we ask the server for: a receive with wait=0 still needs one
# round trip to see what is there.
_MIN_FETCH = 0.05
# How many recent deliveries we remember to spot a stale retry (see docstring).
_TRACKED_DELIVERIES = 10_000


class NatsBus(Bus):
    """Durable queues on one JetStream work-queue stream."""

    schemes = ("nats",)

    def __init__(self, url: str, *, consumer: str | None = None) -> None:
        # JetStream tracks leases per durable consumer, not per client: a restarted
        # node cannot pick out its own, so the identity is only checked here.
        check_consumer(consumer)
        self._url, self._stream, self._subjects, self._replicas = _split_url(url)
        self._safe_url = redact_url(self._url)
        self._nc: Client | None = None
        self._js: JetStreamContext | None = None
        self._subs: dict[str, JetStreamContext.PullSubscription] = {}
        self._ack_wait: dict[str, float] = {}
        # nats-py's pull subscription does not support concurrent fetches.
        self._locks: dict[str, asyncio.Lock] = {}
        # (queue, stream sequence) -> latest delivery count handed out by this bus.
        self._latest: OrderedDict[tuple[str, int], int] = OrderedDict()

    # -- lifecycle --------------------------------------------------------

    async def open(self) -> None:
        if self._nc is not None:
            return
        async with self._translate("connect"):
            nc = await nats.connect(
                servers=[self._url],
                connect_timeout=5,
                # nats-py applies this to the first connect too: keep it short so
                # a wrong URL fails open() within seconds ...
                max_reconnect_attempts=1,
                error_cb=self._on_error,
            )
        # ... but once connected, ride out server restarts for as long as they take.
        nc.options["max_reconnect_attempts"] = -1
        try:
            js = nc.jetstream()
            async with self._translate("create stream"):
                await self._ensure_stream(js)
        except BaseException:
            await nc.close()
            raise
        self._nc, self._js = nc, js

    async def close(self) -> None:
        nc, self._nc, self._js = self._nc, None, None
        self._subs.clear()
        self._ack_wait.clear()
        self._latest.clear()
        if nc is not None:
            # Messages fetched but never returned are simply redelivered after ack_wait.
            await nc.close()

    # -- contract ---------------------------------------------------------

    async def enqueue_many(self, messages: list[OutgoingMessage]) -> list[str]:
        checked = [(message.queue, *check_outgoing(message)) for message in messages]
        js = self._jetstream()
        now = time.time()
        ids: list[str] = []
        for queue, message_id, body, headers, delay in checked:
            nats_headers = {
                "Nats-Msg-Id": message_id,
                _H_ID: message_id,
                _H_HEADERS: dump_headers(headers),
                _H_ENQUEUED_AT: repr(now),
            }
            if delay > 0:
                nats_headers[_H_NOT_BEFORE] = repr(now + delay)
            async with self._translate("enqueue"):
                # Awaits the PubAck: the stream has stored it (or it was a duplicate).
                await js.publish(
                    self._subject(queue), body, headers=nats_headers, stream=self._stream
                )
            ids.append(message_id)
        return ids

    async def receive(
        self, queue: str, *, max_messages: int = 10, lease: float = 30.0, wait: float = 1.0
    ) -> list[Message]:
        check_queue(queue)
        check_receive_args(max_messages, lease, wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        lock = self._locks.setdefault(queue, asyncio.Lock())
        async with lock:
            sub = await self._subscription(queue, lease)
            while True:
                remaining = deadline - loop.time()
                fetched = await self._fetch(sub, max_messages, max(remaining, _MIN_FETCH))
                got = [m for m in [await self._deliverable(queue, msg) for msg in fetched] if m]
                if got or deadline - loop.time() <= 0:
                    return got

    async def ack(self, message: Message) -> None:
        msg = _receipt(message)
        self._latest.pop(_delivery_key(message.queue, msg), None)
        async with self._translate("ack"):
            try:
                await msg.ack_sync()
            except nats.errors.MsgAlreadyAckdError:
                pass  # a second ack (or an ack after retry) changes nothing

    async def extend(self, message: Message, *, lease: float) -> bool:
        msg = _receipt(message)
        check_receive_args(1, lease, 0.0)  # the ack wait is the consumer's, set at receive
        if msg.is_acked:  # acked or nak'd by us: nothing left to extend
            return False
        if self._latest.get(_delivery_key(message.queue, msg), 0) > int(
            msg.metadata.num_delivered or 1
        ):
            return False
        async with self._translate("extend"):
            # "+WPI": JetStream restarts this delivery's ack wait.
            await msg.in_progress()
        return True

    async def retry(self, message: Message, *, delay: float) -> None:
        msg = _receipt(message)
        delay = check_delay(delay)
        key = _delivery_key(message.queue, msg)
        if self._latest.get(key, 0) > int(msg.metadata.num_delivered or 1):
            log.debug("nats bus: stale retry of %s ignored", message.id)
            return
        self._latest.pop(key, None)
        async with self._translate("retry"):
            try:
                await msg.nak(delay=delay)
            except nats.errors.MsgAlreadyAckdError:
                pass

    async def depth(self, queue: str) -> int:
        check_queue(queue)
        js = self._jetstream()
        async with self._translate("depth"):
            try:
                info = await js.consumer_info(self._stream, _durable(queue))
            except nats.js.errors.NotFoundError:
                # Never received from yet.  Creating it here (rather than updating
                # an existing one) cannot change the lease other nodes rely on.
                await self._ensure_consumer(queue, 30.0)
                info = await js.consumer_info(self._stream, _durable(queue))
        return int(info.num_pending or 0) + int(info.num_ack_pending or 0)

    # -- plumbing ---------------------------------------------------------

    def _jetstream(self) -> JetStreamContext:
        if self._js is None:
            raise BackendError("nats bus is not open")
        return self._js

    def _subject(self, queue: str) -> str:
        return f"{self._subjects}.{check_queue(queue)}"

    @asynccontextmanager
    async def _translate(self, what: str) -> AsyncIterator[None]:
        try:
            yield
        except nats.errors.Error as exc:
            raise BackendError(
                f"nats bus {self._safe_url}: {what} failed: {type(exc).__name__}: {exc}"
            ) from exc
        except (OSError, TimeoutError) as exc:
            raise BackendError(f"nats bus {self._safe_url}: {what} failed: {exc!r}") from exc

    async def _on_error(self, exc: Exception) -> None:
        # nats-py reports connection trouble here while it reconnects by itself.
        log.warning("nats bus %s: %s: %s", self._safe_url, type(exc).__name__, exc)

    async def _ensure_stream(self, js: JetStreamContext) -> None:
        try:
            await js.stream_info(self._stream)
            return  # an existing stream is the operator's: use it as it is
        except nats.js.errors.NotFoundError:
            pass
        await js.add_stream(
            StreamConfig(
                name=self._stream,
                subjects=[f"{self._subjects}.>"],
                # Work queue: an acked message is deleted, as the contract says.
                retention=RetentionPolicy.WORK_QUEUE,
                storage=StorageType.FILE,
                num_replicas=self._replicas,
                duplicate_window=120.0,
            )
        )

    async def _ensure_consumer(self, queue: str, lease: float) -> None:
        if self._ack_wait.get(queue) == lease:
            return
        config = ConsumerConfig(
            durable_name=_durable(queue),
            name=_durable(queue),
            filter_subject=self._subject(queue),
            ack_policy=AckPolicy.EXPLICIT,
            deliver_policy=DeliverPolicy.ALL,
            ack_wait=lease,
            max_deliver=-1,
        )
        async with self._translate("create consumer"):
            # Creating an existing durable with a new ack_wait updates it in place.
            await self._jetstream().add_consumer(self._stream, config)
        self._ack_wait[queue] = lease

    async def _subscription(self, queue: str, lease: float) -> JetStreamContext.PullSubscription:
        await self._ensure_consumer(queue, lease)
        sub = self._subs.get(queue)
        if sub is None:
            async with self._translate("subscribe"):
                sub = await self._jetstream().pull_subscribe_bind(
                    durable=_durable(queue), stream=self._stream
                )
            self._subs[queue] = sub
        return sub

    async def _fetch(
        self, sub: JetStreamContext.PullSubscription, batch: int, timeout: float
    ) -> list[Msg]:
        async with self._translate("receive"):
            try:
                return await sub.fetch(batch, timeout=timeout)
            except (nats.errors.TimeoutError, TimeoutError):
                # Nothing arrived in time.  On a busy machine nats-py sometimes lets the
                # plain asyncio timeout of its own request through instead of its own.
                return []

    async def _deliverable(self, queue: str, msg: Msg) -> Message | None:
        """The ``Message`` for ``msg``, or None after deferring one that is not due yet."""
        headers = msg.headers or {}
        delivered = int(msg.metadata.num_delivered or 1)
        not_before = _float(headers.get(_H_NOT_BEFORE))
        attempt = delivered
        if not_before is not None:
            now = time.time()
            if not_before > now:
                async with self._translate("defer"):
                    await msg.nak(delay=not_before - now)
                return None
            # An early pull was deferred once (see module docstring): not an attempt.
            attempt = max(delivered - 1, 1)
        key = _delivery_key(queue, msg)
        self._latest[key] = delivered
        self._latest.move_to_end(key)
        while len(self._latest) > _TRACKED_DELIVERIES:
            self._latest.popitem(last=False)
        message_id = headers.get(_H_ID) or headers.get("Nats-Msg-Id") or ""
        return Message(
            id=message_id,
            queue=queue,
            body=bytes(msg.data),
            attempt=attempt,
            headers=load_headers(headers.get(_H_HEADERS)),
            enqueued_at=_float(headers.get(_H_ENQUEUED_AT)) or 0.0,
            receipt=msg,
        )


def _split_url(url: str) -> tuple[str, str, str, int]:
    """Take our options out of the URL; the rest goes to nats-py."""
    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    unknown = set(options) - {"stream", "subjects", "replicas"}
    if unknown:
        raise ConfigError(f"nats bus URL: unknown option(s) {', '.join(sorted(unknown))}")
    stream = options.get("stream", DEFAULT_STREAM)
    subjects = options.get("subjects", DEFAULT_SUBJECTS)
    if not _STREAM_RE.fullmatch(stream):
        raise ConfigError("nats bus URL: stream must be 1-64 letters, digits, '_' or '-'")
    if not _SUBJECTS_RE.fullmatch(subjects):
        raise ConfigError("nats bus URL: subjects must be a dot-separated subject prefix")
    try:
        replicas = int(options.get("replicas", "1"))
    except ValueError as exc:
        raise ConfigError("nats bus URL: replicas must be an integer") from exc
    if not 1 <= replicas <= 5:
        raise ConfigError("nats bus URL: replicas must be between 1 and 5")
    return urlunsplit(parts._replace(query="")), stream, subjects, replicas


def _durable(queue: str) -> str:
    # Consumer names cannot hold ".", so "fn.ship-order" -> "fn_ship-order-<hash>";
    # the hash keeps "a.b" and "a_b" apart while the name stays readable.
    digest = hashlib.sha256(queue.encode()).hexdigest()[:10]
    return f"{queue.replace('.', '_')}-{digest}"


def _delivery_key(queue: str, msg: Msg) -> tuple[str, int]:
    return queue, int(msg.metadata.sequence.stream)


def _float(value: Any) -> float | None:
    try:
        return float(value) if value is not None else None
    except (TypeError, ValueError):
        return None


def _receipt(message: Message) -> Msg:
    if not isinstance(message.receipt, Msg):
        raise InvalidRequest("message was not received from a nats bus")
    return message.receipt
