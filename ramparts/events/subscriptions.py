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
from ramparts.patterns.match import Pattern, compile_pattern, matches_any
from ramparts.registry.service import LiveFunction
from ramparts.store import OutboxEntry
from ramparts.tables import streams as table_streams
from ramparts.tables.keys import KeySchema
from ramparts.tables.schemas import app_tables

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
    # Event-source-mapping options (topic and table triggers; the rest deliver one by one).
    batch_size: int = 1
    batch_window: float = 0.0
    report_batch_item_failures: bool = False
    filters: tuple[Pattern, ...] = ()

    def passes(self, envelope: Any) -> bool:
        """Whether a record passes the trigger's filters (no filters: every record)."""
        return matches_any(list(self.filters), envelope)


def encode_body(
    kind: str,
    sub: Subscription | None,
    app: str,
    function: str,
    source: str,
    data: Any,
    extra: dict[str, Any] | None = None,
    *,
    region: str = shapes.DEFAULT_REGION,
) -> bytes:
    # The region travels with the message: SQS records are shaped at delivery.
    body = {
        "kind": kind,
        "region": region,
        "app": app,
        "function": function,
        "trigger": sub.index if sub else None,
        "source": source,
        "data": data,
        "sent_at": time.time(),
    }
    if extra:  # e.g. the SQS message attributes of a topic message sent through the AWS API
        body.update({k: v for k, v in extra.items() if k not in body})
    return orjson.dumps(body)


class Subscriptions:
    def __init__(self, live: list[LiveFunction], *, region: str = shapes.DEFAULT_REGION) -> None:
        # The node's region (``--region``): events carry it where Lambda's do.
        self.region = region
        self.topics: dict[tuple[str, str], list[Subscription]] = {}
        self.objects: dict[tuple[str, str], list[Subscription]] = {}
        self.tables: dict[tuple[str, str], list[Subscription]] = {}
        # (app, table) -> declared key schema (tables: in the manifest); others keep ``key``.
        self.table_schemas: dict[tuple[str, str], KeySchema] = {}
        self.schedules: list[Subscription] = []
        self.webhooks: list[Subscription] = []
        self._by_function: dict[str, LiveFunction] = {f.name: f for f in live}
        # (function, trigger index) -> the compiled schema of that topic trigger.
        self._validators: dict[tuple[str, int], Validator] = {}
        # (function, trigger index) -> that trigger's delivery settings, filters compiled.
        self._delivery: dict[tuple[str, int], DeliverySettings] = {}
        for fn in live:
            for i, trig in enumerate(fn.config.triggers):
                sub = Subscription(fn.name, fn.app, i, trig.kind, trig.config)
                self._delivery[(fn.name, i)] = _settings(trig.config)
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
                    declared = app_tables(str(fn.spec.code_dir)).schemas.get(trig.table.name)
                    if declared is not None:
                        self.table_schemas[(fn.app, trig.table.name)] = declared
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

    def has_function(self, app: str, function: str) -> bool:
        """Whether ``function`` is a live function of ``app``."""
        fn = self._by_function.get(function)
        return fn is not None and fn.app == app

    def all_functions(self) -> set[str]:
        """Every live function: each may receive queued asynchronous invocations."""
        return set(self._by_function)

    def has_topic(self, app: str, topic: str) -> bool:
        """Whether some live function of ``app`` has a topic trigger on ``topic``."""
        return bool(self.topics.get((app, topic)))

    def delivery(self, function: str, index: int | None) -> DeliverySettings:
        if index is None:
            return DeliverySettings()
        return self._delivery.get((function, index), DeliverySettings())

    def largest_batch(self, function: str) -> int:
        """The largest ``batch_size`` among ``function``'s triggers (1 without any)."""
        sizes = [d.batch_size for (fn, _), d in self._delivery.items() if fn == function]
        return max(sizes, default=1)

    def validator(self, function: str, index: int | None) -> Validator | None:
        """The schema a trigger's messages must match, or None if it declares none."""
        if index is None:
            return None
        return self._validators.get((function, index))

    # -- producers ----------------------------------------------------------------------
    def topic_messages(
        self, app: str, topic: str, message: Any, extra: dict[str, Any] | None = None
    ) -> list[OutgoingMessage]:
        """One message per subscriber; the topic message itself is the SQS body.

        ``extra`` travels with each message: ``attributes`` (SQS message
        attributes, as a record's ``messageAttributes``), ``system`` (system
        attributes such as ``MessageGroupId``) and ``sns`` (what SNS adds:
        subject, topic ARN, for triggers with ``shape: sns``).
        """
        body_text = message if isinstance(message, str) else orjson.dumps(message).decode()
        out = []
        for sub in self.topics.get((app, topic), []):
            out.append(
                OutgoingMessage(
                    queue_for(sub.function),
                    encode_body(
                        "topic",
                        sub,
                        app,
                        sub.function,
                        topic,
                        body_text,
                        _topic_extra(sub, extra),
                        region=self.region,
                    ),
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
                region=self.region,
            )
            mid = uuid.uuid4().hex
            out.append(
                OutboxEntry(
                    0,
                    queue_for(sub.function),
                    encode_body(
                        "object", sub, app, sub.function, bucket, record, region=self.region
                    ),
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
            schema = self.table_schemas.get((app, table))
            record = (
                shapes.dynamodb_record(
                    event_name=event.upper(),
                    table=table,
                    key=key,
                    new_image=new,
                    old_image=old,
                    sequence_number=str(time.time_ns()),
                    app=app,
                    time=time.time(),
                    event_id=mid,
                    region=self.region,
                )
                if schema is None
                else table_streams.record(
                    schema,
                    event_name=event.upper(),
                    table=table,
                    key=key,
                    new=new,
                    old=old,
                    sequence_number=str(time.time_ns()),
                    app=app,
                    time=time.time(),
                    event_id=mid,
                    region=self.region,
                )
            )
            out.append(
                OutboxEntry(
                    0,
                    queue_for(sub.function),
                    encode_body("table", sub, app, sub.function, table, record, region=self.region),
                    {"kind": "table"},
                    mid,
                )
            )
        return out

    def schedule_message(self, sub: Subscription, tick: float) -> OutgoingMessage:
        mid = uuid.uuid4().hex
        event = shapes.scheduled_event(
            rule=f"{sub.function}-{sub.trigger_id}",
            app=sub.app,
            time=tick,
            event_id=mid,
            region=self.region,
        )
        return OutgoingMessage(
            queue_for(sub.function),
            encode_body(
                "schedule", sub, sub.app, sub.function, sub.trigger_id, event, region=self.region
            ),
            {"kind": "schedule"},
            mid,
        )

    def webhook_message(self, sub: Subscription, http_event: dict[str, Any]) -> OutgoingMessage:
        mid = uuid.uuid4().hex
        return OutgoingMessage(
            queue_for(sub.function),
            encode_body(
                "webhook",
                sub,
                sub.app,
                sub.function,
                sub.config.path,
                http_event,
                region=self.region,
            ),
            {"kind": "webhook"},
            mid,
        )


def _settings(cfg: Any) -> DeliverySettings:
    return DeliverySettings(
        getattr(cfg, "retries", 2),
        getattr(cfg, "backoff", 1.0),
        getattr(cfg, "dead_letter", None),
        getattr(cfg, "batch_size", 1),
        getattr(cfg, "batch_window", 0.0),
        getattr(cfg, "report_batch_item_failures", False),
        tuple(compile_pattern(p) for p in getattr(cfg, "filters", ())),
    )


def record_for_delivery(body: dict[str, Any], message_id: str, attempt: int) -> dict[str, Any]:
    """The one record a queued topic or table message contributes to a batch event."""
    if body["kind"] == "topic":
        return _topic_record(body, message_id, attempt)
    if body["kind"] == "table":
        record = body["data"]
        if not isinstance(record, dict):
            raise TypeError("a table change is a record")
        return record
    raise ValueError(f"{body['kind']} messages are not batched")


def _topic_extra(sub: Subscription, extra: dict[str, Any] | None) -> dict[str, Any] | None:
    if getattr(sub.config, "shape", "sqs") != "sns":
        return extra
    return {**(extra or {}), "shape": "sns"}


def _topic_record(body: dict[str, Any], message_id: str, attempt: int) -> dict[str, Any]:
    region = str(body.get("region") or shapes.DEFAULT_REGION)
    if body.get("shape") == "sns":
        sns = body.get("sns") if isinstance(body.get("sns"), dict) else {}
        attrs = sns.get("MessageAttributes")
        if not isinstance(attrs, dict):  # published by SQS or context.publish: convert
            attrs = {
                name: {
                    "Type": a.get("dataType"),
                    "Value": a.get("stringValue", a.get("binaryValue")),
                }
                for name, a in (body.get("attributes") or {}).items()
                if isinstance(a, dict)
            }
        return shapes.sns_record(
            message_id=message_id,
            message=body["data"],
            topic_arn=str(
                sns.get("TopicArn") or shapes.sns_topic_arn(body["app"], body["source"], region)
            ),
            sent_at=body["sent_at"],
            subject=sns.get("Subject"),
            message_attributes=attrs,
        )
    attrs = body.get("attributes")
    system = body.get("system")
    return shapes.sqs_record(
        message_id=message_id,
        body=body["data"],
        topic=body["source"],
        app=body["app"],
        attempt=attempt,
        sent_at=body["sent_at"],
        attributes=system if isinstance(system, dict) else None,
        message_attributes=attrs if isinstance(attrs, dict) else None,
        region=region,
    )


def batch_event(kind: str, records: list[dict[str, Any]]) -> dict[str, Any]:
    """Several records of one trigger in the envelope of its AWS service."""
    return shapes.sqs_event(records) if kind == "topic" else shapes.dynamodb_event(records)


def record_ids(kind: str, record: dict[str, Any]) -> list[str]:
    """What a ``batchItemFailures`` entry may name this record by.

    SQS records go by ``messageId``; stream records by the ``SequenceNumber``
    Lambda and Powertools report, or by their ``eventID``.
    """
    if kind == "topic":
        return [record["messageId"] if "messageId" in record else record["Sns"]["MessageId"]]
    seq = record.get("dynamodb", {}).get("SequenceNumber")
    return [str(x) for x in (record.get("eventID"), seq) if x is not None]


def filter_envelope(kind: str, record: dict[str, Any]) -> dict[str, Any]:
    """The record as event source mappings filter it.

    A topic message whose body is JSON is matched as an object under
    ``body`` (other bodies as the plain string); a table change is matched
    as the stream record, typed images under ``dynamodb``.
    """
    if kind != "topic" or "body" not in record:  # SNS-shaped records are matched as they are
        return record
    try:
        parsed = orjson.loads(record["body"])
    except orjson.JSONDecodeError:
        return record
    return {**record, "body": parsed}


def event_for_delivery(body: dict[str, Any], message_id: str, attempt: int) -> dict[str, Any]:
    """The AWS-shaped event a handler receives for one queued message."""
    kind = body["kind"]
    data = body["data"]
    if kind == "topic":
        return shapes.sqs_event([_topic_record(body, message_id, attempt)])
    if kind == "object":
        return shapes.s3_event([data])
    if kind == "table":
        return shapes.dynamodb_event([data])
    # schedule and webhook events were shaped when they were accepted
    return data
