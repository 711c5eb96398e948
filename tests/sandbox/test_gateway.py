"""Egress end to end on loopback: client -> forwarder -> (SCM_RIGHTS) -> gateway -> server."""

from __future__ import annotations

import asyncio
import os
import socket
import threading
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

import pytest

from ramparts.sandbox import forwarder
from ramparts.sandbox.egress import EgressPolicy, parse_rules
from ramparts.sandbox.gateway import EgressGateway

pytestmark = pytest.mark.timeout(60)
WAIT = 30.0


@dataclass
class Egress:
    """A running forwarder thread plus the gateway it feeds."""

    port: int
    gateway: EgressGateway
    channel_task: asyncio.Task[None]
    thread: threading.Thread
    decisions: list[tuple[str, int, bool, str]] = field(default_factory=list)
    tagged: dict[bytes, int] = field(default_factory=dict)  # tag -> port of its extra listener


@asynccontextmanager
async def egress(
    rules: list[str],
    forbidden: tuple[tuple[str, int], ...] = (),
    *,
    direct: dict[bytes, tuple[str, int]] | None = None,
    tags: tuple[bytes, ...] = (),
    **gateway_options: Any,
) -> AsyncIterator[Egress]:
    """The forwarder and gateway on loopback.

    Without ``tags`` the forwarder gets the proxy listener alone, in the single-socket
    form; with them, the list form with one more listener per tag.
    """
    listener = forwarder.bind_listener(0)
    extra = [(forwarder.bind_listener(0), tag) for tag in tags]
    listeners: socket.socket | list[tuple[socket.socket, bytes]] = (
        [(listener, forwarder.PROXY_TAG), *extra] if extra else listener
    )
    sandbox_end, host_end = socket.socketpair()
    thread = threading.Thread(target=forwarder.serve, args=(listeners, sandbox_end), daemon=True)
    thread.start()
    gateway = EgressGateway(**gateway_options)
    decisions: list[tuple[str, int, bool, str]] = []
    policy = EgressPolicy(parse_rules(rules), forbidden=forbidden)
    task = gateway.attach(host_end, policy, lambda *args: decisions.append(args), direct=direct)
    running = Egress(
        listener.getsockname()[1],
        gateway,
        task,
        thread,
        decisions,
        {tag: sock.getsockname()[1] for sock, tag in extra},
    )
    try:
        yield running
    finally:
        await gateway.close()  # closes the host end: the forwarder sees EOF and returns
        await asyncio.to_thread(thread.join, WAIT)
        assert not thread.is_alive()
        listener.close()
        for sock, _ in extra:
            sock.close()
        sandbox_end.close()


@asynccontextmanager
async def server(
    handler: Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]],
    host: str = "127.0.0.1",
) -> AsyncIterator[int]:
    srv = await asyncio.start_server(handler, host, 0)
    try:
        yield srv.sockets[0].getsockname()[1]
    finally:
        srv.close()
        await srv.wait_closed()


async def echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Echo until the client half-closes, then close."""
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    finally:
        writer.close()


async def http_echo(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    """Answer any request with the head it received, so tests can see the rewrite."""
    try:
        head = await reader.readuntil(b"\r\n\r\n")
        writer.write(
            b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n"
            + b"Content-Length: %d\r\nConnection: close\r\n\r\n" % len(head)
            + head
        )
        await writer.drain()
    finally:
        writer.close()


async def exchange(port: int, data: bytes) -> bytes:
    """Send ``data`` to the forwarder and read everything until it closes."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(data)
        await writer.drain()
        return await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()


def connect_head(target: str) -> bytes:
    return f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode()


async def tunnel_echo(port: int, target: str) -> bytes:
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(connect_head(target))
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
        assert head == b"HTTP/1.1 200 Connection established\r\n\r\n"
        writer.write(b"ping")
        assert await asyncio.wait_for(reader.readexactly(4), WAIT) == b"ping"
        writer.write(b" after half-close")
        writer.write_eof()  # the relay must keep the other direction open
        return b"ping" + await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()


def test_connect_is_relayed_both_ways() -> None:
    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port}"]) as eg:
            assert await tunnel_echo(eg.port, f"127.0.0.1:{port}") == b"ping after half-close"
            assert len(eg.decisions) == 1
            host, dport, allowed, reason = eg.decisions[0]
            assert (host, dport, allowed) == ("127.0.0.1", port, True)
            assert reason.startswith("allowed by rule 127.0.0.1:")

    asyncio.run(main())


def test_many_concurrent_tunnels_and_bulk_data() -> None:
    async def bulk(port: int, target: str, size: int) -> None:
        reader, writer = await asyncio.open_connection("127.0.0.1", port)
        try:
            writer.write(connect_head(target))
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
            payload = os.urandom(size)

            async def send() -> None:
                writer.write(payload)
                await writer.drain()
                writer.write_eof()

            sender = asyncio.create_task(send())
            received = await asyncio.wait_for(reader.read(-1), WAIT)
            await sender
            assert received == payload
        finally:
            writer.close()

    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port}"]) as eg:
            target = f"127.0.0.1:{port}"
            await bulk(eg.port, target, 4 * 1024 * 1024)
            await asyncio.gather(*(bulk(eg.port, target, 64 * 1024) for _ in range(32)))
            assert len(eg.decisions) == 33 and all(d[2] for d in eg.decisions)

    asyncio.run(main())


def test_connection_slots_are_released() -> None:
    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port}"], max_connections=1) as eg:
            for _ in range(3):
                assert await tunnel_echo(eg.port, f"127.0.0.1:{port}") == b"ping after half-close"
            answer = await exchange(eg.port, connect_head(f"127.0.0.1:{port + 1}"))
            assert answer.startswith(b"HTTP/1.1 403 ")

    asyncio.run(main())


def test_connect_to_ipv6_loopback() -> None:
    try:
        with socket.socket(socket.AF_INET6) as probe:
            probe.bind(("::1", 0))
    except OSError:
        pytest.skip("no IPv6 loopback")

    async def main() -> None:
        async with server(echo, "::1") as port, egress([f"[::1]:{port}"]) as eg:
            assert await tunnel_echo(eg.port, f"[::1]:{port}") == b"ping after half-close"
            assert eg.decisions == [("::1", port, True, f"allowed by rule [::1]:{port}")]

    asyncio.run(main())


def test_denied_destination_gets_403_and_is_audited() -> None:
    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port + 1}"]) as eg:
            answer = await exchange(eg.port, connect_head(f"127.0.0.1:{port}"))
            assert answer.startswith(b"HTTP/1.1 403 Forbidden\r\n")
            body = f"egress to 127.0.0.1:{port} is not allowed for this function\n"
            assert answer.endswith(body.encode())
            assert eg.decisions == [
                ("127.0.0.1", port, False, f"no egress rule allows 127.0.0.1:{port}")
            ]

    asyncio.run(main())


def test_name_resolving_to_loopback_is_refused_unless_named_literally() -> None:
    async def main() -> None:
        async with server(echo) as port:
            async with egress([f"localhost:{port}"]) as eg:
                answer = await exchange(eg.port, connect_head(f"localhost:{port}"))
                assert answer.startswith(b"HTTP/1.1 403 ")
                [(host, _, allowed, reason)] = eg.decisions
                assert (host, allowed) == ("localhost", False)
                assert "loopback" in reason
            async with egress([f"localhost:{port}", f"127.0.0.1:{port}"]) as eg:
                assert await tunnel_echo(eg.port, f"localhost:{port}") == b"ping after half-close"
                assert eg.decisions[0][2] is True

    asyncio.run(main())


def test_forbidden_listener_is_refused_even_with_an_explicit_rule() -> None:
    async def main() -> None:
        async with (
            server(echo) as port,
            egress([f"127.0.0.1:{port}"], forbidden=(("127.0.0.1", port),)) as eg,
        ):
            answer = await exchange(eg.port, connect_head(f"127.0.0.1:{port}"))
            assert answer.startswith(b"HTTP/1.1 403 ")
            [(_, _, allowed, reason)] = eg.decisions
            assert not allowed
            assert "reserved for the node" in reason

    asyncio.run(main())


def test_absolute_form_get_is_rewritten_to_origin_form() -> None:
    async def main() -> None:
        async with server(http_echo) as port, egress([f"127.0.0.1:{port}"]) as eg:
            request = (
                f"GET http://127.0.0.1:{port}/path?q=1 HTTP/1.1\r\n"
                "Host: somewhere-else.example\r\n"
                "Proxy-Connection: keep-alive\r\n"
                "Proxy-Authorization: Basic c2VjcmV0\r\n"
                "Connection: keep-alive, X-Hop\r\n"
                "X-Hop: 1\r\n"
                "X-Kept: yes\r\n\r\n"
            ).encode()
            answer = await exchange(eg.port, request)
            head, _, body = answer.partition(b"\r\n\r\n")
            assert head.startswith(b"HTTP/1.1 200 OK")
            assert (
                body
                == (
                    f"GET /path?q=1 HTTP/1.1\r\n"
                    f"Host: 127.0.0.1:{port}\r\n"
                    "X-Kept: yes\r\n"
                    "Connection: close\r\n\r\n"
                ).encode()
            )
            assert eg.decisions[0][:3] == ("127.0.0.1", port, True)

    asyncio.run(main())


def test_urllib_through_the_proxy(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("no_proxy", "NO_PROXY"):
        monkeypatch.delenv(name, raising=False)

    async def main() -> None:
        async with server(http_echo) as port, egress([f"127.0.0.1:{port}"]) as eg:
            proxy = urllib.request.ProxyHandler({"http": f"http://127.0.0.1:{eg.port}"})
            opener = urllib.request.build_opener(proxy)

            def fetch() -> tuple[int, bytes]:
                with opener.open(f"http://127.0.0.1:{port}/hello", timeout=WAIT) as response:
                    return response.status, response.read()

            status, body = await asyncio.to_thread(fetch)
            assert status == 200
            assert body.startswith(b"GET /hello HTTP/1.1\r\n")
            assert eg.decisions == [("127.0.0.1", port, True, f"allowed by rule 127.0.0.1:{port}")]

    asyncio.run(main())


@pytest.mark.parametrize(
    "request_bytes",
    [
        b"GET /origin-form HTTP/1.1\r\nHost: x\r\n\r\n",
        b"CONNECT 127.0.0.1 HTTP/1.1\r\n\r\n",
        b"CONNECT 2001:db8::1:443 HTTP/1.1\r\n\r\n",
        b"CONNECT 127.0.0.1:99999 HTTP/1.1\r\n\r\n",
        b"CONNECT bad host:443 HTTP/1.1\r\n\r\n",
        b"GET https://example.com/ HTTP/1.1\r\n\r\n",
        b"GET http://user:pw@example.com/ HTTP/1.1\r\n\r\n",
        b"GET http://example.com/ HTTP/2\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\n folded: header\r\n\r\n",
        b"CONNECT example.com:443 HTTP/1.1\r\nX-Big: " + b"a" * 20000 + b"\r\n\r\n",
    ],
)
def test_malformed_requests_get_400_and_no_decision(request_bytes: bytes) -> None:
    async def main() -> None:
        async with egress(["example.com:443"]) as eg:
            answer = await exchange(eg.port, request_bytes)
            assert answer.startswith(b"HTTP/1.1 400 Bad Request\r\n")
            assert eg.decisions == []

    asyncio.run(main())


def test_unadmitted_names_are_refused_without_a_lookup_and_failed_lookups_are_502() -> None:
    async def main() -> None:
        async with egress(["does-not-exist.invalid:443"]) as eg:
            answer = await exchange(eg.port, connect_head("other.invalid:443"))
            assert answer.startswith(b"HTTP/1.1 403 ")
            answer = await exchange(eg.port, connect_head("does-not-exist.invalid:443"))
            assert answer.startswith(b"HTTP/1.1 502 ")
            assert [d[2] for d in eg.decisions] == [False, False]
            assert eg.decisions[1][3] == "does-not-exist.invalid did not resolve to any address"

    asyncio.run(main())


def test_refused_connection_to_an_allowed_target_is_502() -> None:
    async def main() -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]  # bound, never listening: connect is refused
            async with egress([f"127.0.0.1:{port}"]) as eg:
                answer = await exchange(eg.port, connect_head(f"127.0.0.1:{port}"))
                assert answer.startswith(b"HTTP/1.1 502 Bad Gateway\r\n")
                assert eg.decisions[0][2] is True

    asyncio.run(main())


def test_idle_tunnels_are_closed() -> None:
    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port}"], idle_timeout=0.2) as eg:
            reader, writer = await asyncio.open_connection("127.0.0.1", eg.port)
            writer.write(connect_head(f"127.0.0.1:{port}"))
            assert (await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)).startswith(
                b"HTTP/1.1 200"
            )
            assert await asyncio.wait_for(reader.read(), WAIT) == b""
            writer.close()

    asyncio.run(main())


def test_close_ends_live_tunnels_and_the_channel_task() -> None:
    async def main() -> None:
        async with server(echo) as port, egress([f"127.0.0.1:{port}"]) as eg:
            reader, writer = await asyncio.open_connection("127.0.0.1", eg.port)
            writer.write(connect_head(f"127.0.0.1:{port}"))
            await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), WAIT)
            await eg.gateway.close()
            assert eg.channel_task.done()
            try:
                assert await asyncio.wait_for(reader.read(), WAIT) == b""
            except ConnectionResetError:
                pass
            writer.close()

    asyncio.run(main())


def test_channel_task_ends_at_eof_and_stray_fds_are_closed() -> None:
    async def main() -> None:
        sandbox_end, host_end = socket.socketpair()
        gateway = EgressGateway()
        task = gateway.attach(host_end, EgressPolicy(()), lambda *args: None)
        read_end, write_end = os.pipe()
        try:
            # a pipe is no TCP socket: the gateway must drop it, not serve it
            socket.send_fds(sandbox_end, [b"c"], [read_end])
            os.close(read_end)
            sandbox_end.close()
            await asyncio.wait_for(task, WAIT)
            with pytest.raises(BrokenPipeError):
                os.write(write_end, b"x")  # the gateway's copy of the read end is closed too
        finally:
            os.close(write_end)
            await gateway.close()

    asyncio.run(main())


def test_forwarder_returns_when_the_channel_closes() -> None:
    listener = forwarder.bind_listener(0)
    sandbox_end, host_end = socket.socketpair()
    thread = threading.Thread(target=forwarder.serve, args=(listener, sandbox_end), daemon=True)
    thread.start()
    with listener, sandbox_end:
        # a connection arrives as an fd on the host end, unread
        with socket.create_connection(listener.getsockname(), timeout=WAIT) as client:
            client.sendall(b"untouched")
            host_end.settimeout(WAIT)
            msg, fds, _, _ = socket.recv_fds(host_end, 1, 4)
            assert msg == b"c" and len(fds) == 1
            with socket.socket(fileno=fds[0]) as passed:
                passed.settimeout(WAIT)
                assert passed.recv(64) == b"untouched"
        host_end.close()
        thread.join(WAIT)
        assert not thread.is_alive()


def test_forwarder_returns_when_stop_fd_is_readable() -> None:
    listener = forwarder.bind_listener(0)
    sandbox_end, host_end = socket.socketpair()
    stop_read, stop_write = os.pipe()
    thread = threading.Thread(
        target=forwarder.serve, args=(listener, sandbox_end, stop_read), daemon=True
    )
    thread.start()
    try:
        os.write(stop_write, b"x")
        thread.join(WAIT)
        assert not thread.is_alive()
    finally:
        for sock in (listener, sandbox_end, host_end):
            sock.close()
        os.close(stop_read)
        os.close(stop_write)


def test_default_listener_address() -> None:
    assert forwarder.PROXY_PORT == 3128
    with forwarder.bind_listener(0) as listener:
        assert listener.getsockname()[0] == "127.0.0.1"
        assert listener.getsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR)


async def raw_echo(port: int, payload: bytes = b"raw bytes, no proxy head") -> bytes:
    """Send ``payload`` straight to ``port``, half-close, and read the reply to EOF."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        writer.write(payload[:4])
        assert await asyncio.wait_for(reader.readexactly(4), WAIT) == payload[:4]
        writer.write(payload[4:])
        writer.write_eof()  # the relay must keep the other direction open
        return payload[:4] + await asyncio.wait_for(reader.read(), WAIT)
    finally:
        writer.close()


def test_direct_tag_relays_raw_bytes_whatever_the_policy_says() -> None:
    async def main() -> None:
        async with (
            server(echo) as port,
            egress(
                [],  # nothing is allowed through the proxy ...
                forbidden=(("127.0.0.1", port),),  # ... and the node's port least of all
                direct={forwarder.NODE_TAG: ("127.0.0.1", port)},
                tags=(forwarder.NODE_TAG,),
            ) as eg,
        ):
            node_port = eg.tagged[forwarder.NODE_TAG]
            payload = b"GET /not-a-proxy-request HTTP/1.1\r\n\r\n" + os.urandom(256 * 1024)
            assert await raw_echo(node_port, payload) == payload
            assert await raw_echo(node_port) == b"raw bytes, no proxy head"
            assert eg.decisions == [("127.0.0.1", port, True, "node endpoint")] * 2
            # the same destination through the proxy is still refused
            answer = await exchange(eg.port, connect_head(f"127.0.0.1:{port}"))
            assert answer.startswith(b"HTTP/1.1 403 ")
            assert eg.decisions[2][2] is False

    asyncio.run(main())


def test_direct_target_that_refuses_closes_the_client() -> None:
    async def main() -> None:
        with socket.socket() as unused:
            unused.bind(("127.0.0.1", 0))
            port = unused.getsockname()[1]  # bound, never listening: connect is refused
            async with egress([], direct={b"n": ("127.0.0.1", port)}, tags=(b"n",)) as eg:
                try:
                    assert await exchange(eg.tagged[b"n"], b"hello") == b""
                except ConnectionResetError:
                    pass
                assert eg.decisions == [("127.0.0.1", port, True, "node endpoint")]

    asyncio.run(main())


def test_unknown_tag_is_closed_unread() -> None:
    async def main() -> None:
        async with (
            server(echo) as port,
            egress(
                [f"127.0.0.1:{port}"],
                direct={b"n": ("127.0.0.1", port)},
                tags=(b"x",),  # the forwarder passes it, the gateway has no route for it
            ) as eg,
        ):
            try:
                answer = await exchange(eg.tagged[b"x"], connect_head(f"127.0.0.1:{port}"))
            except ConnectionResetError:
                answer = b""
            assert answer == b""
            assert eg.decisions == []
            # the channel is still served
            assert await tunnel_echo(eg.port, f"127.0.0.1:{port}") == b"ping after half-close"

    asyncio.run(main())


def test_unknown_tag_fd_is_closed_by_the_gateway() -> None:
    async def main() -> None:
        sandbox_end, host_end = socket.socketpair()
        gateway = EgressGateway()
        task = gateway.attach(
            host_end, EgressPolicy(()), lambda *args: None, direct={b"n": ("127.0.0.1", 9)}
        )
        read_end, write_end = os.pipe()
        try:
            socket.send_fds(sandbox_end, [b"?"], [read_end])
            os.close(read_end)
            sandbox_end.close()
            await asyncio.wait_for(task, WAIT)
            with pytest.raises(BrokenPipeError):
                os.write(write_end, b"x")  # the gateway's copy of the read end is closed too
        finally:
            os.close(write_end)
            await gateway.close()

    asyncio.run(main())


def test_old_single_listener_form_is_the_proxy() -> None:
    async def main() -> None:
        # no tags: the forwarder is called as serve(listener, channel)
        async with (
            server(echo) as port,
            egress([f"127.0.0.1:{port}"], direct={b"n": ("127.0.0.1", port)}) as eg,
        ):
            assert eg.tagged == {}
            assert await tunnel_echo(eg.port, f"127.0.0.1:{port}") == b"ping after half-close"
            assert eg.decisions[0][3] == f"allowed by rule 127.0.0.1:{port}"

    asyncio.run(main())


def test_proxy_and_direct_connections_mix_over_one_channel() -> None:
    async def main() -> None:
        async with (
            server(echo) as node_port,
            server(echo) as port,
            egress(
                [f"127.0.0.1:{port}"],
                direct={forwarder.NODE_TAG: ("127.0.0.1", node_port)},
                tags=(forwarder.NODE_TAG,),
                max_connections=8,
            ) as eg,
        ):
            direct_port = eg.tagged[forwarder.NODE_TAG]
            payloads = [os.urandom(32 * 1024) for _ in range(12)]
            results = await asyncio.gather(
                *(tunnel_echo(eg.port, f"127.0.0.1:{port}") for _ in range(12)),
                *(raw_echo(direct_port, payload) for payload in payloads),
                exchange(eg.port, connect_head(f"127.0.0.1:{node_port}")),
            )
            assert results[:12] == [b"ping after half-close"] * 12
            assert results[12:24] == payloads
            assert results[24].startswith(b"HTTP/1.1 403 ")
            assert len(eg.decisions) == 25
            assert eg.decisions.count(("127.0.0.1", node_port, True, "node endpoint")) == 12
            assert (
                eg.decisions.count(
                    ("127.0.0.1", node_port, False, f"no egress rule allows 127.0.0.1:{node_port}")
                )
                == 1
            )
            assert sum(1 for d in eg.decisions if d[:3] == ("127.0.0.1", port, True)) == 12

    asyncio.run(main())


def test_direct_and_proxy_connections_share_the_connection_slots() -> None:
    async def main() -> None:
        async with (
            server(echo) as port,
            egress(
                [f"127.0.0.1:{port}"],
                direct={b"n": ("127.0.0.1", port)},
                tags=(b"n",),
                max_connections=1,
            ) as eg,
        ):
            reader, writer = await asyncio.open_connection("127.0.0.1", eg.tagged[b"n"])
            writer.write(b"held")
            assert await asyncio.wait_for(reader.readexactly(4), WAIT) == b"held"
            # the only slot is taken: a proxy connection waits for it
            waiting = asyncio.create_task(tunnel_echo(eg.port, f"127.0.0.1:{port}"))
            await asyncio.sleep(0.3)
            assert not waiting.done()
            assert len(eg.decisions) == 1
            writer.write_eof()
            assert await asyncio.wait_for(reader.read(), WAIT) == b""
            writer.close()
            assert await asyncio.wait_for(waiting, WAIT) == b"ping after half-close"
            for _ in range(3):
                assert await raw_echo(eg.tagged[b"n"]) == b"raw bytes, no proxy head"

    asyncio.run(main())


def test_forwarder_passes_each_listener_tag() -> None:
    proxy, node = forwarder.bind_listener(0), forwarder.bind_listener(0)
    sandbox_end, host_end = socket.socketpair()
    thread = threading.Thread(
        target=forwarder.serve,
        args=([(proxy, forwarder.PROXY_TAG), (node, forwarder.NODE_TAG)], sandbox_end),
        daemon=True,
    )
    thread.start()
    with proxy, node, sandbox_end:
        host_end.settimeout(WAIT)
        for listener, tag in ((node, b"n"), (proxy, b"c"), (node, b"n")):
            with socket.create_connection(listener.getsockname(), timeout=WAIT) as client:
                client.sendall(b"untouched")
                msg, fds, _, _ = socket.recv_fds(host_end, 1, 4)
                assert msg == tag and len(fds) == 1
                with socket.socket(fileno=fds[0]) as passed:
                    passed.settimeout(WAIT)
                    assert passed.recv(64) == b"untouched"
        host_end.close()
        thread.join(WAIT)
        assert not thread.is_alive()


@pytest.mark.parametrize(
    "listeners_of",
    [
        lambda sock: [],
        lambda sock: [(sock, b"")],
        lambda sock: [(sock, b"nn")],
        lambda sock: [(sock.fileno(), b"n")],
    ],
)
def test_forwarder_refuses_bad_listener_lists(listeners_of: Callable[[Any], Any]) -> None:
    with forwarder.bind_listener(0) as listener:
        a, b = socket.socketpair()
        with a, b, pytest.raises((ValueError, TypeError)):
            forwarder.serve(listeners_of(listener), a)


@pytest.mark.parametrize(
    "direct",
    [
        {b"c": ("127.0.0.1", 8080)},
        {b"": ("127.0.0.1", 8080)},
        {b"no": ("127.0.0.1", 8080)},
        {"n": ("127.0.0.1", 8080)},
        {b"n": ("127.0.0.1", 0)},
        {b"n": ("", 8080)},
    ],
)
def test_attach_refuses_bad_direct_routes(direct: Any) -> None:
    async def main() -> None:
        gateway = EgressGateway()
        a, b = socket.socketpair()
        with a, b, pytest.raises(ValueError):
            gateway.attach(b, EgressPolicy(()), lambda *args: None, direct=direct)
        await gateway.close()

    asyncio.run(main())


def test_listener_on_another_loopback_port_and_address() -> None:
    with forwarder.bind_listener(0, "127.0.0.1") as listener:
        assert listener.family == socket.AF_INET
        assert listener.getsockname()[0] == "127.0.0.1"
    try:
        listener6 = forwarder.bind_listener(0, "::1")
    except OSError:
        pytest.skip("no IPv6 loopback")
    with listener6:
        assert listener6.family == socket.AF_INET6
        assert listener6.getsockname()[0] == "::1"
