"""Reading a request body from ASGI, bounded, for the gateway and the AWS endpoint.

Both hand a body on only once it is whole: a body over the limit stops the
read as soon as it is known to be (from ``Content-Length`` or as it
arrives), and a connection that closes before the body ended stops it with
nothing to run and no one to answer (a truncated upload must never be
stored or handled as if complete).
"""

from __future__ import annotations

from typing import Any


class BodyTooLarge(Exception):
    """The body is over the caller's limit."""


class ClientGone(Exception):
    """The connection closed before the body was complete."""


async def read_body(receive: Any, headers: dict[str, str], limit: int) -> bytes:
    """The whole body, at most ``limit`` bytes; ``BodyTooLarge`` or ``ClientGone`` otherwise."""
    declared = headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise BodyTooLarge
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] == "http.disconnect":
            raise ClientGone
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise BodyTooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)
