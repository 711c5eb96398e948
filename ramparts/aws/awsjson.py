"""Request side of awsJson 1.1 (Secrets Manager, SSM, KMS): dispatch and field checks.

An awsJson call is ``POST /`` with ``X-Amz-Target: <Prefix>.<Operation>`` and
a JSON object body.  A service declares its target prefix and its
operations; :func:`operation` finds the one named, and :class:`Params`
reads the body's fields with the checks botocore's own validation would
have made (so a hand-written request that skips botocore still gets a clear
``ValidationException``, never a ``KeyError`` or a 500).

Answers and errors are written with :mod:`ramparts.aws.protocols`
(``json_answer(..., content_type=JSON_11)``, ``error_response("json", ...)``).
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from ramparts.aws.protocols import unsupported
from ramparts.aws.service import AwsError, AwsRequest

MAX_BODY = 1024 * 1024


def validation(message: str) -> AwsError:
    return AwsError("ValidationException", message, 400)


def operation(request: AwsRequest, prefix: str, service: str) -> str:
    """The operation named by ``X-Amz-Target`` (``TrentService.Encrypt`` -> ``Encrypt``)."""
    if request.method != "POST":
        raise unsupported(service, f"{request.method} {request.path}")
    target = request.header("x-amz-target")
    head, dot, op = target.partition(".")
    if not dot or head != prefix or not op:
        raise unsupported(service, target)
    return op


def body(request: AwsRequest) -> dict[str, Any]:
    """The JSON object of the request (an empty body is ``{}``, as botocore sends none)."""
    if len(request.body) > MAX_BODY:
        raise validation("the request body is too large")
    if not request.body.strip():
        return {}
    try:
        data = orjson.loads(request.body)
    except orjson.JSONDecodeError:
        raise AwsError("SerializationException", "the request body is not valid JSON") from None
    if not isinstance(data, dict):
        raise AwsError("SerializationException", "the request body must be a JSON object")
    return data


class Params:
    """Typed reads of a request's fields; each failure is a ``ValidationException`` naming it."""

    def __init__(self, data: dict[str, Any]) -> None:
        self.data = data

    def string(
        self, name: str, *, required: bool = False, max_len: int = 2048, default: str | None = None
    ) -> str | None:
        value = self.data.get(name)
        if value is None:
            if required:
                raise validation(f"1 validation error detected: {name} must not be null")
            return default
        if not isinstance(value, str) or not 1 <= len(value) <= max_len:
            raise validation(f"{name} must be a string of 1 to {max_len} characters")
        return value

    def required_string(self, name: str, *, max_len: int = 2048) -> str:
        value = self.string(name, required=True, max_len=max_len)
        if value is None:  # string(required=True) has raised already; this satisfies mypy
            raise validation(f"{name} must not be null")
        return value

    def boolean(self, name: str, default: bool = False) -> bool:
        value = self.data.get(name)
        if value is None:
            return default
        if not isinstance(value, bool):
            raise validation(f"{name} must be a boolean")
        return value

    def integer(self, name: str, *, low: int, high: int) -> int | None:
        value = self.data.get(name)
        if value is None:
            return None
        if not isinstance(value, int) or isinstance(value, bool) or not low <= value <= high:
            raise validation(f"{name} must be an integer from {low} to {high}")
        return value

    def string_list(self, name: str, *, low: int, high: int, max_len: int = 2048) -> list[str]:
        value = self.data.get(name)
        if (
            not isinstance(value, list)
            or not low <= len(value) <= high
            or not all(isinstance(v, str) and 1 <= len(v) <= max_len for v in value)
        ):
            raise validation(f"{name} must be a list of {low} to {high} strings")
        return value

    def string_map(self, name: str) -> dict[str, str]:
        value = self.data.get(name)
        if value is None:
            return {}
        if not isinstance(value, dict) or not all(
            isinstance(k, str) and isinstance(v, str) for k, v in value.items()
        ):
            raise validation(f"{name} must be a map of strings to strings")
        return value

    def blob(self, name: str, *, required: bool = False, max_bytes: int = 6144) -> bytes | None:
        """A blob member: botocore sends base64 text in awsJson."""
        value = self.data.get(name)
        if value is None:
            if required:
                raise validation(f"1 validation error detected: {name} must not be null")
            return None
        if not isinstance(value, str):
            raise validation(f"{name} must be base64 text")
        try:
            raw = base64.b64decode(value, validate=True)
        except (binascii.Error, ValueError):
            raise validation(f"{name} is not valid base64") from None
        if not 1 <= len(raw) <= max_bytes:
            raise validation(f"{name} must be 1 to {max_bytes} bytes")
        return raw


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()
