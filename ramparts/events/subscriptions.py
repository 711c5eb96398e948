"""Who receives what: the asynchronous triggers of every live function.

Built from the registry's live versions and rebuilt when an alias moves.  It
turns a source event (a topic publish, an object write, a KV change, a cron
tick, a verified webhook) into one durable message per subscribed function,
queued on that function's queue ``fn.<name>``.  The message body says which
trigger it came from, so the dispatcher can shape the AWS event and apply
that trigger's retry and dead-letter settings.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Any

import orjson

from ramparts.bus.base import OutgoingMessage
from ramparts.events import shapes
from ramparts.events.schemas import Validator, load_validator
from ramparts.registry.service import LiveFunction
from ramparts.store import OutboxEntry

QUEUE_PREFIX = "fn."


def queue_for(function: str) -> str:
    return QUEUE_PREFIX + function


@dataclass(frozen=True)
class Subscription:
    function: str
    app: str
    index: int  # position of the trigger in the function's manifest section
    kind: str
    config: Any

    @property
    def trigger_id(self) -> str:
        return f"{self.kind}[{self.index}]"


@dataclass(frozen=True)
class DeliverySettings:
    retries: int = 2
    backoff: float = 1.0
    dead_letter: str | None = None


def encode_body(
    kind: str, sub: Subscription | None, app: str, function: str, source: str, data: Any
) -> bytes:
    return orjson.dumps(
        {
            "kind": kind,
            "app": app,
            "function": function,
            "trigger": sub.index if sub else None,
            "source": source,
            "data": data,
            "sent_at": time.time(),
        }
    )


class Subscriptions:
    def __init__(self, live: list[LiveFunction]) -> None:
        self.topics: dict[tuple[str, str], list[Subscription]] = {}
        self.objects: dict[tuple[str, str], list[Subscription]] = {}
        self.tables: dict[tuple[str, str], list[Subscription]] = {}
        self.schedules: list[Subscription] = []
        self.webhooks: list[Subscription] = []
        self._by_function: dict[str, LiveFunction] = {f.name: f for f in live}
        # (function, trigger index) -> the compiled schema of that topic trigger.
        self._validators: dict[tuple[str, int], Validator] = {}
        for fn in live:
            for i, trig in enumerate(fn.config.triggers):
                sub = Subscription(fn.name, fn.app, i, trig.kind, trig.config)
                if trig.topic:
                    self.topics.setdefault((fn.app, trig.topic.name), []).append(sub)
                    if trig.topic.schema_:
                        self._validators[(fn.name, i)] = load_validator(
                            fn.spec.code_dir, trig.topic.schema_
                        )
                elif trig.object:
                    self.objects.setdefault((fn.app, trig.object.bucket), []).append(sub)
                elif trig.table:
                    self.tables.setdefault((fn.app, trig.table.name), []).append(sub)
                elif trig.schedule:
                    self.schedules.append(sub)
                elif trig.webhook:
                    self.webhooks.append(sub)

    def async_functions(self) -> set[str]:
        """Functions that have at least one queued trigger (they need a consumer)."""
        out: set[str] = set()
        for group in (self.topics, self.objects, self.tables):
            for subs in group.values():
                out.update(s.function for s in subs)
        out.update(s.function for s in self.schedules)
        out.update(s.function for s in self.webhooks)
        return out

    def delivery(self, function: str, index: int | None) -> DeliverySettings:
        fn = self._by_function.get(function)
        if fn is None or index is None or not 0 <= index < len(fn.config.triggers):
            return DeliverySettings()
        cfg = fn.config.triggers[index].config
        return DeliverySettings(
            getattr(cfg, "retries", 2),
            getattr(cfg, "backoff", 1.0),
            getattr(cfg, "dead_letter", None),
        )

    def validator(self, function: str, index: int | None) -> Validator | None:
        """The schema a trigger's messages must match, or None if it declares none."""
        if index is None:
            return None
        return self._validators.get((function, index))

    # -- producers ----------------------------------------------------------------------
    def topic_messages(self, app: str, topic: str, message: Any) -> list[OutgoingMessage]:
        """One message per subscriber; the topic message itself is the SQS body."""
        body_text = message if isinstance(message, str) else orjson.dumps(message).decode()
        out = []
        for sub in self.topics.get((app, topic), []):
            out.append(
                OutgoingMessage(
                    queue_for(sub.function),
                    encode_body("topic", sub, app, sub.function, topic, body_text),
                    {"kind": "topic"},
                    uuid.uuid4().hex,
                )
            )
        return out

    def object_events(
        self, app: str, bucket: str, key: str, event: str, *, size: int, etag: str, request_id: str
    ) -> list[OutboxEntry]:
        name = "ObjectCreated:Put" if event == "created" else "ObjectRemoved:Delete"
        out = []
        for sub in self.objects.get((app, bucket), []):
            cfg = sub.config
            if (
                event not in cfg.events
                or not key.startswith(cfg.prefix)
                or not key.endswith(cfg.suffix)
            ):
                continue
            record = shapes.s3_record(
                event_name=name,
                bucket=bucket,
                key=key,
                size=size,
                etag=etag,
                sequencer=f"{time.time_ns():020X}",
                app=app,
                time=time.time(),
                request_id=request_id,
            )
            mid = uuid.uuid4().hex
            out.append(
                OutboxEntry(
                    0,
                    queue_for(sub.function),
                    encode_body("object", sub, app, sub.function, bucket, record),
                    {"kind": "object"},
                    mid,
                )
            )
        return out

    def table_events(self, app: str, table: str, key: str, old: Any, new: Any) -> list[OutboxEntry]:
        if old is None and new is None:
            return []
        event = "insert" if old is None else "remove" if new is None else "modify"
        out = []
        for sub in self.tables.get((app, table), []):
            if event not in sub.config.events:
                continue
            mid = uuid.uuid4().hex
            record = shapes.dynamodb_record(
                event_name=event.upper(),
                table=table,
                key=key,
                new_image=new,
                old_image=old,
                sequence_number=str(time.time_ns()),
                app=app,
                time=time.time(),
                event_id=mid,
            )
            out.append(
                OutboxEntry(
                    0,
                    queue_for(sub.function),
                    encode_body("table", sub, app, sub.function, table, record),
                    {"kind": "table"},
                    mid,
                )
            )
        return out

    def schedule_message(self, sub: Subscription, tick: float) -> OutgoingMessage:
        mid = uuid.uuid4().hex
        event = shapes.scheduled_event(
            rule=f"{sub.function}-{sub.trigger_id}", app=sub.app, time=tick, event_id=mid
        )
        return OutgoingMessage(
            queue_for(sub.function),
            encode_body("schedule", sub, sub.app, sub.function, sub.trigger_id, event),
            {"kind": "schedule"},
            mid,
        )

    def webhook_message(self, sub: Subscription, http_event: dict[str, Any]) -> OutgoingMessage:
        mid = uuid.uuid4().hex
        return OutgoingMessage(
            queue_for(sub.function),
            encode_body("webhook", sub, sub.app, sub.function, sub.config.path, http_event),
            {"kind": "webhook"},
            mid,
        )


def event_for_delivery(body: dict[str, Any], message_id: str, attempt: int) -> dict[str, Any]:
    """The AWS-shaped event a handler receives for one queued message."""
    kind = body["kind"]
    data = body["data"]
    if kind == "topic":
        return shapes.sqs_event(
            [
                shapes.sqs_record(
                    message_id=message_id,
                    body=data,
                    topic=body["source"],
                    app=body["app"],
                    attempt=attempt,
                    sent_at=body["sent_at"],
                )
            ]
        )
    if kind == "object":
        return shapes.s3_event([data])
    if kind == "table":
        return shapes.dynamodb_event([data])
    # schedule and webhook events were shaped when they were accepted
    return data
