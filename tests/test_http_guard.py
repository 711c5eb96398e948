"""Connection guards of both listeners, attacked with raw sockets against a real node.

Slow and large requests: header bytes and count are bounded, idle and
slow-header connections are timed out, one client address holds a bounded
number of connections, and a gateway flood leaves file descriptors for the
control API.
"""

from __future__ import annotations

import resource
import socket
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from ramparts.http_guard import CONTROL_MAX_PER_CLIENT, MAX_PIPELINED
from tests.conftest import RunningNode

PER_CLIENT = 8


@pytest.fixture(scope="module")
def short(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node with short header and idle timeouts."""
    base = tmp_path_factory.mktemp("guard-short")
    running = RunningNode(
        base / "data",
        {
            "RAMPARTS_HEADER_TIMEOUT": "2",
            "RAMPARTS_IDLE_TIMEOUT": "2",
            "RAMPARTS_BODY_TIMEOUT": "2",
        },
    )
    running.start()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def capped(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    """A node with a small per-client cap and 512 file descriptors in all."""

    def low_fd_limit() -> None:  # the soft limit: the sandbox sets workers' own below the hard
        resource.setrlimit(
            resource.RLIMIT_NOFILE, (512, resource.getrlimit(resource.RLIMIT_NOFILE)[1])
        )

    class CappedNode(RunningNode):
        def command(self) -> list[str]:
            return [*super().command(), "--max-connections-per-client", str(PER_CLIENT)]

    base = tmp_path_factory.mktemp("guard-capped")
    running = CappedNode(base / "data", {"RAMPARTS_IDLE_TIMEOUT": "600"})
    running.start(preexec_fn=low_fd_limit)
    try:
        yield running
    finally:
        running.close()


def _connect(port: int, source: str = "127.0.0.1") -> socket.socket:
    sock = socket.create_connection(("127.0.0.1", port), timeout=60, source_address=(source, 0))
    return sock


def _until_closed(sock: socket.socket) -> bytes:
    """Everything the server sends until it closes the connection (60 s at most)."""
    out = b""
    sock.settimeout(60)
    try:
        while chunk := sock.recv(65536):
            out += chunk
    except ConnectionResetError:
        pass
    return out


def _rss_kb(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1])
    raise AssertionError("no VmRSS")


def _answers(sock: socket.socket) -> bool:
    """Whether a request on this connection gets an HTTP response (keeping it open)."""
    data = b""
    try:
        sock.sendall(b"GET /nothing-here HTTP/1.1\r\nHost: g\r\n\r\n")
        while b"\r\n\r\n" not in data:  # the whole response, so none of it is left over
            if not (chunk := sock.recv(65536)):
                return False
            data += chunk
        head, _, body = data.partition(b"\r\n\r\n")
        length = int(head.lower().split(b"content-length:")[1].split(b"\r\n")[0])
        while len(body) < length:
            if not (chunk := sock.recv(65536)):
                return False
            body += chunk
    except OSError:
        return False
    return data.startswith(b"HTTP/1.1 404")


def _eventually_answers(port: int, source: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        with _connect(port, source) as sock:
            if _answers(sock):
                return
        assert time.monotonic() < deadline, f"{source} is still refused after 30 s"
        time.sleep(0.2)


# -- header size and count ----------------------------------------------------------------------
def test_oversized_header_is_431(short: RunningNode) -> None:
    for port in (short.port, short.admin_port):
        with _connect(port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
            out = _until_closed(sock)
        assert out.startswith(b"HTTP/1.1 431"), out[:200]
        assert b'"code":"header_too_large"' in out


def test_the_gateways_431s_are_audited_aggregated(short: RunningNode) -> None:
    """adv-dos F5: the HTTP layer's refusals wrote no audit record; now one per group and second."""
    flood = 40
    for _ in range(flood):
        with _connect(short.port) as sock:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\nX-Big: " + b"a" * 20_000 + b"\r\n\r\n")
            assert _until_closed(sock).startswith(b"HTTP/1.1 431")
    deadline = time.monotonic() + 30
    while True:
        found = [
            e for e in short.audit()
            if e["kind"] == "gateway.http" and e["detail"]["reason"] == "header_too_large"
        ]
        total = sum(e["detail"]["count"] for e in found)
        if total >= flood or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert total >= flood  # other tests of this module may add theirs
    assert len(found) < total
    first = min(found, key=lambda e: e["seq"])
    assert first["decision"] == "deny" and first["principal"] == "ip:127.0.0.1"
    assert first["resource"] == f"gateway:{short.port}" and first["detail"]["status"] == 431


def test_too_many_headers_is_431(short: RunningNode) -> None:
    lines = b"".join(b"X-H%d: v\r\n" % i for i in range(150))
    with _connect(short.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\n" + lines + b"\r\n")
        out = _until_closed(sock)
    assert out.startswith(b"HTTP/1.1 431"), out[:200]
    assert b'"code":"too_many_headers"' in out


def test_unfinished_huge_headers_are_cut_off_without_memory_growth(short: RunningNode) -> None:
    assert short.proc is not None
    before = _rss_kb(short.proc.pid)
    socks = [_connect(short.port) for _ in range(20)]
    try:
        for sock in socks:
            sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\nX-Big: ")
        chunk = b"a" * (256 * 1024)
        for sock in socks:
            try:
                for _ in range(20):  # 5 MiB each, 100 MiB in all, never finished
                    sock.sendall(chunk)
            except OSError:
                pass  # refused and closed: what we want
        grown = (_rss_kb(short.proc.pid) - before) // 1024
        assert grown < 40, f"node grew by {grown} MiB holding unfinished headers"
        for sock in socks:
            out = _until_closed(sock)
            assert out == b"" or out.startswith(b"HTTP/1.1 431"), out[:200]
    finally:
        for sock in socks:
            sock.close()
    assert short.control.get("/v1/status").status_code == 200


def test_control_character_in_header_is_a_clean_json_400(short: RunningNode) -> None:
    with _connect(short.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\nX-Odd: a\x0bb\r\n\r\n")
        out = _until_closed(sock)
    assert out.startswith(b"HTTP/1.1 400"), out[:200]
    assert b'"code":"bad_request"' in out
    assert "Traceback" not in short.log_text()


# -- timeouts -------------------------------------------------------------------------------------
def test_silent_connection_is_closed(short: RunningNode) -> None:
    for port in (short.port, short.admin_port):
        with _connect(port) as sock:
            assert _until_closed(sock) == b""  # the server hung up (a timeout raises)


def test_idle_keep_alive_connection_is_closed(short: RunningNode) -> None:
    with _connect(short.port) as sock:
        assert _answers(sock)
        assert _until_closed(sock) == b""


def test_slow_header_client_is_disconnected(short: RunningNode) -> None:
    with _connect(short.port) as sock:
        sock.sendall(b"GET / HTTP/1.1\r\nHost: g\r\n")
        sock.settimeout(0.3)
        out = b""
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                sock.sendall(b"X")  # one header byte at a time, never finishing
                chunk = sock.recv(65536)
            except TimeoutError:
                continue
            except OSError:
                break
            if not chunk:
                break
            out += chunk
        else:
            raise AssertionError("a slow-header client kept its connection for 60 s")
    assert out == b"" or out.startswith(b"HTTP/1.1 408"), out[:200]


# -- connection caps ------------------------------------------------------------------------------
def test_per_client_connection_cap(capped: RunningNode) -> None:
    held = [_connect(capped.port) for _ in range(PER_CLIENT)]
    try:
        assert all(_answers(s) for s in held)
        with _connect(capped.port) as extra:
            out = _until_closed(extra)
        assert out.startswith(b"HTTP/1.1 503"), out[:200]
        assert b'"code":"too_many_connections"' in out
        with _connect(capped.port, "127.0.0.2") as other:  # another client is still served
            assert _answers(other)
        with httpx.Client(base_url=str(capped.control.base_url), timeout=60) as fresh:
            assert fresh.get("/healthz").status_code == 200
    finally:
        for s in held:
            s.close()
    _eventually_answers(capped.port, "127.0.0.1")  # the slots are given back


def test_gateway_flood_leaves_the_control_api_reachable(capped: RunningNode) -> None:
    held: list[socket.socket] = []
    try:
        for i in range(600 // PER_CLIENT):  # 600 connections, more than the node's 512 fds
            for _ in range(PER_CLIENT):
                try:
                    held.append(_connect(capped.port, f"127.0.1.{i + 1}"))
                except OSError:
                    pass
        with httpx.Client(base_url=str(capped.control.base_url), timeout=60) as fresh:
            status = fresh.get("/v1/status", headers=dict(capped.control.headers))
        assert status.status_code == 200
        assert capped.proc is not None and capped.proc.poll() is None
    finally:
        for s in held:
            s.close()
    _eventually_answers(capped.port, "127.0.2.1")  # and the gateway recovers


def _send_until_refused(sock: socket.socket, chunk: bytes, times: int) -> None:
    try:
        for _ in range(times):
            sock.sendall(chunk)
    except OSError:
        pass  # refused and closed: what we want


def test_an_endless_chunked_trailer_is_cut_off(short: RunningNode) -> None:
    assert short.proc is not None
    before = _rss_kb(short.proc.pid)
    for port in (short.port, short.admin_port):
        with _connect(port) as sock:
            sock.sendall(
                b"POST /nowhere HTTP/1.1\r\nHost: g\r\nTransfer-Encoding: chunked\r\n\r\n"
                b"2\r\nok\r\n0\r\nT: "
            )
            _send_until_refused(sock, b"a" * (256 * 1024), 80)  # 20 MiB of one trailer field
            out = _until_closed(sock)
        assert b"trailer_too_large" in out or out == b"" or b"HTTP/1.1 4" in out, out[:300]
    grown = (_rss_kb(short.proc.pid) - before) // 1024
    assert grown < 40, f"node grew by {grown} MiB holding a trailer"
    assert short.control.get("/v1/status").status_code == 200


def test_a_client_that_pipelines_and_never_reads_is_closed(short: RunningNode) -> None:
    assert short.proc is not None
    before = _rss_kb(short.proc.pid)
    for port in (short.port, short.admin_port):
        with _connect(port) as sock:
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
            _send_until_refused(sock, b"GET /nowhere HTTP/1.1\r\nHost: g\r\n\r\n" * 5000, 20)
            out = _until_closed(sock)
        answered = out.count(b"HTTP/1.1 ")
        assert answered <= MAX_PIPELINED + 2, answered
    grown = (_rss_kb(short.proc.pid) - before) // 1024
    assert grown < 40, f"node grew by {grown} MiB queueing pipelined requests"


def test_a_stalled_body_is_timed_out(short: RunningNode) -> None:
    for port in (short.port, short.admin_port):
        with _connect(port) as sock:
            sock.sendall(b"POST /v1/deploy HTTP/1.1\r\nHost: g\r\nContent-Length: 100\r\n\r\nab")
            out = _until_closed(sock)
        # An early answer (404, 401) may come first; the connection still ends with the 408.
        assert b"HTTP/1.1 408" in out and b'"code":"body_timeout"' in out, out[:300]


def test_one_address_cannot_fill_the_control_api(tmp_path: Path) -> None:
    node = RunningNode(tmp_path / "data", {"RAMPARTS_IDLE_TIMEOUT": "600"}).start()
    held: list[socket.socket] = []
    try:
        for _ in range(CONTROL_MAX_PER_CLIENT):
            held.append(_connect(node.admin_port, "127.0.0.5"))
        with _connect(node.admin_port, "127.0.0.5") as extra:
            out = _until_closed(extra)
        assert out.startswith(b"HTTP/1.1 503") and b"too_many_connections" in out, out[:200]
        assert node.control.get("/v1/status").status_code == 200
    finally:
        for sock in held:
            sock.close()
        node.close()
