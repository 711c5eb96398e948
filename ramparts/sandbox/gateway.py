"""The host half of egress: one HTTP proxy per sandbox, fed with passed sockets.

Host side (runs in the node's event loop); stdlib only.

Inside each sandbox, :mod:`ramparts.sandbox.forwarder` accepts handler
connections on ``127.0.0.1:3128`` and passes every socket, unread, over a
Unix channel.  :class:`EgressGateway` receives those sockets and acts as the
proxy for them: it reads the request head (``CONNECT host:port`` for TLS and
anything else tunnelled, or an absolute-form ``GET http://...`` for plain
HTTP), asks the function's :class:`~ramparts.sandbox.egress.EgressPolicy`,
resolves DNS here on the host, connects to the *pinned* address and relays
bytes.  The sandbox never resolves names or opens a socket to the outside
itself, so the policy is the only way out.

Each passed fd comes with a one-byte tag.  ``b"c"`` is a proxy connection,
as above.  Tags the caller maps in ``attach(..., direct=...)`` (the
forwarder's ``b"n"`` for the node's own public endpoint) are not parsed at
all: the gateway connects straight to the mapped host and port, whatever the
egress policy says, and relays raw bytes.  Any other tag is closed unread.

Every request with a well-formed head, and every direct connection, produces
exactly one ``on_decision(host, port, allowed, reason)`` call -- refusals are
security events the caller audits.  If that callback raises, the connection
is closed without being relayed: an egress that cannot be audited is refused.
"""

from __future__ import annotations

import asyncio
import contextlib
import functools
import ipaddress
import logging
import os
import re
import socket
from collections.abc import Callable, Mapping
from dataclasses import dataclass

from ramparts.sandbox.egress import EgressPolicy
from ramparts.sandbox.forwarder import PROXY_TAG

DecisionCallback = Callable[[str, int, bool, str], None]

_log = logging.getLogger(__name__)

MAX_HEAD = 16 * 1024
_CHUNK = 64 * 1024
_RECV_FLAGS = socket.MSG_DONTWAIT | getattr(socket, "MSG_CMSG_CLOEXEC", 0)
_TOKEN = re.compile(rb"[!#$%&'*+.^_`|~0-9A-Za-z-]+")
_HOST = re.compile(r"[A-Za-z0-9._-]{1,253}")
_PORT = re.compile(r"[0-9]{1,5}")
_CTL = re.compile(rb"[\x00-\x08\x0a-\x1f\x7f]")
# Hop-by-hop request headers that stop at the proxy (RFC 9110 section 7.6.1).
_HOP_BY_HOP = frozenset(
    {b"connection", b"proxy-connection", b"keep-alive", b"proxy-authorization", b"te", b"upgrade"}
)
# Never dropped because a Connection header names them: the relayed body depends on them.
_END_TO_END = frozenset({b"host", b"content-length", b"transfer-encoding"})
_REASONS = {400: "Bad Request", 403: "Forbidden", 502: "Bad Gateway"}
_LINGER = 2.0  # seconds to drain a refused client so it sees our answer, not a reset
NODE_ENDPOINT = "node endpoint"  # the reason given for every direct connection


class _BadRequest(Exception):
    """The request head is not one we proxy; the message goes back in the 400."""



# Handlers reach the node's own endpoint (the AWS-compatible API) from this loopback
# address, never from 127.0.0.1: a reverse proxy on the same host usually connects from
# 127.0.0.1, and ``--forwarded-allow-ips`` may trust it.  ``ramparts.forwarded`` never
# takes X-Forwarded-For from this address, so handler code cannot choose the client
# address that rate limits, block lists, detections and the audit log see.
WORKER_SOURCE_IP = "127.0.0.2"


async def _connect_as_worker(
    host: str, port: int
) -> tuple[asyncio.StreamReader, asyncio.StreamWriter]:
    """Connect to the node's endpoint from :data:`WORKER_SOURCE_IP` (IPv4 targets)."""
    try:
        family = ipaddress.ip_address(host).version
    except ValueError:
        family = 4  # a name: the node's endpoint host is an address in practice
    if family == 4:
        return await asyncio.open_connection(
            host, port, limit=_CHUNK, local_addr=(WORKER_SOURCE_IP, 0)
        )
    return await asyncio.open_connection(host, port, limit=_CHUNK)

@dataclass(frozen=True)
class _Request:
    tunnel: bool  # CONNECT, as opposed to absolute-form plain HTTP
    host: str
    port: int
    upstream_head: bytes = b""  # absolute-form only: the head rewritten to origin-form


class _Activity:
    """When a relayed connection last moved a byte, in either direction."""

    def __init__(self, loop: asyncio.AbstractEventLoop) -> None:
        self._loop = loop
        self.last = loop.time()

    def touch(self) -> None:
        self.last = self._loop.time()


class EgressGateway:
    """Serves proxied connections from any number of sandbox channels.

    Each attached channel gets at most ``max_connections`` concurrent
    connections; past that the gateway stops reading the channel, so the
    forwarder's sends back up (and it drops what it cannot pass).
    """

    def __init__(
        self,
        *,
        max_connections: int = 256,
        head_timeout: float = 10.0,
        connect_timeout: float = 10.0,
        idle_timeout: float = 300.0,
    ) -> None:
        self._max_connections = max_connections
        self._head_timeout = head_timeout
        self._connect_timeout = connect_timeout
        self._idle_timeout = idle_timeout
        self._tasks: set[asyncio.Task[None]] = set()
        self._channels: set[socket.socket] = set()
        self._closed = False

    def attach(
        self,
        channel: socket.socket,
        policy: EgressPolicy,
        on_decision: DecisionCallback,
        *,
        direct: Mapping[bytes, tuple[str, int]] | None = None,
    ) -> asyncio.Task[None]:
        """Serve the sockets passed over ``channel`` (which the gateway now owns).

        Sockets tagged ``b"c"`` are proxy connections checked against
        ``policy``; a socket whose tag is a key of ``direct`` is connected
        straight to that ``(host, port)`` (e.g. ``{b"n": ("127.0.0.1", 8080)}``,
        the node's own endpoint) and relayed as is, bypassing the policy.
        Sockets with any other tag are closed.

        The returned task ends when the channel reaches EOF (the sandbox's
        forwarder is gone); connections already passed keep running until
        they finish or :meth:`close` is called.
        """
        if self._closed:
            raise RuntimeError("the egress gateway is closed")
        routes = _direct_routes(direct)
        channel.setblocking(False)
        self._channels.add(channel)
        loop = asyncio.get_running_loop()
        task = loop.create_task(
            self._serve_channel(channel, policy, on_decision, routes), name="egress-channel"
        )
        self._track(task)
        return task

    async def close(self) -> None:
        """Stop everything: channels, pending requests and live relays."""
        self._closed = True
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in list(self._channels):  # tasks cancelled before they ever ran
            channel.close()
        self._channels.clear()

    def _track(self, task: asyncio.Task[None]) -> None:
        self._tasks.add(task)
        task.add_done_callback(self._forget)

    def _forget(self, task: asyncio.Task[None]) -> None:
        self._tasks.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("egress task failed", exc_info=task.exception())

    async def _serve_channel(
        self,
        channel: socket.socket,
        policy: EgressPolicy,
        on_decision: DecisionCallback,
        direct: dict[bytes, tuple[str, int]],
    ) -> None:
        loop = asyncio.get_running_loop()
        slots = asyncio.Semaphore(self._max_connections)
        try:
            while True:
                await slots.acquire()
                try:
                    received = await _receive_fd(loop, channel)
                except BaseException:
                    slots.release()
                    raise
                if received is None:
                    slots.release()
                    return
                tag, fd = received
                if tag != PROXY_TAG and tag not in direct:
                    os.close(fd)  # not a route this sandbox has
                    slots.release()
                    continue
                sock = _adopt(fd)
                if sock is None:
                    slots.release()
                    continue
                if tag == PROXY_TAG:
                    serving = self._serve_connection(sock, policy, on_decision)
                else:
                    serving = self._serve_direct(sock, direct[tag], on_decision)
                task = loop.create_task(serving, name="egress-connection")
                task.add_done_callback(lambda _task: slots.release())
                task.add_done_callback(functools.partial(_close_socket, sock))
                self._track(task)
        finally:
            self._channels.discard(channel)
            channel.close()

    async def _serve_connection(
        self, sock: socket.socket, policy: EgressPolicy, on_decision: DecisionCallback
    ) -> None:
        reader, writer = await asyncio.open_connection(sock=sock, limit=MAX_HEAD)
        writers = [writer]
        graceful = False
        try:
            request = await self._read_request(reader, writer)
            if request is None:
                graceful = True
                return
            pinned, status, reason = await self._decide(policy, request)
            on_decision(request.host, request.port, pinned is not None, reason)
            target = f"{_bracket(request.host)}:{request.port}"
            if pinned is None:
                text = (
                    f"egress to {target} is not allowed for this function"
                    if status == 403
                    else f"could not resolve {target}"
                )
                await _refuse(reader, writer, status, text)
                graceful = True
                return
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    asyncio.open_connection(
                        pinned, request.port, flags=socket.AI_NUMERICHOST, limit=_CHUNK
                    ),
                    self._connect_timeout,
                )
            except (OSError, TimeoutError):
                await _refuse(reader, writer, 502, f"could not connect to {target}")
                graceful = True
                return
            writers.append(up_writer)
            if request.tunnel:
                writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            else:
                up_writer.write(request.upstream_head)
            graceful = await self._relay(reader, writer, up_reader, up_writer)
        except Exception:
            _log.exception("egress connection failed")
        finally:
            await _shut(writers, graceful=graceful)

    async def _serve_direct(
        self, sock: socket.socket, target: tuple[str, int], on_decision: DecisionCallback
    ) -> None:
        """Relay raw bytes between ``sock`` and ``target``: no request, no policy."""
        host, port = target
        reader, writer = await asyncio.open_connection(sock=sock, limit=_CHUNK)
        writers = [writer]
        graceful = False
        try:
            on_decision(host, port, True, NODE_ENDPOINT)
            try:
                up_reader, up_writer = await asyncio.wait_for(
                    _connect_as_worker(host, port), self._connect_timeout
                )
            except (OSError, TimeoutError):
                return  # aborted: the client sees its connection fail, as if refused
            writers.append(up_writer)
            graceful = await self._relay(reader, writer, up_reader, up_writer)
        except Exception:
            _log.exception("direct egress connection failed")
        finally:
            await _shut(writers, graceful=graceful)

    async def _read_request(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> _Request | None:
        """Read and parse the head; answer 400 and return None if it is not proxyable."""
        try:
            head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), self._head_timeout)
        except asyncio.LimitOverrunError:
            await _refuse(reader, writer, 400, f"request head exceeds {MAX_HEAD} bytes")
            return None
        except (asyncio.IncompleteReadError, TimeoutError, OSError):
            return None  # the client left, or never finished a head: nothing to answer
        try:
            return _parse_head(head)
        except _BadRequest as exc:
            await _refuse(reader, writer, 400, str(exc))
            return None

    async def _decide(self, policy: EgressPolicy, request: _Request) -> tuple[str | None, int, str]:
        """Resolve (only names some rule admits) and ask the policy: (pinned, status, reason)."""
        host, port = request.host, request.port
        if _is_ip(host):
            addresses: list[str] = [host]
        elif policy.match(host, port) is None:
            addresses = []  # refused without a lookup: DNS is not a way out either
        else:
            addresses = await self._resolve(host, port)
            if not addresses:
                _, reason = policy.decide(host, port, ())
                return None, 502, reason
        pinned, reason = policy.decide(host, port, addresses)
        return pinned, 403, reason

    async def _resolve(self, host: str, port: int) -> list[str]:
        loop = asyncio.get_running_loop()
        try:
            infos = await asyncio.wait_for(
                loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP),
                self._connect_timeout,
            )
        except (OSError, TimeoutError, UnicodeError):
            return []
        return list(dict.fromkeys(str(info[4][0]) for info in infos))

    async def _relay(
        self,
        client_reader: asyncio.StreamReader,
        client_writer: asyncio.StreamWriter,
        up_reader: asyncio.StreamReader,
        up_writer: asyncio.StreamWriter,
    ) -> bool:
        """Pump both ways until both sides finish; False on an error or the idle timeout."""
        loop = asyncio.get_running_loop()
        activity = _Activity(loop)
        pumps = {
            loop.create_task(_pump(client_reader, up_writer, activity)),
            loop.create_task(_pump(up_reader, client_writer, activity)),
        }
        pending = set(pumps)
        try:
            while pending:
                remaining = activity.last + self._idle_timeout - loop.time()
                if remaining <= 0:
                    return False
                done, pending = await asyncio.wait(pending, timeout=remaining)
                if not all(task.result() for task in done):
                    return False
            return True
        finally:
            for task in pumps:
                task.cancel()
            await asyncio.gather(*pumps, return_exceptions=True)


async def _receive_fd(
    loop: asyncio.AbstractEventLoop, channel: socket.socket
) -> tuple[bytes, int] | None:
    """The next passed fd with its tag, or None at EOF; waits through the loop, never blocking."""
    while True:
        try:
            data, fds, _flags, _addr = socket.recv_fds(channel, 1, 4, _RECV_FLAGS)
        except (BlockingIOError, InterruptedError):
            waiter = loop.create_future()
            loop.add_reader(channel.fileno(), _wake, waiter)
            try:
                await waiter
            finally:
                loop.remove_reader(channel.fileno())
            continue
        except OSError:
            return None
        for extra in fds[1:]:
            os.close(extra)  # one connection per message; anything else is not ours to keep
        if fds:
            return data, fds[0]
        if not data:
            return None


def _wake(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_result(None)


def _direct_routes(
    direct: Mapping[bytes, tuple[str, int]] | None,
) -> dict[bytes, tuple[str, int]]:
    """Check and copy ``attach``'s ``direct`` map: one-byte tags other than the proxy's."""
    routes: dict[bytes, tuple[str, int]] = {}
    for tag, (host, port) in (direct or {}).items():
        if not isinstance(tag, bytes) or len(tag) != 1:
            raise ValueError(f"a direct tag is exactly one byte, not {tag!r}")
        if tag == PROXY_TAG:
            raise ValueError(f"{PROXY_TAG!r} is the proxy's tag, it cannot be direct")
        if not isinstance(host, str) or not host or not 1 <= int(port) <= 65535:
            raise ValueError(f"bad direct target for {tag!r}: {(host, port)!r}")
        routes[tag] = (host, int(port))
    return routes


def _adopt(fd: int) -> socket.socket | None:
    """Wrap a passed fd if it is a TCP socket; close it otherwise."""
    try:
        sock = socket.socket(fileno=fd)
    except OSError:
        os.close(fd)
        return None
    if sock.type != socket.SOCK_STREAM or sock.family not in (socket.AF_INET, socket.AF_INET6):
        sock.close()
        return None
    sock.setblocking(False)
    return sock


def _close_socket(sock: socket.socket, _task: asyncio.Task[None]) -> None:
    sock.close()


def _parse_head(head: bytes) -> _Request:
    lines = head[: -len(b"\r\n\r\n")].split(b"\r\n")
    try:
        method, target, version = lines[0].decode("ascii").split(" ")
    except (UnicodeDecodeError, ValueError):
        raise _BadRequest("malformed request line") from None
    if not _TOKEN.fullmatch(method.encode()) or version not in ("HTTP/1.1", "HTTP/1.0"):
        raise _BadRequest("malformed request line")
    if not all("!" <= ch <= "~" for ch in target):
        raise _BadRequest("malformed request target")
    headers = _parse_headers(lines[1:])
    if method == "CONNECT":
        host, port = _split_authority(target, default_port=None)
        return _Request(tunnel=True, host=host, port=port)
    if target[:7].lower() != "http://":
        raise _BadRequest("only CONNECT and absolute http:// requests are proxied")
    rest = target[7:]
    cut = min((i for i in (rest.find(c) for c in "/?#") if i >= 0), default=len(rest))
    authority, path = rest[:cut], rest[cut:].split("#", 1)[0]
    if "@" in authority:
        raise _BadRequest("credentials in proxied URLs are not supported")
    host, port = _split_authority(authority, default_port=80)
    if not path.startswith("/"):
        path = "/" + path
    host_header = _bracket(host) if port == 80 else f"{_bracket(host)}:{port}"
    out = [f"{method} {path} {version}".encode("ascii"), b"Host: " + host_header.encode("ascii")]
    out += [name + b": " + value for name, value in _end_to_end(headers)]
    out.append(b"Connection: close")
    return _Request(
        tunnel=False, host=host, port=port, upstream_head=b"\r\n".join(out) + b"\r\n\r\n"
    )


def _parse_headers(lines: list[bytes]) -> list[tuple[bytes, bytes]]:
    headers = []
    for line in lines:
        name, sep, value = line.partition(b":")
        if not sep or not _TOKEN.fullmatch(name) or _CTL.search(value):
            raise _BadRequest("malformed header line")
        headers.append((name, value.strip(b" \t")))
    return headers


def _end_to_end(headers: list[tuple[bytes, bytes]]) -> list[tuple[bytes, bytes]]:
    """Drop Host (rewritten from the URL) and hop-by-hop headers, incl. those Connection names."""
    named = {
        token.strip().lower()
        for name, value in headers
        if name.lower() in (b"connection", b"proxy-connection")
        for token in value.split(b",")
    } - _END_TO_END
    drop = _HOP_BY_HOP | named | {b"host"}
    return [(name, value) for name, value in headers if name.lower() not in drop]


def _split_authority(text: str, *, default_port: int | None) -> tuple[str, int]:
    """``host[:port]`` / ``[v6][:port]`` to a lower-case host and a port."""
    if text.startswith("["):
        end = text.find("]")
        try:
            ip = ipaddress.ip_address(text[1:end]) if end > 0 else None
        except ValueError:
            ip = None
        if ip is None or ip.version != 6 or "%" in text[:end]:
            raise _BadRequest("malformed IPv6 address")
        host, rest = str(ip), text[end + 1 :]
    else:
        host, sep, port_text = text.rpartition(":")
        host, rest = (host, ":" + port_text) if sep else (text, "")
        if ":" in host or not _HOST.fullmatch(host):
            raise _BadRequest("malformed host")
        host = host.lower()
    if not rest:
        if default_port is None:
            raise _BadRequest("a port is required")
        return host, default_port
    port_text = rest[1:]
    if not rest.startswith(":") or not _PORT.fullmatch(port_text):
        raise _BadRequest("malformed port")
    port = int(port_text)
    if not 1 <= port <= 65535:
        raise _BadRequest("port out of range")
    return host, port


def _is_ip(host: str) -> bool:
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _bracket(host: str) -> str:
    return f"[{host}]" if ":" in host else host


async def _pump(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, activity: _Activity
) -> bool:
    """Copy one direction to EOF, then half-close the other side; False on an error."""
    try:
        while data := await reader.read(_CHUNK):
            activity.touch()
            writer.write(data)
            await writer.drain()
        if writer.can_write_eof():
            writer.write_eof()
    except OSError:
        return False
    return True


async def _refuse(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, status: int, text: str
) -> None:
    """Answer with a short plain-text error, then drain so the client reads it before we close."""
    body = (text + "\n").encode("utf-8")
    head = (
        f"HTTP/1.1 {status} {_REASONS[status]}\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n"
        f"Content-Length: {len(body)}\r\n"
        "Connection: close\r\n\r\n"
    ).encode("ascii")
    with contextlib.suppress(OSError, TimeoutError):
        writer.write(head + body)
        await asyncio.wait_for(writer.drain(), _LINGER)
        writer.write_eof()
        async with asyncio.timeout(_LINGER):
            while await reader.read(_CHUNK):
                pass


async def _shut(writers: list[asyncio.StreamWriter], *, graceful: bool) -> None:
    """Close transports: flush first if the exchange ended cleanly, else (or if stuck) abort."""
    for writer in writers:
        if graceful:
            writer.close()
        else:
            writer.transport.abort()
    try:
        async with asyncio.timeout(_LINGER):
            await asyncio.gather(*(w.wait_closed() for w in writers), return_exceptions=True)
    except TimeoutError:
        pass
    finally:
        for writer in writers:
            writer.transport.abort()  # a no-op once closed; cuts a flush that is stuck
