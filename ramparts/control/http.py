"""The control API's HTTP plumbing, shared by its route modules.

Kept below ``api``, ``identity``, ``vault`` and ``policy`` so that each imports
it, and none of them imports another.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from ramparts.errors import InvalidRequest
from ramparts.gateway.json_count import json_value_count, quick_value_bound
from ramparts.runtime.nesting import MAX_DEPTH, body_too_deep, orjson_depth_exceeded

if TYPE_CHECKING:
    from ramparts.node import Node


class JSONResponse(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def _error(status: int, code: str, message: str, **extra: Any) -> JSONResponse:
    return JSONResponse({"code": code, "message": message, **extra}, status_code=status)


def _node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


async def _json(request: Request, limit: int = 1024 * 1024) -> dict[str, Any]:
    body = await _body(request, limit)
    if not body:
        return {}
    max_values = _node(request).settings.max_json_values
    if quick_value_bound(body) > max_values and json_value_count(body) > max_values:
        # Counted before parsing, as at the gateway: this loop serves the gateway too.
        raise InvalidRequest(
            f"the JSON body holds more than {max_values} values", code="too_many_json_values"
        )
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        if orjson_depth_exceeded(exc):
            raise _too_deep() from None
        raise InvalidRequest("the body is not valid JSON", code="invalid_json") from None
    if body_too_deep(body, data):
        raise _too_deep()
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalid_json")
    return data


def _too_deep() -> InvalidRequest:
    return InvalidRequest(
        f"the JSON body nests deeper than {MAX_DEPTH} levels", code="too_deeply_nested"
    )


async def _body(request: Request, limit: int) -> bytes:
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise InvalidRequest(f"the body exceeds {limit} bytes", code="payload_too_large")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise InvalidRequest(f"the body exceeds {limit} bytes", code="payload_too_large")
        chunks.append(chunk)
    return b"".join(chunks)
