"""SQS over Ramparts topics: ``send_message`` from a handler reaches a topic trigger.

A queue *is* a topic: ``{endpoint}/{ACCOUNT}/{QUEUE}`` names the topic
``QUEUE`` of the caller's own app, and it exists while some live function of
that app has a topic trigger on it.  Sending to a queue nobody consumes is
refused with ``QueueDoesNotExist`` rather than accepted and lost (Ramparts
has no store for messages that no trigger will ever receive).  Receiving and
deleting are the platform's job (it delivers each message to the trigger's
handler as an SQS record and acks it when the handler returns), so
``ReceiveMessage``, ``DeleteMessage`` and the rest answer
``UnsupportedOperation``.

Speaks the awsJson 1.0 protocol botocore uses since 1.31.64
(``X-Amz-Target: AmazonSQS.SendMessage``) and the query protocol of older
botocore (form in, XML out), for the same four operations.  In JSON, SQS is
"query compatible": errors
carry the shape name in ``__type`` and the query-era code in
``x-amzn-query-error``, which is what botocore shows as the error code
(``AWS.SimpleQueueService.NonExistentQueue`` for ``QueueDoesNotExist``).
"""

from __future__ import annotations

import re
import uuid
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qsl, urlsplit

import orjson

from ramparts.aws import messaging
from ramparts.aws.protocols import JSON_10, XML, json_answer, query_answer, xml_escape
from ramparts.aws.service import AwsError, AwsRequest, AwsResponse, Caller
from ramparts.errors import AccessDenied, InvalidRequest
from ramparts.policy.document import resource_arn

if TYPE_CHECKING:
    from ramparts.broker import Broker

QUERY_XMLNS = "http://queue.amazonaws.com/doc/2012-11-05/"
MAX_BATCH = 10
MAX_MESSAGE_BYTES = 256 * 1024
_BATCH_ID = re.compile(r"^[A-Za-z0-9_-]{1,80}$")
# SQS accepts #x9 | #xA | #xD | #x20 to #xD7FF | #xE000 to #xFFFD | #x10000 to #x10FFFF.
_BAD_BODY_CHARS = re.compile("[^\t\n\r\x20-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")

# the shape name botocore picks the exception class by -> the code it reports
_QUERY_CODES = {
    "QueueDoesNotExist": "AWS.SimpleQueueService.NonExistentQueue",
    "BatchEntryIdsNotDistinct": "AWS.SimpleQueueService.BatchEntryIdsNotDistinct",
    "TooManyEntriesInBatchRequest": "AWS.SimpleQueueService.TooManyEntriesInBatchRequest",
    "EmptyBatchRequest": "AWS.SimpleQueueService.EmptyBatchRequest",
    "InvalidBatchEntryId": "AWS.SimpleQueueService.InvalidBatchEntryId",
    "UnsupportedOperation": "AWS.SimpleQueueService.UnsupportedOperation",
    "BatchRequestTooLong": "AWS.SimpleQueueService.BatchRequestTooLong",
    "AccessDeniedException": "AccessDenied",
}


Operation = Callable[["AwsRequest", "Broker", dict[str, Any]], Awaitable[dict[str, Any]]]


def queue_arn(caller: Caller, queue: str) -> str:
    return f"arn:aws:sqs:{caller.region}:{caller.account}:{queue}"


def queue_url(endpoint: str, caller: Caller, queue: str) -> str:
    return f"{endpoint.rstrip('/')}/{caller.account}/{queue}"


def queue_from_url(caller: Caller, url: Any) -> str:
    """The queue a ``QueueUrl`` names, refusing another app's account.

    Any host is accepted (the client may reach the node by another name than
    the one that built the URL); the path must be ``/ACCOUNT/QUEUE``.
    """
    if not isinstance(url, str) or not url:
        raise AwsError("MissingParameter", "The request must contain the parameter QueueUrl.")
    path = urlsplit(url).path if "://" in url else url
    parts = [p for p in path.split("/") if p]
    if len(parts) != 2 or not parts[0].isdigit():
        raise AwsError("QueueDoesNotExist", "The specified queue does not exist.")
    account, queue = parts
    messaging.check_account(caller, account, "the queue", "QueueDoesNotExist")
    return messaging.check_name(queue, "queue", "QueueDoesNotExist")


class SQS:
    name = "sqs"
    protocol = "json"

    async def handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        query = not request.header("x-amz-target")
        try:
            if query:
                return await self._handle_query(request, broker)
            return await self._handle(request, broker)
        except AwsError as err:
            return query_error(err, request.request_id) if query else error(err, request.request_id)

    def _operation(self, op: str) -> Operation:
        handler = {
            "SendMessage": self._send_message,
            "SendMessageBatch": self._send_message_batch,
            "GetQueueUrl": self._get_queue_url,
            "GetQueueAttributes": self._get_queue_attributes,
        }.get(op)
        if handler is None:
            raise AwsError(
                "UnsupportedOperation",
                f"SQS operation {op[:64] or '(none)'} is not supported by Ramparts: messages are "
                "delivered to the queue's topic trigger, not received by handlers",
            )
        return handler

    async def _handle(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        target = request.header("x-amz-target")
        if not target.startswith("AmazonSQS."):
            raise AwsError("UnsupportedOperation", "Unknown X-Amz-Target for SQS")
        handler = self._operation(target.partition(".")[2])
        try:
            params = orjson.loads(request.body or b"{}")
        except orjson.JSONDecodeError:
            raise AwsError("InvalidParameterValue", "The request body is not JSON.") from None
        if not isinstance(params, dict):
            raise AwsError("InvalidParameterValue", "The request body must be a JSON object.")
        return json_answer(await handler(request, broker, params), request.request_id)

    async def _handle_query(self, request: AwsRequest, broker: Broker) -> AwsResponse:
        """The query protocol of botocore before 1.31.64: form in, XML out."""
        form = dict(request.query)
        try:
            form.update(parse_qsl(request.body.decode(), keep_blank_values=True))
        except UnicodeDecodeError:
            raise AwsError("InvalidParameterValue", "The request body is not form data.") from None
        op = form.get("Action", "")
        handler = self._operation(op)
        result = await handler(request, broker, query_params(op, form))
        return query_answer(op, query_result(op, result), request.request_id, QUERY_XMLNS)

    # -- operations -----------------------------------------------------------------------------
    def _existing_queue(self, request: AwsRequest, broker: Broker, queue: str) -> None:
        """Authorize, then check that the queue exists (a consumer of the app has it).

        ``GetQueueUrl`` and ``GetQueueAttributes`` need the same ``topics:Publish``
        as sending (SAM's ``SQSSendMessagePolicy``, ``sqs:SendMessage*``, grants
        it): what a function may not send to, it need not know exists.
        """
        caller = request.caller
        authorize(broker, request, queue)
        if not broker.topic_exists(caller.spec.app, queue):
            raise AwsError("QueueDoesNotExist", "The specified queue does not exist.")

    async def _get_queue_url(
        self, request: AwsRequest, broker: Broker, params: dict[str, Any]
    ) -> dict[str, Any]:
        caller = request.caller
        name = params.get("QueueName")
        if not isinstance(name, str) or not name:
            raise AwsError("MissingParameter", "The request must contain the parameter QueueName.")
        owner = params.get("QueueOwnerAWSAccountId")
        if owner is not None:
            messaging.check_account(caller, str(owner), "the queue", "QueueDoesNotExist")
        messaging.check_name(name, "queue", "QueueDoesNotExist")
        self._existing_queue(request, broker, name)
        return {"QueueUrl": queue_url(request.endpoint, caller, name)}

    async def _get_queue_attributes(
        self, request: AwsRequest, broker: Broker, params: dict[str, Any]
    ) -> dict[str, Any]:
        caller = request.caller
        queue = queue_from_url(caller, params.get("QueueUrl"))
        self._existing_queue(request, broker, queue)
        names = params.get("AttributeNames") or ["QueueArn"]
        if not isinstance(names, list):
            raise AwsError("InvalidAttributeName", "AttributeNames must be a list.")
        known = {
            "QueueArn": queue_arn(caller, queue),
            "MaximumMessageSize": str(MAX_MESSAGE_BYTES),
            "DelaySeconds": "0",
            "FifoQueue": "true" if queue.endswith(".fifo") else None,
        }
        wanted = list(known) if "All" in names else names
        attrs = {}
        for name in wanted:
            if not isinstance(name, str) or name not in known and name != "All":
                raise AwsError("InvalidAttributeName", f"Unknown Attribute {str(name)[:64]}.")
            if known.get(name) is not None:
                attrs[name] = known[name]
        return {"Attributes": attrs}

    async def _send_message(
        self, request: AwsRequest, broker: Broker, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = queue_from_url(request.caller, params.get("QueueUrl"))
        entry = _entry(params, queue)
        self._existing_queue(request, broker, queue)
        return await _publish(broker, request.caller, queue, entry)

    async def _send_message_batch(
        self, request: AwsRequest, broker: Broker, params: dict[str, Any]
    ) -> dict[str, Any]:
        queue = queue_from_url(request.caller, params.get("QueueUrl"))
        entries = params.get("Entries")
        if not isinstance(entries, list) or not entries:
            raise AwsError(
                "EmptyBatchRequest",
                "There should be at least one SendMessageBatchRequestEntry in the request.",
            )
        if len(entries) > MAX_BATCH:
            raise AwsError(
                "TooManyEntriesInBatchRequest",
                f"Maximum number of entries per request are {MAX_BATCH}. "
                f"You have sent {len(entries)}.",
            )
        ids = [e.get("Id") if isinstance(e, dict) else None for e in entries]
        for entry_id in ids:
            if not isinstance(entry_id, str) or not _BATCH_ID.match(entry_id):
                raise AwsError(
                    "InvalidBatchEntryId",
                    "A batch entry id can only contain alphanumeric characters, hyphens and "
                    "underscores. It can be at most 80 letters long.",
                )
        if len(set(ids)) != len(ids):
            raise AwsError(
                "BatchEntryIdsNotDistinct",
                "Two or more batch entries in the request have the same Id.",
            )
        self._existing_queue(request, broker, queue)
        successful, failed = [], []
        total = 0
        for raw, entry_id in zip(entries, ids, strict=True):
            try:
                entry = _entry(raw, queue)
                total += len(entry["body"].encode())
                if total > MAX_MESSAGE_BYTES:
                    raise AwsError(
                        "BatchRequestTooLong",
                        f"Batch requests cannot be longer than {MAX_MESSAGE_BYTES} bytes.",
                    )
                result = await _publish(broker, request.caller, queue, entry)
            except AwsError as err:
                if err.code == "BatchRequestTooLong":
                    raise
                failed.append(
                    {
                        "Id": entry_id,
                        "SenderFault": True,
                        "Code": _QUERY_CODES.get(err.code, err.code),
                        "Message": err.message,
                    }
                )
                continue
            successful.append({"Id": entry_id, **result})
        return {"Successful": successful, "Failed": failed}


def authorize(broker: Broker, request: AwsRequest, queue: str) -> None:
    spec = request.caller.spec
    try:
        broker.authorize(
            spec, request.request_id, "topics:Publish", resource_arn(spec.app, "topic", queue)
        )
    except AccessDenied:
        raise AwsError(
            "AccessDeniedException",
            f"not authorized to perform sqs:SendMessage on {queue_arn(request.caller, queue)}",
        ) from None


def _entry(params: Any, queue: str) -> dict[str, Any]:
    """One message to send, checked: body, attributes, delay, FIFO ids."""
    if not isinstance(params, dict):
        raise AwsError("InvalidParameterValue", "An entry must be a structure.")
    body = params.get("MessageBody")
    if not isinstance(body, str) or not body:
        raise AwsError("MissingParameter", "The request must contain the parameter MessageBody.")
    if _BAD_BODY_CHARS.search(body):
        raise AwsError("InvalidMessageContents", "Invalid characters found in the message body.")
    if len(body.encode()) > MAX_MESSAGE_BYTES:
        raise AwsError(
            "InvalidParameterValue",
            "One or more parameters are invalid. Reason: Message must be shorter than "
            f"{MAX_MESSAGE_BYTES} bytes.",
        )
    delay = params.get("DelaySeconds", 0)
    if not isinstance(delay, int) or isinstance(delay, bool) or not 0 <= delay <= 900:
        raise AwsError("InvalidParameterValue", "DelaySeconds must be between 0 and 900.")
    attributes = messaging.parse_attributes(params.get("MessageAttributes"))
    system: dict[str, str] = {}
    fifo = queue.endswith(".fifo")
    for field in ("MessageGroupId", "MessageDeduplicationId"):
        value = params.get(field)
        if value is None:
            continue
        if not fifo and field == "MessageDeduplicationId":
            raise AwsError(
                "InvalidParameterValue",
                f"The request include parameter that is not valid for this queue type: {field}",
            )
        if not isinstance(value, str) or not re.match(r"^[\x21-\x7e]{1,128}$", value):
            raise AwsError(
                "InvalidParameterValue", f"{field} must be 1 to 128 printable characters."
            )
        system[field] = value
    if fifo and "MessageGroupId" not in system:
        raise AwsError("MissingParameter", "The request must contain the parameter MessageGroupId.")
    return {"body": body, "attributes": attributes, "system": system}


async def _publish(
    broker: Broker, caller: Caller, queue: str, entry: dict[str, Any]
) -> dict[str, Any]:
    attributes: list[messaging.Attribute] = entry["attributes"]
    extra: dict[str, Any] = {"attributes": {a.name: a.record() for a in attributes}}
    if entry["system"]:
        extra["system"] = entry["system"]
    try:
        ids = await broker.publish(caller.spec.app, queue, entry["body"], extra)
    except InvalidRequest as exc:
        raise AwsError("InvalidParameterValue", exc.message) from None
    if not ids:  # the last consumer went away between the check and the send
        raise AwsError("QueueDoesNotExist", "The specified queue does not exist.")
    out: dict[str, Any] = {
        # one id per consumer; the first is the record's messageId at the (usual) one consumer
        "MessageId": ids[0],
        "MD5OfMessageBody": messaging.md5_text(entry["body"]),
    }
    digest = messaging.md5_of_attributes(attributes)
    if digest is not None:
        out["MD5OfMessageAttributes"] = digest
    if queue.endswith(".fifo"):
        out["SequenceNumber"] = str(int(uuid.uuid4().int % 10**20)).zfill(20)
    return out


def error(err: AwsError, request_id: str) -> AwsResponse:
    """An SQS error as botocore reads query-compatible JSON errors."""
    query_code = _QUERY_CODES.get(err.code, err.code)
    shape = err.code
    prefix = "com.amazon.coral.service" if shape == "AccessDeniedException" else "com.amazonaws.sqs"
    status = 403 if shape == "AccessDeniedException" else err.status
    return AwsResponse(
        status,
        [
            ("x-amzn-requestid", request_id),
            ("content-type", JSON_10),
            ("x-amzn-query-error", f"{query_code};Sender"),
        ],
        orjson.dumps({"__type": f"{prefix}#{shape}", "message": err.message}),
    )


# -- the query protocol ------------------------------------------------------------------------
def _indexed(form: dict[str, str], prefix: str) -> list[str]:
    """The sorted ``N`` of every ``{prefix}N`` or ``{prefix}N.rest`` key."""
    found = set()
    for key in form:
        if key.startswith(prefix):
            index = key[len(prefix) :].partition(".")[0]
            if index.isdigit():
                found.add(index)
    return sorted(found, key=int)


def _query_entry(form: dict[str, str], prefix: str) -> dict[str, Any]:
    entry: dict[str, Any] = {}
    for name in ("Id", "MessageBody", "MessageGroupId", "MessageDeduplicationId"):
        if prefix + name in form:
            entry[name] = form[prefix + name]
    if prefix + "DelaySeconds" in form:
        text = form[prefix + "DelaySeconds"]
        entry["DelaySeconds"] = int(text) if text.isdigit() else text
    attrs: dict[str, Any] = {}
    base = prefix + "MessageAttribute."
    for i in _indexed(form, base):
        name = form.get(f"{base}{i}.Name", "")
        value = {
            field: form[f"{base}{i}.Value.{field}"]
            for field in ("DataType", "StringValue", "BinaryValue")
            if f"{base}{i}.Value.{field}" in form
        }
        attrs[name] = value
    if attrs:
        entry["MessageAttributes"] = attrs
    return entry


def query_params(op: str, form: dict[str, str]) -> dict[str, Any]:
    """A query request's form as the JSON protocol's parameters of ``op``."""
    params: dict[str, Any] = {
        k: form[k] for k in ("QueueUrl", "QueueName", "QueueOwnerAWSAccountId") if k in form
    }
    if op == "GetQueueAttributes":
        names = [form[f"AttributeName.{i}"] for i in _indexed(form, "AttributeName.")]
        if names:
            params["AttributeNames"] = names
    elif op == "SendMessage":
        params.update(_query_entry(form, ""))
    elif op == "SendMessageBatch":
        base = "SendMessageBatchRequestEntry."
        params["Entries"] = [_query_entry(form, f"{base}{i}.") for i in _indexed(form, base)]
    return params


def query_result(op: str, result: dict[str, Any]) -> dict[str, Any]:
    """The JSON protocol's answer as the query protocol's XML elements."""
    if op == "GetQueueAttributes":
        return {"Attribute": [{"Name": k, "Value": v} for k, v in result["Attributes"].items()]}
    if op == "SendMessageBatch":
        return {
            "SendMessageBatchResultEntry": result["Successful"],
            "BatchResultErrorEntry": result["Failed"],
        }
    return result


def query_error(err: AwsError, request_id: str) -> AwsResponse:
    """An SQS error in the query protocol: the query-era code in ``<Error><Code>``."""
    code = _QUERY_CODES.get(err.code, err.code)
    status = 403 if err.code == "AccessDeniedException" else err.status
    body = (
        f'<ErrorResponse xmlns="{QUERY_XMLNS}"><Error><Type>Sender</Type>'
        f"<Code>{xml_escape(code)}</Code><Message>{xml_escape(err.message)}</Message>"
        f"<Detail/></Error><RequestId>{xml_escape(request_id)}</RequestId></ErrorResponse>"
    )
    return AwsResponse(
        status, [("content-type", XML), ("x-amzn-requestid", request_id)], body.encode()
    )
