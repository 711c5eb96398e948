"""The four wire protocols boto3 speaks, for answers and errors.

botocore picks the exception class from the error code it parses out of a
response, and where it looks depends on the service's protocol:

- ``json`` (awsJson 1.0/1.1: DynamoDB, SQS, KMS, Secrets Manager, SSM,
  EventBridge): a JSON body with ``__type``;
- ``rest-json`` (Lambda): the ``x-amzn-errortype`` header and a JSON body;
- ``rest-xml`` (S3): ``<Error><Code>``;
- ``query`` (STS, SNS): ``<ErrorResponse><Error><Code>``, answers wrapped in
  ``<{Action}Response><{Action}Result>``.

Services build answers with these helpers so every error a caller sees has
the shape its SDK parses (never a stack trace or an internal path).
"""

from __future__ import annotations

from typing import Any
from xml.sax.saxutils import escape

import orjson

from ramparts.aws.service import AwsError, AwsResponse, Protocol_

JSON_10 = "application/x-amz-json-1.0"
JSON_11 = "application/x-amz-json-1.1"
XML = "application/xml"


def json_answer(data: Any, request_id: str, *, content_type: str = JSON_10) -> AwsResponse:
    return AwsResponse(
        200,
        [("content-type", content_type), ("x-amzn-requestid", request_id)],
        orjson.dumps(data),
    )


def xml_escape(value: Any) -> str:
    return escape(str(value), {'"': "&quot;"})


def xml_elements(data: Any) -> str:
    """``{"A": 1, "B": [{"C": 2}]}`` -> ``<A>1</A><B><C>2</C></B>`` (lists repeat their parent)."""
    if isinstance(data, dict):
        parts = []
        for key, value in data.items():
            if value is None:
                continue
            if isinstance(value, list):
                parts.extend(f"<{key}>{xml_elements(item)}</{key}>" for item in value)
            else:
                parts.append(f"<{key}>{xml_elements(value)}</{key}>")
        return "".join(parts)
    if isinstance(data, bool):
        return "true" if data else "false"
    return xml_escape(data)


def query_answer(action: str, result: dict[str, Any], request_id: str, xmlns: str) -> AwsResponse:
    """The awsQuery answer botocore parses: ``<ActionResponse><ActionResult>...``."""
    body = (
        f'<{action}Response xmlns="{xmlns}"><{action}Result>{xml_elements(result)}'
        f"</{action}Result><ResponseMetadata><RequestId>{xml_escape(request_id)}</RequestId>"
        f"</ResponseMetadata></{action}Response>"
    )
    return AwsResponse(
        200, [("content-type", XML), ("x-amzn-requestid", request_id)], body.encode()
    )


def error_response(
    protocol: Protocol_, error: AwsError, request_id: str, *, json_prefix: str = ""
) -> AwsResponse:
    """``error`` written the way the caller's SDK reads errors of ``protocol``.

    ``json_prefix`` is the service's shape namespace (``com.amazonaws.dynamodb.v20120810``)
    that real services put before ``#`` in ``__type``; botocore strips it either way.
    """
    headers = [("x-amzn-requestid", request_id)]
    if protocol == "json":
        kind = f"{json_prefix}#{error.code}" if json_prefix else error.code
        headers += [("content-type", JSON_10), ("x-amzn-query-error", f"{error.code};Sender")]
        body = orjson.dumps({"__type": kind, "message": error.message})
    elif protocol == "rest-json":
        headers += [("content-type", "application/json"), ("x-amzn-errortype", error.code)]
        body = orjson.dumps({"Type": "User", "message": error.message})
    elif protocol == "rest-xml":
        headers += [("content-type", XML), ("x-amz-request-id", request_id)]
        body = (
            f"<?xml version='1.0' encoding='UTF-8'?><Error><Code>{xml_escape(error.code)}</Code>"
            f"<Message>{xml_escape(error.message)}</Message>"
            f"<RequestId>{xml_escape(request_id)}</RequestId></Error>"
        ).encode()
    else:
        headers += [("content-type", XML)]
        body = (
            f"<ErrorResponse><Error><Type>Sender</Type><Code>{xml_escape(error.code)}</Code>"
            f"<Message>{xml_escape(error.message)}</Message></Error>"
            f"<RequestId>{xml_escape(request_id)}</RequestId></ErrorResponse>"
        ).encode()
    return AwsResponse(error.status, headers, body)


def unsupported(service: str, operation: str) -> AwsError:
    """The answer for an operation Ramparts does not implement: named, never a hang or a 500."""
    return AwsError(
        "UnsupportedOperation",
        f"{service} operation {operation or '(none)'} is not supported by Ramparts",
        400,
    )
