"""The in-sandbox half of egress: hand every proxy connection to the host, unread.

Runs inside the sandbox (in the small keeper process next to the workers), so
it is stdlib only and self-contained.  A sandbox's network namespace has
nothing but loopback; handlers get ``HTTPS_PROXY``/``HTTP_PROXY`` pointing at
``127.0.0.1:3128``, where :func:`serve` accepts connections and passes each
socket over a Unix channel (``SCM_RIGHTS``) to the node's egress gateway.

The forwarder can serve several listeners at once, each with a one-byte *tag*
sent as the data byte next to the passed fd: ``b"c"`` (:data:`PROXY_TAG`) for
the proxy, others (e.g. :data:`NODE_TAG` on the port of the node's own public
endpoint) for sockets the host relays straight to a fixed destination.

Deliberately dumb: it never reads, parses or answers client bytes, so a
hostile handler has nothing here to exploit -- all policy, DNS and relaying
happen on the host.  It never raises on a single bad connection either:
losing one connection is better than losing the function's only way out.
"""

from __future__ import annotations

import errno
import select
import selectors
import socket
import time
from collections.abc import Sequence

PROXY_PORT = 3128
PROXY_TAG = b"c"  # a proxy connection: the host parses a CONNECT or absolute-form request
NODE_TAG = b"n"  # a connection to the node's own endpoint: the host relays it as is
_BACKLOG = 128
_SEND_FLAGS = socket.MSG_DONTWAIT | getattr(socket, "MSG_NOSIGNAL", 0)
_SEND_WAIT = 10.0  # seconds to wait for room on a congested channel before dropping
_RESOURCE_ERRNOS = {errno.EMFILE, errno.ENFILE, errno.ENOBUFS, errno.ENOMEM}


def bind_listener(port: int = PROXY_PORT, host: str = "127.0.0.1") -> socket.socket:
    """A listener on loopback ``host:port`` (port 0 picks a free one, for tests).

    ``host`` is an IP literal: ``127.0.0.1`` by default, ``::1`` for IPv6.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind((host, port))
        sock.listen(_BACKLOG)
    except BaseException:
        sock.close()
        raise
    return sock


def serve(
    listeners: socket.socket | Sequence[tuple[socket.socket, bytes]],
    channel: socket.socket,
    stop_fd: int | None = None,
) -> None:
    """Pass accepted connections over ``channel`` until told to stop.

    ``listeners`` is one listening socket (its connections are tagged
    :data:`PROXY_TAG`) or a sequence of ``(listener, tag)`` pairs, each tag a
    single byte sent with every connection that listener accepts.

    Returns when ``stop_fd`` (a pidfd of the process served) becomes
    readable, or when the host closes or breaks the channel.  The caller
    keeps ownership of the listeners and ``channel``.
    """
    pairs = _tagged(listeners)
    with selectors.DefaultSelector() as selector:
        for listener, tag in pairs:
            listener.setblocking(False)
            selector.register(listener, selectors.EVENT_READ, (listener, tag))
        selector.register(channel, selectors.EVENT_READ, "channel")
        if stop_fd is not None:
            selector.register(stop_fd, selectors.EVENT_READ, "stop")
        while True:
            for key, _ in selector.select():
                if key.data == "stop":
                    return
                if key.data == "channel":
                    if _channel_closed(channel):
                        return
                    continue
                listener, tag = key.data
                if not _accept_all(listener, tag, channel, stop_fd):
                    return


def _tagged(
    listeners: socket.socket | Sequence[tuple[socket.socket, bytes]],
) -> list[tuple[socket.socket, bytes]]:
    """The ``(listener, tag)`` pairs to serve; a bare socket is the proxy listener."""
    if isinstance(listeners, socket.socket):
        return [(listeners, PROXY_TAG)]
    pairs = [(listener, bytes(tag)) for listener, tag in listeners]
    if not pairs:
        raise ValueError("no listener to serve")
    for listener, tag in pairs:
        if not isinstance(listener, socket.socket):
            raise TypeError(f"not a socket: {listener!r}")
        if len(tag) != 1:
            raise ValueError(f"a listener tag is exactly one byte, not {tag!r}")
    return pairs


def _channel_closed(channel: socket.socket) -> bool:
    """The host never writes: readability means EOF or an error (stray bytes are ignored)."""
    try:
        data = channel.recv(4096, socket.MSG_DONTWAIT)
    except (BlockingIOError, InterruptedError):
        return False
    except OSError:
        return True
    return not data


def _accept_all(
    listener: socket.socket, tag: bytes, channel: socket.socket, stop_fd: int | None
) -> bool:
    """Accept and pass what is pending, tagged ``tag``; False once the channel is gone."""
    for _ in range(_BACKLOG):
        try:
            conn, _addr = listener.accept()
        except (BlockingIOError, InterruptedError):
            return True
        except OSError as exc:
            if exc.errno in _RESOURCE_ERRNOS:
                time.sleep(0.05)  # out of fds/memory: back off instead of spinning
            return True
        with conn:
            if not _pass(channel, conn, tag, stop_fd):
                return False
    return True


def _pass(channel: socket.socket, conn: socket.socket, tag: bytes, stop_fd: int | None) -> bool:
    """Send ``conn``'s fd to the host with ``tag``; False if the channel is closed or broken."""
    deadline = time.monotonic() + _SEND_WAIT
    while True:
        try:
            socket.send_fds(channel, [tag], [conn.fileno()], _SEND_FLAGS)
            return True
        except (BlockingIOError, InterruptedError):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                return True  # the host is not keeping up: drop this one connection
            poller = select.poll()  # not select.select: fds past FD_SETSIZE must work too
            poller.register(channel, select.POLLOUT)
            if stop_fd is not None:
                poller.register(stop_fd, select.POLLIN)
            try:
                events = poller.poll(remaining * 1000)
            except OSError:
                return False
            if any(fd == stop_fd and mask & select.POLLIN for fd, mask in events):
                return False
        except (BrokenPipeError, ConnectionError):
            return False
        except OSError as exc:
            if exc.errno in (errno.EBADF, errno.ENOTCONN, errno.ENOTSOCK):
                return False
            return True  # e.g. ETOOMANYREFS: drop this connection, keep serving
