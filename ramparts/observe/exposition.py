"""The token-free ``/metrics`` listener of ``ramparts up --metrics-port P``.

Bound to 127.0.0.1 only (``ramparts.server`` fixes the address): a Prometheus
agent on the same machine scrapes it without holding the admin token.  It
answers ``GET /metrics`` and nothing else; every other path or method is a
JSON error with a stable code.  The admin listener's ``/metrics`` serves the
same text behind the admin token.
"""

from __future__ import annotations

import asyncio
from typing import Any, Protocol

import orjson

from ramparts.observe.metrics import CONTENT_TYPE, NodeMetrics


class _HasMetrics(Protocol):
    metrics: NodeMetrics


def metrics_app(node: _HasMetrics) -> Any:
    """A raw ASGI app serving the node's metrics (rendered off the event loop)."""

    async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["path"] != "/metrics":
            await _error(send, 404, "not_found", "only /metrics is served here")
            return
        if scope["method"] not in ("GET", "HEAD"):
            await _error(send, 405, "method_not_allowed", "method not allowed")
            return
        body = await asyncio.to_thread(node.metrics.render)
        headers = [
            (b"content-type", CONTENT_TYPE.encode()),
            (b"content-length", str(len(body)).encode()),
            (b"cache-control", b"no-store"),
            (b"x-content-type-options", b"nosniff"),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        head = scope["method"] == "HEAD"
        await send({"type": "http.response.body", "body": b"" if head else body})

    return app


async def _error(send: Any, status: int, code: str, message: str) -> None:
    body = orjson.dumps({"code": code, "message": message})
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})
