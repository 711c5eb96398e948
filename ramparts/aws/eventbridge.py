"""EventBridge ``PutEvents`` over Ramparts topics (awsJson 1.1, ``AWSEvents.PutEvents``).

An event bus is a topic: ``EventBusName`` (a name, ``default`` when absent,
or ``arn:aws:events:REGION:ACCOUNT:event-bus/NAME`` of the caller's own
account) names the topic the event is published to, as the JSON of the
event EventBridge would deliver (``version, id, detail-type, source,
account, time, region, resources, detail``).  A topic trigger on that name
receives it as the body of an SQS record (like a rule whose target is an SQS
queue).  There are no rules or patterns: use the trigger's ``filters`` on
``body.detail-type``, ``body.source``...

Each entry succeeds or fails on its own (``FailedEntryCount``, per-entry
``ErrorCode``); refusal by the role, or a bus ARN of another account, refuses
the whole call with ``AccessDeniedException`` as IAM does.
"""

from __future__ import annotations

import time
import uuid
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import orjson

from ramparts.aws import messaging
from ramparts.aws.protocols import JSON_11, error_response, json_answer
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.errors import AccessDenied, InvalidRequest
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

MAX_ENTRIES = 10
MAX_REQUEST_BYTES = 256 * 1024
_PREFIX = "com.amazonaws.events"


def bus_arn(caller: Caller, bus: str) -> str:
    return f"arn:aws:events:{caller.region}:{caller.account}:event-bus/{bus}"


class EventBridge:
    name = "events"
    protocol = "json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            return await self._handle(request, broker)
        except AwsError as err:
            response = error_response("json", err, request.request_id, json_prefix=_PREFIX)
            response.headers = [
                (k, JSON_11 if k == "content-type" else v)
                for k, v in response.headers
                if k != "x-amzn-query-error"
            ]
            return response

    async def _handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        op = request.header("x-amz-target").partition("AWSEvents.")[2]
        if op != "PutEvents":
            raise AwsError(
                "UnsupportedOperation",
                f"EventBridge operation {op[:64] or '(none)'} is not supported by Ramparts",
            )
        try:
            params = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError:
            raise AwsError("SerializationException", "The request body is not JSON.") from None
        entries = params.get("Entries") if isinstance(params, dict) else None
        if not isinstance(entries, list) or not 1 <= len(entries) <= MAX_ENTRIES:
            raise AwsError(
                "ValidationException",
                "1 validation error detected: Value at 'entries' failed to satisfy constraint: "
                f"Member must have length between 1 and {MAX_ENTRIES}",
            )
        if len(request.body) > MAX_REQUEST_BYTES:
            raise AwsError("ValidationException", "Total size of the entries exceeds 256 KiB.")
        caller = request.caller
        buses = [self._bus(caller, e) for e in entries]
        for bus in sorted({b for b in buses if b is not None}):
            spec = caller.spec
            try:
                broker.authorize(
                    spec, request.request_id, "topics:Publish", resource_arn(spec.app, "topic", bus)
                )
            except AccessDenied:
                raise AwsError(
                    "AccessDeniedException",
                    f"User: {spec.function} is not authorized to perform: events:PutEvents on "
                    f"resource: {bus_arn(caller, bus)}",
                ) from None
        out = []
        for entry, bus in zip(entries, buses, strict=True):
            out.append(await _put(broker, caller, entry, bus))
        failed = sum(1 for e in out if "ErrorCode" in e)
        return json_answer(
            {"FailedEntryCount": failed, "Entries": out},
            request.request_id,
            content_type=JSON_11,
        )

    def _bus(self, caller: Caller, entry: Any) -> str | None:
        """The bus an entry names (``None`` when the entry is not a structure)."""
        if not isinstance(entry, dict):
            return None
        name = entry.get("EventBusName") or "default"
        if not isinstance(name, str):
            raise AwsError("ValidationException", "EventBusName must be a string.")
        if name.startswith("arn:"):
            region, account, resource = messaging.parse_arn(name, "events", "ValidationException")
            messaging.check_region(caller, region, "AccessDeniedException")
            messaging.check_account(caller, account, "the event bus", "AccessDeniedException")
            if not resource.startswith("event-bus/"):
                raise AwsError("ValidationException", "EventBusName is not an event bus ARN.")
            name = resource.removeprefix("event-bus/")
        return messaging.check_name(name, "event bus", "ValidationException")


def _failure(code: str, message: str) -> dict[str, str]:
    return {"ErrorCode": code, "ErrorMessage": message}


async def _put(broker: Broker, caller: Caller, entry: Any, bus: str | None) -> dict[str, str]:
    if not isinstance(entry, dict) or bus is None:
        return _failure("InvalidArgument", "An entry must be a structure.")
    for field in ("Source", "DetailType", "Detail"):
        if not isinstance(entry.get(field), str) or not entry[field]:
            return _failure(
                "InvalidArgument",
                f"Parameter {field} is not valid. Reason: {field} is a required argument.",
            )
    try:
        detail = orjson.loads(entry["Detail"])
    except orjson.JSONDecodeError:
        return _failure("MalformedDetail", "Detail is malformed.")
    if not isinstance(detail, dict):
        return _failure("MalformedDetail", "Detail is malformed.")
    resources = entry.get("Resources") or []
    if not isinstance(resources, list) or not all(isinstance(r, str) for r in resources):
        return _failure("InvalidArgument", "Parameter Resources is not valid.")
    when = entry.get("Time")
    if not isinstance(when, int | float) or isinstance(when, bool):
        when = time.time()  # botocore sends Time as epoch seconds
    if not broker.topic_exists(caller.spec.app, bus):
        return _failure("ResourceNotFoundException", f"Event bus {bus} does not exist.")
    event_id = str(uuid.uuid4())
    event = {
        "version": "0",
        "id": event_id,
        "detail-type": entry["DetailType"],
        "source": entry["Source"],
        "account": caller.account,
        "time": datetime.fromtimestamp(when, UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "region": caller.region,
        "resources": resources,
        "detail": detail,
    }
    try:
        ids = await broker.publish(caller.spec.app, bus, event)
    except InvalidRequest as exc:
        return _failure("InvalidArgument", exc.message)
    if not ids:
        return _failure("ResourceNotFoundException", f"Event bus {bus} does not exist.")
    return {"EventId": event_id}
