"""SNS ``Publish`` (and ``PublishBatch``) over Ramparts topics, in the query protocol.

``arn:aws:sns:REGION:ACCOUNT:TOPIC`` names the topic ``TOPIC`` of the
caller's own app (another account or region is refused with
``AuthorizationError``); the topic exists while some live function of the
app has a topic trigger on it, otherwise ``NotFound`` (nothing is accepted
and lost).  Each subscribed trigger receives the message: by default as an
SQS record whose body is the message itself (like an SNS subscription with
raw message delivery), or, for a trigger with ``shape: sns``, as the SNS
record Lambda receives (``Records[].Sns``).

``MessageStructure=json`` picks the ``default`` (or ``lambda``/``sqs``)
entry of the JSON message, as SNS does for those protocols.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl

import orjson

from ramparts.aws import messaging
from ramparts.aws.protocols import XML, query_answer, xml_escape
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.errors import AccessDenied, InvalidRequest
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

XMLNS = "http://sns.amazonaws.com/doc/2010-03-31/"
MAX_MESSAGE_BYTES = 256 * 1024
MAX_BATCH = 10
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
_STATUS = {"AuthorizationError": 403, "NotFound": 404}


def topic_arn(caller: Caller, topic: str) -> str:
    return f"arn:aws:sns:{caller.region}:{caller.account}:{topic}"


class SNS:
    name = "sns"
    protocol = "query"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        try:
            return await self._handle(request, broker)
        except AwsError as err:
            return error(err, request.request_id)

    async def _handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        params = dict(request.query)
        try:
            params.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise AwsError("InvalidParameter", "The request body is not form data.") from None
        action = params.get("Action", "")
        if action == "Publish":
            result = await self._publish(request, broker, params)
        elif action == "PublishBatch":
            result = await self._publish_batch(request, broker, params)
        else:
            raise AwsError(
                "InvalidAction",
                f"SNS operation {action[:64] or '(none)'} is not supported by Ramparts",
            )
        return query_answer(action, result, request.request_id, XMLNS)

    async def _publish(
        self, request: AwsRequest, broker: Broker, params: dict[str, str]
    ) -> dict[str, Any]:
        if params.get("PhoneNumber"):
            raise AwsError("InvalidParameter", "Invalid parameter: SMS is not supported")
        arn = params.get("TopicArn") or params.get("TargetArn")
        if not arn:
            raise AwsError(
                "InvalidParameter",
                "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter",
            )
        topic = self._topic(request, broker, arn)
        entry = _entry(params, "", topic)
        return await _send(broker, request.caller, topic, entry)

    async def _publish_batch(
        self, request: AwsRequest, broker: Broker, params: dict[str, str]
    ) -> dict[str, Any]:
        arn = params.get("TopicArn")
        if not arn:
            raise AwsError("InvalidParameter", "Invalid parameter: TopicArn")
        prefix = "PublishBatchRequestEntries.member."
        indexes = sorted(
            {
                int(k[len(prefix) :].split(".", 1)[0])
                for k in params
                if k.startswith(prefix) and k[len(prefix) :].split(".", 1)[0].isdigit()
            }
        )
        if not indexes:
            raise AwsError("EmptyBatchRequest", "The batch request doesn't contain any entries.")
        if len(indexes) > MAX_BATCH:
            raise AwsError(
                "TooManyEntriesInBatchRequest",
                "The batch request contains more entries than permissible.",
            )
        ids = [params.get(f"{prefix}{i}.Id", "") for i in indexes]
        if not all(_BATCH_ID.match(i) for i in ids):
            raise AwsError(
                "InvalidBatchEntryId",
                "The Id of a batch entry in a batch request doesn't abide by the specification.",
            )
        if len(set(ids)) != len(ids):
            raise AwsError(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            )
        topic = self._topic(request, broker, arn)
        successful, failed = [], []
        for i, entry_id in zip(indexes, ids, strict=True):
            try:
                entry = _entry(params, f"{prefix}{i}.", topic)
                result = await _send(broker, request.caller, topic, entry)
            except AwsError as err:
                failed.append(
                    {"Id": entry_id, "Code": err.code, "Message": err.message, "SenderFault": True}
                )
                continue
            successful.append({"Id": entry_id, **result})
        return {
            "Successful": [{"member": successful}] if successful else [],
            "Failed": [{"member": failed}] if failed else [],
        }

    def _topic(self, request: AwsRequest, broker: Broker, arn: str) -> str:
        caller = request.caller
        region, account, topic = messaging.parse_arn(arn, "sns", "InvalidParameter")
        if ":" in topic:  # a subscription or endpoint ARN
            raise AwsError("InvalidParameter", "Invalid parameter: TopicArn")
        messaging.check_region(caller, region, "AuthorizationError")
        messaging.check_account(caller, account, "the topic", "AuthorizationError")
        messaging.check_name(topic, "topic", "NotFound")
        spec = caller.spec
        try:
            broker.authorize(
                spec, request.request_id, "topics:Publish", resource_arn(spec.app, "topic", topic)
            )
        except AccessDenied:
            raise AwsError(
                "AuthorizationError",
                f"User: {spec.function} is not authorized to perform: SNS:Publish on resource: "
                f"{topic_arn(caller, topic)}",
            ) from None
        if not broker.topic_exists(spec.app, topic):
            raise AwsError("NotFound", "Topic does not exist")
        return topic


def _entry(params: dict[str, str], prefix: str, topic: str) -> dict[str, Any]:
    message = params.get(prefix + "Message")
    if not message:
        raise AwsError("InvalidParameter", "Invalid parameter: Message Reason: Empty message")
    if len(message.encode()) > MAX_MESSAGE_BYTES:
        raise AwsError("InvalidParameter", "Invalid parameter: Message too long")
    if params.get(prefix + "MessageStructure"):
        if params[prefix + "MessageStructure"] != "json":
            raise AwsError("InvalidParameter", "Invalid parameter: MessageStructure")
        try:
            structured = orjson.loads(message)
        except orjson.JSONDecodeError:
            raise AwsError(
                "InvalidParameter",
                "Invalid parameter: Message Structure - JSON message body failed to parse",
            ) from None
        if not isinstance(structured, dict) or not isinstance(structured.get("default"), str):
            raise AwsError(
                "InvalidParameter",
                "Invalid parameter: Message Structure - No default entry in JSON message body",
            )
        picked = structured.get("lambda", structured.get("sqs", structured["default"]))
        message = picked if isinstance(picked, str) else structured["default"]
    subject = params.get(prefix + "Subject")
    if subject is not None and (not subject or len(subject) > 100 or not subject.isprintable()):
        raise AwsError("InvalidParameter", "Invalid parameter: Subject")
    raw: dict[str, dict[str, str]] = {}
    attr_prefix = prefix + "MessageAttributes.entry."
    for key, value in params.items():
        if not key.startswith(attr_prefix):
            continue
        index, _, field = key[len(attr_prefix) :].partition(".")
        raw.setdefault(index, {})[field] = value
    attrs: dict[str, Any] = {}
    for fields in raw.values():
        name = fields.get("Name", "")
        attrs[name] = {
            k.removeprefix("Value."): v for k, v in fields.items() if k.startswith("Value.")
        }
    attributes = messaging.parse_attributes(attrs or None, error="InvalidParameterValue")
    system: dict[str, str] = {}
    for field in ("MessageGroupId", "MessageDeduplicationId"):
        if params.get(prefix + field):
            if not topic.endswith(".fifo"):
                raise AwsError(
                    "InvalidParameter",
                    f"Invalid parameter: {field} Reason: not valid for this topic type",
                )
            system[field] = params[prefix + field]
    return {"message": message, "subject": subject, "attributes": attributes, "system": system}


async def _send(
    broker: Broker, caller: Caller, topic: str, entry: dict[str, Any]
) -> dict[str, Any]:
    attributes: list[messaging.Attribute] = entry["attributes"]
    extra: dict[str, Any] = {
        "attributes": {a.name: a.record() for a in attributes},
        "sns": {
            "TopicArn": topic_arn(caller, topic),
            "Subject": entry["subject"],
            "MessageAttributes": {a.name: a.sns() for a in attributes},
        },
    }
    if entry["system"]:
        extra["system"] = entry["system"]
    try:
        ids = await broker.publish(caller.spec.app, topic, entry["message"], extra)
    except InvalidRequest as exc:
        raise AwsError("InvalidParameter", f"Invalid parameter: {exc.message}") from None
    if not ids:
        raise AwsError("NotFound", "Topic does not exist")
    return {"MessageId": ids[0]}


def error(err: AwsError, request_id: str) -> AwsResponse:
    """An SNS error: ``<ErrorResponse><Error><Code>`` with SNS's status codes."""
    status = _STATUS.get(err.code, err.status)
    body = (
        f'<ErrorResponse xmlns="{XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{xml_escape(err.code)}</Code><Message>{xml_escape(err.message)}</Message>"
        f"</Error><RequestId>{xml_escape(request_id)}</RequestId></ErrorResponse>"
    )
    return AwsResponse(
        status, [("content-type", XML), ("x-amzn-requestid", request_id)], body.encode()
    )
