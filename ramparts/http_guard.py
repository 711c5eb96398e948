"""Connection guards for both HTTP listeners: the gateway and the control API.

uvicorn leaves a request's header section unbounded (httptools keeps a header
value growing until its line ends), times a connection out only after it has
answered a request on it, and accepts connections until the process runs out
of file descriptors -- after which neither listener accepts anything.  This
module wraps uvicorn's httptools protocol so that, before any ASGI app sees a
request:

- the request line plus header fields are bounded in bytes and in count
  (``431``, JSON code ``header_too_large`` or ``too_many_headers``);
- a connection with no request in flight is closed after ``idle_timeout``, and
  a request whose headers are not complete ``header_timeout`` after its first
  byte gets ``408`` (``header_timeout``) and is closed;
- a request's body (and chunked trailer) must be complete ``body_timeout``
  after its headers (``408``, ``body_timeout``); chunked framing and trailers
  are bounded like headers (``431``, ``trailer_too_large``), and at most
  :data:`MAX_PIPELINED` requests may wait behind the one being answered on a
  connection (a client that sends but never reads is closed);
- one client address holds at most ``max_per_client`` connections and a
  listener at most ``max_connections``; one more is answered ``503``
  (``too_many_connections``) and closed at once;
- a request that is not valid HTTP gets a JSON ``400`` (``bad_request``)
  instead of uvicorn's plain-text one.

Where it sits: ``server.py`` builds one protocol class per listener with
:func:`guarded_protocol`; the apps behind it never see a refused request.
"""

from __future__ import annotations

import asyncio
import logging
import resource
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from uvicorn.protocols.http.httptools_impl import STATUS_LINE, HttpToolsProtocol

from ramparts.config import Settings

log = logging.getLogger("ramparts.http_guard")

CONTROL_MAX_CONNECTIONS = 64
"""Connections the control API serves at once: a few operators and scripts."""

CONTROL_MAX_PER_CLIENT = 16
"""Per client address on the control API: below its total, so one address cannot fill it."""

MAX_PIPELINED = 16
"""Requests that may wait behind the one being answered on one connection.

uvicorn parses a whole read (up to 256 KiB) at once and queues every request
in it: a client that pipelines tiny requests and never reads the answers
held hundreds of MB per connection.
"""

CHUNK_FRAMING_ALLOWANCE = 64
"""Bytes of chunk-size line and CRLFs allowed per chunk beyond its data."""

FD_RESERVE = 256
"""File descriptors the gateway leaves to the control API, workers and the state files."""


@dataclass(frozen=True)
class Limits:
    """What one listener accepts; every field positive."""

    max_header_bytes: int
    max_header_count: int
    header_timeout: float
    idle_timeout: float
    body_timeout: float
    max_per_client: int
    max_connections: int
    # Told of every refusal (client address, status, code) so the node can audit it;
    # the gateway's goes through the refusal aggregator (ramparts.ratelimit.aggregate).
    on_refusal: Callable[[str, int, str], None] | None = field(default=None, compare=False)


def gateway_limits(settings: Settings) -> Limits:
    """The gateway's limits: the settings', its total kept below the open-file limit."""
    return Limits(
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        header_timeout=settings.header_timeout,
        idle_timeout=settings.idle_timeout,
        body_timeout=settings.body_timeout,
        max_per_client=settings.max_connections_per_client,
        max_connections=min(settings.max_connections, _fd_budget()),
    )


def control_limits(settings: Settings) -> Limits:
    """The control API's limits: the same header and time bounds, few connections."""
    return Limits(
        max_header_bytes=settings.max_header_bytes,
        max_header_count=settings.max_header_count,
        header_timeout=settings.header_timeout,
        idle_timeout=settings.idle_timeout,
        body_timeout=settings.body_timeout,
        max_per_client=min(settings.max_connections_per_client, CONTROL_MAX_PER_CLIENT),
        max_connections=CONTROL_MAX_CONNECTIONS,
    )


def _fd_budget() -> int:
    """Connections the gateway may hold so that the rest of the node keeps its descriptors.

    A flood that used every descriptor would stop the control API (and the
    node's own files and workers) too; the reserve is half the limit when
    the limit is small.
    """
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft == resource.RLIM_INFINITY:
        return 1 << 30
    return max(1, soft - min(FD_RESERVE, soft // 2))


class ConnectionTable:
    """The open connections of one listener, counted by client address."""

    def __init__(self, limits: Limits) -> None:
        self._limits = limits
        self._by_client: dict[str, int] = {}
        self._total = 0

    def admit(self, client: str) -> bool:
        """Count one more connection from ``client``, or refuse it (``False``)."""
        held = self._by_client.get(client, 0)
        if self._total >= self._limits.max_connections or held >= self._limits.max_per_client:
            return False
        self._by_client[client] = held + 1
        self._total += 1
        return True

    def release(self, client: str) -> None:
        held = self._by_client.get(client, 0) - 1
        if held > 0:
            self._by_client[client] = held
        else:
            self._by_client.pop(client, None)
        self._total -= 1


class _HeadRefused(Exception):
    """Raised from a parser callback to stop parsing a request head we refuse."""


class _GuardedProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with header bounds, timeouts and connection caps."""

    limits: Limits
    table: ConnectionTable

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._admitted: str | None = None
        self._head_timer: asyncio.TimerHandle | None = None
        self._in_head = True  # between requests, or inside a request's head
        self._head_bytes = 0  # raw bytes received while a head is incomplete
        self._head_size = 0  # exact size of the request line and fields parsed so far
        self._head_count = 0
        self._refusal: tuple[int, str, str] | None = None
        self._body_timer: asyncio.TimerHandle | None = None
        self._after_head = 0  # raw bytes received since the current head completed
        self._body_seen = 0  # of which body data
        self._chunks = 0  # chunks begun since the current head completed

    # -- connection ------------------------------------------------------------------------------
    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        client = self.client[0] if self.client else ""
        if not self.table.admit(client):
            self._refuse(503, "too_many_connections", "too many connections; retry later")
            return
        self._admitted = client
        # uvicorn arms its keep-alive timer only after a response: a client that
        # connects and stays silent would otherwise hold its connection forever.
        self.timeout_keep_alive_task = self.loop.call_later(
            self.limits.idle_timeout, self.timeout_keep_alive_handler
        )

    def connection_lost(self, exc: Exception | None) -> None:
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self._admitted is not None:
            self.table.release(self._admitted)
            self._admitted = None
        super().connection_lost(exc)

    def shutdown(self) -> None:
        """A graceful stop drops a connection with nothing in flight at once.

        uvicorn ends an idle connection with ``transport.close()``, which on
        TLS then waits up to 30 s for the peer's close_notify; an idle
        keep-alive client (a worker's boto3 connection pool) never sends one,
        so a TLS node took 30 s to stop.  With no request in progress and
        nothing left to write, aborting loses nothing.
        """
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.transport.get_write_buffer_size() == 0:
            self.transport.abort()
            return
        super().shutdown()

    def data_received(self, data: bytes) -> None:
        if self.transport.is_closing():
            return
        if self._in_head:
            self._head_bytes += len(data)
            if self._head_timer is None:
                self._head_timer = self.loop.call_later(
                    self.limits.header_timeout, self._head_timed_out
                )
        else:
            self._after_head += len(data)
        super().data_received(data)
        if self.transport.is_closing():
            return
        # What is neither body data nor a chunk's size line is a trailer (or junk):
        # httptools keeps an unfinished trailer field in memory, so bound it here.
        framing = self._after_head - self._body_seen
        if framing > self.limits.max_header_bytes + CHUNK_FRAMING_ALLOWANCE * self._chunks:
            self._refuse(
                431,
                "trailer_too_large",
                f"chunk framing and trailer fields exceed {self.limits.max_header_bytes} bytes",
            )
            return
        if (
            self._in_head
            and self._head_bytes > self.limits.max_header_bytes
            and not self.transport.is_closing()
        ):
            self._refuse(431, "header_too_large", self._too_large())

    # -- parser callbacks --------------------------------------------------------------------------
    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._in_head = True
        self._head_size = 0
        self._head_count = 0

    def on_url(self, url: bytes) -> None:
        self._grow(len(url))
        super().on_url(url)

    def on_header(self, name: bytes, value: bytes) -> None:
        self._head_count += 1
        if self._head_count > self.limits.max_header_count:
            self._refusal = (
                431,
                "too_many_headers",
                f"a request may carry at most {self.limits.max_header_count} header fields",
            )
            raise _HeadRefused
        self._grow(len(name) + len(value) + 4)  # ": " and CRLF
        super().on_header(name, value)

    def on_headers_complete(self) -> None:
        self._in_head = False
        self._head_bytes = 0
        self._after_head = self._body_seen = self._chunks = 0
        self._cancel_head_timer()
        super().on_headers_complete()
        if len(self.pipeline) > MAX_PIPELINED:
            self._refusal = (
                429,
                "too_many_pipelined",
                f"at most {MAX_PIPELINED} requests may wait for their answers on one connection",
            )
            raise _HeadRefused
        self._cancel_body_timer()
        self._body_timer = self.loop.call_later(self.limits.body_timeout, self._body_timed_out)

    def on_chunk_header(self) -> None:
        self._chunks += 1

    def on_body(self, body: bytes) -> None:
        self._body_seen += len(body)
        super().on_body(body)

    def on_message_complete(self) -> None:
        self._cancel_body_timer()
        super().on_message_complete()
        self._in_head = True

    def _grow(self, size: int) -> None:
        self._head_size += size
        if self._head_size > self.limits.max_header_bytes:
            self._refusal = (431, "header_too_large", self._too_large())
            raise _HeadRefused

    def _too_large(self) -> str:
        return f"the request line and headers exceed {self.limits.max_header_bytes} bytes"

    # -- refusals ----------------------------------------------------------------------------------
    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a parse error, also reached when a callback refused the head."""
        status, code, message = self._refusal or (
            400,
            "bad_request",
            "the request is not valid HTTP",
        )
        self._refuse(status, code, message)

    def _head_timed_out(self) -> None:
        self._head_timer = None
        if self.transport.is_closing():
            return
        if self.cycle is not None and not self.cycle.response_complete:
            self.cycle.keep_alive = False  # a pipelined head: end after the answer in flight
            return
        self._refuse(408, "header_timeout", "the request headers were not received in time")

    def _body_timed_out(self) -> None:
        """The body (or trailer) did not arrive in time: a stalled upload holds a slot."""
        self._body_timer = None
        self._refuse(408, "body_timeout", "the request body was not received in time")

    def _cancel_body_timer(self) -> None:
        if self._body_timer is not None:
            self._body_timer.cancel()
            self._body_timer = None

    def _cancel_head_timer(self) -> None:
        if self._head_timer is not None:
            self._head_timer.cancel()
            self._head_timer = None

    def _refuse(self, status: int, code: str, message: str) -> None:
        """Answer with a JSON error and close; just close when a response is in flight."""
        self._cancel_head_timer()
        self._cancel_body_timer()
        if self.transport.is_closing():
            return
        if self.limits.on_refusal is not None:
            try:
                self.limits.on_refusal(self.client[0] if self.client else "", status, code)
            except Exception:  # the audit reports its own failures; the refusal stands
                log.exception("could not audit a %s refusal", code)
        cycle = self.cycle
        if cycle is None or cycle.response_complete or not cycle.response_started:
            body = orjson.dumps({"code": code, "message": message})
            head = [STATUS_LINE[status]]
            for name, value in self.server_state.default_headers:
                head.append(name + b": " + value + b"\r\n")
            head.append(
                b"content-type: application/json\r\nx-content-type-options: nosniff\r\n"
                b"content-length: %d\r\nconnection: close\r\n\r\n" % len(body)
            )
            self.transport.write(b"".join(head) + body)
        self.transport.close()


def guarded_protocol(limits: Limits) -> type[HttpToolsProtocol]:
    """A protocol class for one listener, with its own connection table."""
    return type(
        "GuardedHttpToolsProtocol",
        (_GuardedProtocol,),
        {"limits": limits, "table": ConnectionTable(limits)},
    )
