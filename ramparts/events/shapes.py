"""AWS-shaped events for the non-HTTP triggers.

The dispatcher hands each handler the event Lambda would get from the
matching AWS service, so handler code moves between Ramparts and Lambda
unchanged:

* topic deliveries          -> SQS message event          (``sqs_event``)
* object store changes      -> S3 event notification      (``s3_event``)
* table changes             -> DynamoDB Streams records   (``dynamodb_event``)
* cron schedules            -> EventBridge scheduled event (``scheduled_event``)

Shapes, key names and value types follow AWS's documented example events;
only the values are ours: the region is the node's (``ramparts up --region``,
``us-east-1`` by default, the same ``AWS_REGION`` workers see), the account
is the app, and ARNs read ``arn:ramparts:<service>:<region>:<app>:<resource>``.
Everything here is pure and deterministic (no clock, no randomness) so the
same delivery always produces the same event.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import hashlib
import math
import re
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote_plus

from ramparts.aws.accounts import account_id
from ramparts.errors import InvalidRequest

__all__ = [
    "dynamodb_event",
    "dynamodb_record",
    "from_dynamodb_item",
    "from_dynamodb_json",
    "s3_event",
    "s3_record",
    "scheduled_event",
    "sns_record",
    "sqs_event",
    "sqs_record",
    "to_dynamodb_item",
    "to_dynamodb_json",
]

DEFAULT_REGION = "us-east-1"  # the node default (ramparts.runtime.environment)
_BAD_VALUE = "invalid_dynamodb_value"

# DynamoDB's number syntax; Python's int()/float() also accept "1_000", "nan"...
_INTEGER = re.compile(r"[+-]?[0-9]+")
_DECIMAL = re.compile(r"[+-]?(?:[0-9]+\.?[0-9]*|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")

S3EventName = Literal["ObjectCreated:Put", "ObjectRemoved:Delete"]
DynamoDBEventName = Literal["INSERT", "MODIFY", "REMOVE"]


def _arn(service: str, app: str, resource: str, region: str) -> str:
    """An AWS ARN in the app's account, the form boto3 callers and SAM imports use."""
    if service == "s3":  # bucket ARNs name neither region nor account
        return f"arn:aws:s3:::{resource}"
    return f"arn:aws:{service}:{region}:{account_id(app)}:{resource}"


def _iso_millis(when: float) -> str:
    """``2019-03-01T01:23:45.678Z`` (S3's ``eventTime``)."""
    t = datetime.fromtimestamp(when, UTC)
    return f"{t:%Y-%m-%dT%H:%M:%S}.{t.microsecond // 1000:03d}Z"


def _iso_seconds(when: float) -> str:
    """``2019-03-01T01:23:45Z`` (EventBridge's ``time``)."""
    return f"{datetime.fromtimestamp(when, UTC):%Y-%m-%dT%H:%M:%SZ}"


# --- SQS ---------------------------------------------------------------------


def sqs_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap records from ``sqs_record`` in the SQS event envelope."""
    return {"Records": list(records)}


def sqs_record(
    *,
    message_id: str,
    body: str,
    topic: str,
    app: str,
    attempt: int,
    sent_at: float,
    attributes: Mapping[str, str] | None = None,
    first_received_at: float | None = None,
    sender_id: str | None = None,
    message_attributes: Mapping[str, Any] | None = None,
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """One SQS message record for a topic delivery.

    ``attempt`` (1 on first delivery) becomes ``ApproximateReceiveCount``,
    which handlers use to detect redeliveries.  ``attributes`` adds or
    overrides system attributes (e.g. ``MessageGroupId``).  The receipt
    handle is derived from the message and attempt: it is opaque to
    handlers and differs per delivery, as SQS's does.
    """
    first = sent_at if first_received_at is None else first_received_at
    attrs = {
        "ApproximateReceiveCount": str(attempt),
        "SentTimestamp": str(round(sent_at * 1000)),
        "SenderId": sender_id or app,
        "ApproximateFirstReceiveTimestamp": str(round(first * 1000)),
    }
    if attributes:
        attrs.update(attributes)
    receipt = base64.b64encode(f"{app}:{topic}:{message_id}:{attempt}".encode()).decode("ascii")
    return {
        "messageId": message_id,
        "receiptHandle": receipt,
        "body": body,
        "attributes": attrs,
        "messageAttributes": dict(message_attributes or {}),
        "md5OfBody": hashlib.md5(body.encode("utf-8"), usedforsecurity=False).hexdigest(),
        "eventSource": "aws:sqs",
        "eventSourceARN": _arn("sqs", app, topic, region),
        "awsRegion": region,
    }


# --- SNS ---------------------------------------------------------------------


def sns_topic_arn(app: str, topic: str, region: str = DEFAULT_REGION) -> str:
    return _arn("sns", app, topic, region)


def sns_record(
    *,
    message_id: str,
    message: str,
    topic_arn: str,
    sent_at: float,
    subject: str | None = None,
    message_attributes: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """One record of the event Lambda receives from an SNS subscription.

    The notification is not signed (``Signature`` and the certificate and
    unsubscribe URLs are empty): Ramparts is not SNS and has no key SNS
    clients would trust.
    """
    return {
        "EventVersion": "1.0",
        "EventSubscriptionArn": f"{topic_arn}:{message_id}",
        "EventSource": "aws:sns",
        "Sns": {
            "Type": "Notification",
            "MessageId": message_id,
            "TopicArn": topic_arn,
            "Subject": subject,
            "Message": message,
            "Timestamp": _iso_millis(sent_at),
            "SignatureVersion": "1",
            "Signature": "",
            "SigningCertUrl": "",
            "UnsubscribeUrl": "",
            "MessageAttributes": dict(message_attributes or {}),
        },
    }


# --- S3 ----------------------------------------------------------------------


def s3_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap records from ``s3_record`` in the S3 notification envelope."""
    return {"Records": list(records)}


def s3_record(
    *,
    event_name: S3EventName,
    bucket: str,
    key: str,
    size: int | None,
    etag: str | None,
    sequencer: str,
    app: str,
    time: float,
    request_id: str,
    source_ip: str = "127.0.0.1",
    principal_id: str | None = None,
    configuration_id: str = "ramparts",
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """One S3 event notification record (event structure version 2.1).

    The object key is URL-encoded as S3 does (``"red flower.jpg"`` becomes
    ``"red+flower.jpg"``), so handlers written for S3 that call
    ``unquote_plus`` get the real key back.  Removal events carry no size
    or ETag, as S3's ``ObjectRemoved:Delete`` notifications do not.
    """
    if not event_name.startswith(("ObjectCreated:", "ObjectRemoved:")):
        raise InvalidRequest(f"unknown S3 event name {event_name!r}", code="invalid_event_name")
    principal = principal_id or app
    obj: dict[str, Any] = {"key": quote_plus(key, safe="/")}
    if event_name.startswith("ObjectCreated:"):
        if size is None or etag is None:
            raise InvalidRequest("created objects need a size and an ETag", code="invalid_event")
        obj["size"] = size
        obj["eTag"] = etag
    obj["sequencer"] = sequencer
    return {
        "eventVersion": "2.1",
        "eventSource": "aws:s3",
        "awsRegion": region,
        "eventTime": _iso_millis(time),
        "eventName": event_name,
        "userIdentity": {"principalId": principal},
        "requestParameters": {"sourceIPAddress": source_ip},
        "responseElements": {"x-amz-request-id": request_id, "x-amz-id-2": "ramparts"},
        "s3": {
            "s3SchemaVersion": "1.0",
            "configurationId": configuration_id,
            "bucket": {
                "name": bucket,
                "ownerIdentity": {"principalId": app},
                "arn": _arn("s3", app, bucket, region),
            },
            "object": obj,
        },
    }


# --- DynamoDB Streams ----------------------------------------------------------


def dynamodb_event(records: list[dict[str, Any]]) -> dict[str, Any]:
    """Wrap records from ``dynamodb_record`` in the stream event envelope."""
    return {"Records": list(records)}


def dynamodb_record(
    *,
    event_name: DynamoDBEventName,
    table: str,
    key: str,
    new_image: Mapping[str, Any] | None,
    old_image: Mapping[str, Any] | None,
    sequence_number: str,
    app: str,
    time: float,
    event_id: str,
    key_attribute: str = "key",
    stream_label: str = "1970-01-01T00:00:00.000",
    region: str = DEFAULT_REGION,
) -> dict[str, Any]:
    """One DynamoDB Streams record (view type ``NEW_AND_OLD_IMAGES``).

    Images are plain Python values, converted to DynamoDB's typed JSON; the
    key attribute is added to an image that lacks it, because DynamoDB
    images always contain the primary key.  ``INSERT`` has only a new
    image, ``REMOVE`` only an old one, ``MODIFY`` both, exactly as a stream
    delivers them; anything else is refused rather than guessed at.
    ``SizeBytes`` follows DynamoDB's item-size rules, which reproduce the
    sizes in AWS's example events.
    """
    expected = {"INSERT": (True, False), "MODIFY": (True, True), "REMOVE": (False, True)}
    if event_name not in expected:
        raise InvalidRequest(f"unknown stream event {event_name!r}", code="invalid_event_name")
    if expected[event_name] != (new_image is not None, old_image is not None):
        raise InvalidRequest(
            f"{event_name} records need exactly the images a stream would carry",
            code="invalid_event",
        )
    keys = {key_attribute: {"S": key}}
    stream: dict[str, Any] = {
        # AWS: epoch seconds, rounded down to the second, sent as a number.
        "ApproximateCreationDateTime": float(math.floor(time)),
        "Keys": keys,
    }
    size = _item_size(keys)
    for field, image in (("NewImage", new_image), ("OldImage", old_image)):
        if image is not None:
            typed = to_dynamodb_item({key_attribute: key, **image})
            stream[field] = typed
            size += _item_size(typed)
    stream["SequenceNumber"] = sequence_number
    stream["SizeBytes"] = size
    stream["StreamViewType"] = "NEW_AND_OLD_IMAGES"
    return {
        "eventID": event_id,
        "eventName": event_name,
        "eventVersion": "1.1",
        "eventSource": "aws:dynamodb",
        "awsRegion": region,
        "dynamodb": stream,
        "eventSourceARN": _arn("dynamodb", app, f"table/{table}/stream/{stream_label}", region),
    }


def to_dynamodb_json(value: Any) -> dict[str, Any]:
    """Convert a Python value to a DynamoDB ``AttributeValue``.

    ``str`` -> S, ``int``/``float``/``Decimal`` -> N (as a string), ``bool``
    -> BOOL, ``None`` -> NULL, ``bytes`` -> B (base64), ``dict`` -> M,
    ``list``/``tuple`` -> L, non-empty ``set`` of str/number/bytes ->
    SS/NS/BS.  NaN, infinities and empty sets are refused, as DynamoDB
    refuses them.
    """
    if value is None:
        return {"NULL": True}
    if isinstance(value, bool):  # before int: bool is an int subclass
        return {"BOOL": value}
    if isinstance(value, str):
        return {"S": value}
    if isinstance(value, int | float | decimal.Decimal):
        return {"N": _number(value)}
    if isinstance(value, bytes | bytearray | memoryview):
        return {"B": base64.b64encode(bytes(value)).decode("ascii")}
    if isinstance(value, Mapping):
        if not all(isinstance(k, str) for k in value):
            raise InvalidRequest("map keys must be strings", code=_BAD_VALUE)
        return {"M": {k: to_dynamodb_json(v) for k, v in value.items()}}
    if isinstance(value, list | tuple):
        return {"L": [to_dynamodb_json(v) for v in value]}
    if isinstance(value, set | frozenset):
        return _set(value)
    raise InvalidRequest(f"{type(value).__name__} has no DynamoDB type", code=_BAD_VALUE)


def from_dynamodb_json(value: Mapping[str, Any]) -> Any:
    """Convert a DynamoDB ``AttributeValue`` back to a Python value.

    N becomes ``int`` when it is written as an integer and ``float``
    otherwise; B and BS become ``bytes``; SS/NS/BS become sets.
    """
    if not isinstance(value, Mapping) or len(value) != 1:
        raise InvalidRequest("an AttributeValue has exactly one type", code=_BAD_VALUE)
    ((kind, inner),) = value.items()
    try:
        if kind == "S":
            return str(inner)
        if kind == "N":
            return _parse_number(inner)
        if kind == "BOOL":
            return bool(inner)
        if kind == "NULL":
            return None
        if kind == "B":
            return base64.b64decode(inner, validate=True)
        if kind == "M":
            return {k: from_dynamodb_json(v) for k, v in inner.items()}
        if kind == "L":
            return [from_dynamodb_json(v) for v in inner]
        if kind == "SS":
            return {str(v) for v in inner}
        if kind == "NS":
            return {_parse_number(v) for v in inner}
        if kind == "BS":
            return {base64.b64decode(v, validate=True) for v in inner}
    except (binascii.Error, ValueError, TypeError, AttributeError) as exc:
        raise InvalidRequest(f"malformed {kind} value", code=_BAD_VALUE) from exc
    raise InvalidRequest(f"unknown DynamoDB type {kind!r}", code=_BAD_VALUE)


def to_dynamodb_item(item: Mapping[str, Any]) -> dict[str, dict[str, Any]]:
    """Convert a whole item (attribute name -> Python value) to typed JSON."""
    return {name: to_dynamodb_json(v) for name, v in item.items()}


def from_dynamodb_item(item: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Convert a typed item (``Keys``, ``NewImage``...) back to Python values."""
    return {name: from_dynamodb_json(v) for name, v in item.items()}


def _number(value: int | float | decimal.Decimal) -> str:
    if isinstance(value, int):
        return str(value)
    if isinstance(value, float):
        if not math.isfinite(value):
            raise InvalidRequest("numbers must be finite", code=_BAD_VALUE)
        return repr(value)
    if not value.is_finite():
        raise InvalidRequest("numbers must be finite", code=_BAD_VALUE)
    return str(value)


def _parse_number(text: str) -> int | float:
    if not isinstance(text, str):
        raise TypeError("N values are strings")
    if _INTEGER.fullmatch(text):
        return int(text)
    if not _DECIMAL.fullmatch(text):
        raise ValueError("not a DynamoDB number")
    return float(text)


def _set(values: set[Any] | frozenset[Any]) -> dict[str, list[Any]]:
    if not values:
        raise InvalidRequest("DynamoDB sets cannot be empty", code=_BAD_VALUE)
    if all(isinstance(v, str) for v in values):
        return {"SS": sorted(values)}
    if all(_is_number(v) for v in values):
        return {"NS": sorted(_number(v) for v in values)}
    if all(isinstance(v, bytes) for v in values):
        return {"BS": sorted(base64.b64encode(v).decode("ascii") for v in values)}
    raise InvalidRequest("set members must all be strings, numbers or bytes", code=_BAD_VALUE)


def _is_number(value: object) -> bool:
    return isinstance(value, int | float | decimal.Decimal) and not isinstance(value, bool)


def _item_size(item: Mapping[str, Mapping[str, Any]]) -> int:
    """An item's size by DynamoDB's rules: each attribute's name plus value."""
    return sum(len(name.encode("utf-8")) + _value_size(v) for name, v in item.items())


def _value_size(value: Mapping[str, Any]) -> int:
    ((kind, inner),) = value.items()
    if kind == "S":
        return len(inner.encode("utf-8"))
    if kind == "N":
        return _number_size(inner)
    if kind == "B":
        return len(base64.b64decode(inner))
    if kind in ("BOOL", "NULL"):
        return 1
    if kind == "SS":
        return sum(len(v.encode("utf-8")) for v in inner)
    if kind == "NS":
        return sum(_number_size(v) for v in inner)
    if kind == "BS":
        return sum(len(base64.b64decode(v)) for v in inner)
    if kind == "M":
        # 3 bytes for the map, 1 per element, plus each element's name and value.
        return 3 + sum(1 + len(k.encode("utf-8")) + _value_size(v) for k, v in inner.items())
    # L
    return 3 + sum(1 + _value_size(v) for v in inner)


def _number_size(text: str) -> int:
    """1 byte per two significant digits, plus 1 (DynamoDB's number size)."""
    mantissa = text.strip().lstrip("+-").lower().split("e", 1)[0]
    digits = mantissa.replace(".", "").strip("0")
    return (len(digits) + 1) // 2 + 1


# --- EventBridge -----------------------------------------------------------------


def scheduled_event(
    *, rule: str, app: str, time: float, event_id: str, region: str = DEFAULT_REGION
) -> dict[str, Any]:
    """The EventBridge ``Scheduled Event`` a cron/rate rule delivers.

    ``time`` is when the schedule fired (whole seconds, UTC, as EventBridge
    writes it); ``resources`` holds the rule's ARN so one handler can serve
    several schedules.
    """
    return {
        "version": "0",
        "id": event_id,
        "detail-type": "Scheduled Event",
        "source": "aws.events",
        "account": account_id(app),
        "time": _iso_seconds(time),
        "region": region,
        "resources": [_arn("events", app, f"rule/{rule}", region)],
        "detail": {},
    }
