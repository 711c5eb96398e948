"""Framing for the node <-> zygote <-> worker channels.

Every message between the host and a sandboxed process is one frame: a
4-byte big-endian length followed by that many bytes of UTF-8 JSON.  JSON
(never pickle) because the other end runs untrusted code: a frame can only
ever decode to plain data.  Bytes travel as ``{"$b64": "..."}``.

Two sets of helpers live here:

* blocking ``send_frame`` / ``recv_frame`` for the zygote and the workers,
  which use only the stdlib ``json`` (a worker's import path holds nothing
  else of ours, and its own deps must not be picked up by the runtime);
* ``read_frame`` / ``write_frame`` for the host, over asyncio streams, which
  use orjson (a node dependency, imported lazily so that importing this
  module inside a worker never reaches for it).
"""

from __future__ import annotations

import base64
import json
import os
import socket
import struct
from typing import TYPE_CHECKING, Any

from ramparts.errors import InvocationError

if TYPE_CHECKING:
    import asyncio

MAX_FRAME = 16 * 1024 * 1024  # 16 MiB: above any payload limit we accept, below memory trouble
_HEADER = struct.Struct(">I")


class FrameError(InvocationError):
    """A frame could not be encoded, decoded or was refused for its size."""

    code = "bad_frame"


class FrameTooLarge(FrameError):
    code = "payload_too_large"

    def __init__(self, size: int) -> None:
        super().__init__(f"frame of {size} bytes exceeds the {MAX_FRAME} byte limit")
        self.size = size


def b64(data: bytes | bytearray | memoryview) -> dict[str, str]:
    """Wrap bytes for the wire."""
    return {"$b64": base64.b64encode(bytes(data)).decode("ascii")}


def unb64(value: Any) -> bytes:
    """Unwrap a ``{"$b64": ...}`` value (raises ``FrameError`` on anything else)."""
    if isinstance(value, dict) and isinstance(value.get("$b64"), str):
        try:
            return base64.b64decode(value["$b64"], validate=True)
        except ValueError as exc:
            raise FrameError("invalid base64 payload") from exc
    raise FrameError("expected a {'$b64': ...} value")


def _default(obj: Any) -> Any:
    if isinstance(obj, bytes | bytearray | memoryview):
        return b64(obj)
    raise TypeError(f"Object of type {type(obj).__name__} is not JSON serializable")


def encode(obj: Any) -> bytes:
    """Encode one message body with the stdlib (worker side)."""
    return json.dumps(
        obj, default=_default, ensure_ascii=False, allow_nan=False, separators=(",", ":")
    ).encode("utf-8")


def frame(body: bytes) -> bytes:
    """Prefix an encoded body with its length, refusing oversized ones."""
    if len(body) > MAX_FRAME:
        raise FrameTooLarge(len(body))
    return _HEADER.pack(len(body)) + body


def decode(body: bytes | bytearray | memoryview) -> Any:
    try:
        return json.loads(bytes(body))
    except ValueError as exc:  # JSONDecodeError and UnicodeDecodeError
        raise FrameError("malformed frame body") from exc


# --- blocking side (zygote, worker) -----------------------------------------


def send_frame(sock: socket.socket, obj: Any) -> None:
    send_raw(sock, encode(obj))


def send_raw(sock: socket.socket, body: bytes) -> None:
    """Send an already-encoded body (lets the worker encode a result only once)."""
    sock.sendall(frame(body))


def recv_exact(sock: socket.socket, n: int) -> bytearray | None:
    """Read exactly ``n`` bytes; ``None`` on a clean EOF before the first byte."""
    buf = bytearray(n)
    view = memoryview(buf)
    got = 0
    while got < n:
        k = sock.recv_into(view[got:])
        if k == 0:
            if got == 0:
                return None
            raise FrameError("connection closed in the middle of a frame")
        got += k
    return buf


def body_length(header: bytes | bytearray) -> int:
    (size,) = _HEADER.unpack(header)
    if size > MAX_FRAME:
        raise FrameTooLarge(size)
    return int(size)


def recv_frame(sock: socket.socket) -> Any | None:
    """Receive one message; ``None`` when the peer closed the connection."""
    header = recv_exact(sock, _HEADER.size)
    if header is None:
        return None
    size = body_length(header)
    body = recv_exact(sock, size) if size else bytearray()
    if body is None:
        raise FrameError("connection closed in the middle of a frame")
    return decode(body)


# --- asyncio side (host) ------------------------------------------------------

_orjson: Any = None


def _fast() -> Any:
    # Imported on first use so that a worker importing this module never loads it.
    global _orjson
    if _orjson is None:
        import orjson

        _orjson = orjson
    return _orjson


def host_encode(obj: Any) -> bytes:
    """Encode on the host: orjson, falling back to the stdlib for what it refuses."""
    orjson = _fast()
    try:
        return bytes(orjson.dumps(obj, default=_default))
    except TypeError:
        # e.g. integers beyond 64 bits, non-str keys: the stdlib still copes
        try:
            return encode(obj)
        except (TypeError, ValueError) as exc:
            raise FrameError(f"cannot encode message: {exc}") from exc


async def read_frame(reader: asyncio.StreamReader) -> Any | None:
    """Read one message from a stream; ``None`` on EOF at a frame boundary."""
    import asyncio

    try:
        header = await reader.readexactly(_HEADER.size)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return None
        raise FrameError("connection closed in the middle of a frame") from exc
    size = body_length(header)
    try:
        body = await reader.readexactly(size) if size else b""
    except asyncio.IncompleteReadError as exc:
        raise FrameError("connection closed in the middle of a frame") from exc
    try:
        return _fast().loads(body)
    except ValueError as exc:  # orjson.JSONDecodeError subclasses ValueError
        raise FrameError("malformed frame body") from exc


def write_frame(writer: asyncio.StreamWriter, obj: Any) -> None:
    """Queue one message on a stream (the caller awaits ``drain`` if it cares)."""
    writer.write(frame(host_encode(obj)))


def send_fd_frame(sock: socket.socket, obj: Any, fd: int) -> None:
    """Send a message with one file descriptor attached (SCM_RIGHTS).

    The zygote's control socket is also wrapped in an asyncio stream for
    reading; writes bypass the transport (it never writes), so there is no
    interleaving.  Frames are tiny, so a would-block is a broken zygote.
    """
    send_fds_frame(sock, obj, [fd])


def send_fds_frame(sock: socket.socket, obj: Any, fds: list[int]) -> None:
    """Send a message with file descriptors attached (SCM_RIGHTS), in one write."""
    data = frame(encode(obj))
    try:
        sent = socket.send_fds(sock, [data], fds)
    except OSError as exc:
        raise FrameError(f"cannot send to zygote: {exc.strerror or exc}") from exc
    if sent != len(data):
        raise FrameError("short write on the zygote control socket")


def recv_fd_frame(sock: socket.socket) -> tuple[Any | None, list[int]]:
    """Blocking receive of one message plus any file descriptors sent with it."""
    fds: list[int] = []
    header = bytearray()
    while len(header) < _HEADER.size:
        data, got_fds, _flags, _addr = socket.recv_fds(
            sock, _HEADER.size - len(header), 4, socket.MSG_CMSG_CLOEXEC
        )
        fds.extend(got_fds)
        if not data:
            for fd in fds:
                _close_quietly(fd)
            if not header:
                return None, []
            raise FrameError("connection closed in the middle of a frame")
        header += data
    try:
        size = body_length(header)
        body = recv_exact(sock, size) if size else bytearray()
        if body is None:
            raise FrameError("connection closed in the middle of a frame")
        return decode(body), fds
    except BaseException:
        for fd in fds:
            _close_quietly(fd)
        raise


def _close_quietly(fd: int) -> None:
    try:
        os.close(fd)
    except OSError:
        pass
