"""The event bus contract.

The bus is a set of durable queues, one per subscription (for example
``fn.ship-order`` for the function subscribed to a topic).  The dispatcher
fans a topic publish out into the subscribers' queues, receives messages
with a lease, invokes the function and then acknowledges the message, or
asks for a retry after a backoff, or moves it to a dead-letter topic.

What every backend must guarantee:

* ``enqueue``/``enqueue_many`` return only after the message is durable in
  the backend (that is what "persisted before acknowledged" rests on).
* A received message stays invisible to other receivers for ``lease``
  seconds.  If it is neither acked nor retried by then (the consumer or the
  whole node died) it is delivered again: at-least-once delivery.
* ``retry`` makes the message visible again after ``delay`` seconds with
  ``attempt`` increased by one; ``ack`` removes it for good, and
  ``ack_many`` does so for several (the embedded bus in one transaction).
* ``Message.id`` is stable across redeliveries, so handlers can use it as an
  idempotency key.

What every backend also does (pinned by ``tests/bus/test_contract.py``):

* ``attempt`` counts deliveries: 1 on the first, one more on every
  redelivery, whether it follows a ``retry`` or a lease that ran out (as
  SQS's receive count and JetStream's ``num_delivered`` do), so a message
  that keeps killing its consumer still reaches its dead-letter limit.
* Enqueueing an id that is already queued and not yet acked stores it once
  (on NATS: within the stream's duplicate window, two minutes).
* Messages of one queue are first delivered in enqueue order.
* Receive each queue with one ``lease`` value: Redis and NATS keep the lease
  per queue (claim threshold, consumer ack wait), not per call.
* ``extend`` is the heartbeat of a delivery still being handled: it starts
  the lease over, so leases can be short (seconds) while a handler runs for
  minutes.  It returns False, changing nothing, for a delivery whose lease
  already ran out and that was delivered again since.
* A consumer that comes back under the ``consumer`` identity it had before
  it crashed (the node keeps one in its data dir) gets its old leases back at
  once instead of after they run out: the embedded bus releases every lease at
  ``open`` (it is single-process by its file lock), Redis hands the restarted
  consumer its own pending entries first.  NATS JetStream cannot tell which
  client holds a message, so there a crashed node's messages come back after
  one lease.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Message:
    """One delivery of a queued message."""

    id: str
    queue: str
    body: bytes
    attempt: int = 1
    headers: dict[str, str] = field(default_factory=dict)
    enqueued_at: float = 0.0
    # Backend-private handle needed to ack/retry this delivery (a stream entry id,
    # a JetStream message, a row id).  Never serialised.
    receipt: object = field(default=None, compare=False, repr=False)


@dataclass(frozen=True)
class OutgoingMessage:
    queue: str
    body: bytes
    headers: dict[str, str] = field(default_factory=dict)
    id: str | None = None
    delay: float = 0.0


class Bus(abc.ABC):
    """A durable queue backend, chosen by URL (see ``ramparts.bus.open_bus``)."""

    #: URL schemes this backend serves, e.g. ``("redis", "rediss")``.
    schemes: tuple[str, ...] = ()

    #: Whether a consumer restarted under the same identity reclaims its leases at once.
    reclaims_leases_at_start: bool = False

    @abc.abstractmethod
    async def open(self) -> None:
        """Connect, create what is missing, recover what a crash left behind."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Release connections; queued messages stay durable."""

    @abc.abstractmethod
    async def enqueue_many(self, messages: list[OutgoingMessage]) -> list[str]:
        """Make every message durable, then return their ids (in order)."""

    async def enqueue(
        self,
        queue: str,
        body: bytes,
        *,
        headers: dict[str, str] | None = None,
        message_id: str | None = None,
        delay: float = 0.0,
    ) -> str:
        ids = await self.enqueue_many(
            [OutgoingMessage(queue, body, dict(headers or {}), message_id, delay)]
        )
        return ids[0]

    @abc.abstractmethod
    async def receive(
        self, queue: str, *, max_messages: int = 10, lease: float = 30.0, wait: float = 1.0
    ) -> list[Message]:
        """Lease up to ``max_messages`` visible messages, waiting at most ``wait`` s."""

    @abc.abstractmethod
    async def extend(self, message: Message, *, lease: float) -> bool:
        """Heartbeat: keep ``message`` leased for ``lease`` more seconds from now.

        False (and nothing changed) if this delivery is no longer the live one.
        """

    @abc.abstractmethod
    async def ack(self, message: Message) -> None:
        """The message was handled; remove it."""

    async def ack_many(self, messages: list[Message]) -> None:
        """Ack several messages (a batch's successes); backends may do it in one write."""
        for message in messages:
            await self.ack(message)

    @abc.abstractmethod
    async def retry(self, message: Message, *, delay: float) -> None:
        """Deliver the message again after ``delay`` seconds, attempt + 1."""

    @abc.abstractmethod
    async def depth(self, queue: str) -> int:
        """Messages not yet acked in ``queue`` (visible, leased or delayed)."""
