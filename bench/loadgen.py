"""Load generators for bench/run.py: wrk when it is on PATH, else a keep-alive asyncio client.

Both return a ``LoadResult`` (requests/s and p50/p99 latency in ms). Every run is bounded in
time (``duration``) and the Python client also in count (``max_requests``). Traffic only ever
goes to the URL it is given, which bench/run.py builds on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import re
import shutil
import subprocess
import time
from dataclasses import dataclass
from urllib.parse import urlsplit


@dataclass
class LoadResult:
    rps: float
    p50_ms: float
    p99_ms: float
    requests: int
    errors: int  # non-2xx responses, socket errors, timeouts
    seconds: float


def wrk_path() -> str | None:
    return shutil.which("wrk")


def percentile(sorted_values: list[float], q: float) -> float:
    """Nearest-rank percentile of an ascending list (q in 0..100)."""
    if not sorted_values:
        return float("nan")
    rank = max(1, min(len(sorted_values), round(q / 100.0 * len(sorted_values) + 0.5)))
    return sorted_values[rank - 1]


# -- wrk -----------------------------------------------------------------------------------------
_UNITS_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _wrk_ms(text: str) -> float:
    m = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text.strip())
    if not m:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(m.group(1)) * _UNITS_MS[m.group(2)]


def parse_wrk(output: str) -> LoadResult:
    def grab(pattern: str) -> re.Match[str]:
        m = re.search(pattern, output, re.MULTILINE)
        if not m:
            raise ValueError(f"wrk output lacks {pattern!r}:\n{output}")
        return m

    rps = float(grab(r"^Requests/sec:\s+([\d.]+)").group(1))
    p50 = _wrk_ms(grab(r"^\s+50%\s+(\S+)").group(1))
    p99 = _wrk_ms(grab(r"^\s+99%\s+(\S+)").group(1))
    done = grab(r"^\s+(\d+) requests in ([\d.]+)(us|ms|s|m)")
    requests = int(done.group(1))
    seconds = _wrk_ms(done.group(2) + done.group(3)) / 1000.0
    errors = 0
    m = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", output)
    if m:
        errors += int(m.group(1))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    if m:
        errors += sum(int(g) for g in m.groups())
    return LoadResult(rps, p50, p99, requests, errors, seconds)


def run_wrk(url: str, *, duration: float, connections: int, threads: int = 1) -> LoadResult:
    exe = wrk_path()
    if exe is None:
        raise RuntimeError("wrk is not on PATH")
    cmd = [exe, f"-t{threads}", f"-c{connections}", f"-d{max(1, round(duration))}s",
           "--timeout", "5s", "--latency", url]
    out = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 30, check=True)
    return parse_wrk(out.stdout)


# -- Python client -------------------------------------------------------------------------------
class _Stats:
    def __init__(self, max_requests: int) -> None:
        self.left = max_requests
        self.latencies: list[float] = []
        self.errors = 0


async def _conn_loop(host: str, port: int, request: bytes, deadline: float,
                     stats: _Stats) -> None:
    clock = time.perf_counter
    reader = writer = None
    try:
        while stats.left > 0 and clock() < deadline:
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    stats.errors += 1
                    await asyncio.sleep(0.01)
                    continue
            stats.left -= 1
            t0 = clock()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                lower = head.lower()
                i = lower.find(b"\r\ncontent-length:")
                if i < 0:
                    raise ValueError("response without content-length")
                j = lower.index(b"\r\n", i + 2)
                await reader.readexactly(int(lower[i + 17:j]))
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                stats.errors += 1
                writer.close()
                writer = None
                continue
            stats.latencies.append(clock() - t0)
            if not 200 <= status < 400:
                stats.errors += 1
            if b"\r\nconnection: close" in lower:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def _run_python(url: str, duration: float, connections: int,
                      max_requests: int) -> LoadResult:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path or "/"
    request = (f"GET {path} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               "User-Agent: ramparts-bench\r\nAccept: */*\r\n\r\n").encode()
    stats = _Stats(max_requests)
    started = time.perf_counter()
    deadline = started + duration
    tasks = [asyncio.ensure_future(_conn_loop(host, port, request, deadline, stats))
             for _ in range(connections)]
    try:
        # Hard bound: a stuck server cannot hold the benchmark past duration + 10 s.
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 10)
    except TimeoutError:
        stats.errors += 1
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies)
    return LoadResult(rps=len(lat) / elapsed if elapsed > 0 else 0.0,
                      p50_ms=percentile(lat, 50) * 1000, p99_ms=percentile(lat, 99) * 1000,
                      requests=len(lat), errors=stats.errors, seconds=elapsed)


def run_python(url: str, *, duration: float, connections: int,
               max_requests: int = 5_000_000) -> LoadResult:
    try:
        import uvloop
    except ImportError:
        return asyncio.run(_run_python(url, duration, connections, max_requests))
    return uvloop.run(_run_python(url, duration, connections, max_requests))


def run_load(kind: str, url: str, *, duration: float, connections: int) -> LoadResult:
    if kind == "wrk":
        return run_wrk(url, duration=duration, connections=connections)
    return run_python(url, duration=duration, connections=connections)


# -- Python client with any request, optionally paced (bench/dos_bench.py) -----------------------
async def _request_loop(host: str, port: int, request: bytes, deadline: float, stats: _Stats,
                        statuses: dict[int, int], interval: float | None) -> None:
    """``_conn_loop`` for a prebuilt request (method, headers, body), counting statuses.

    With ``interval`` the connection sends one request per interval (an open-loop,
    paced sender: a flood at a set rate); without, as fast as answers come back.
    """
    clock = time.perf_counter
    reader = writer = None
    next_at = clock()
    try:
        while stats.left > 0 and clock() < deadline:
            if interval is not None:
                delay = next_at - clock()
                if delay > 0:
                    await asyncio.sleep(delay)
                next_at += interval
            if writer is None:
                try:
                    reader, writer = await asyncio.open_connection(host, port)
                except OSError:
                    stats.errors += 1
                    await asyncio.sleep(0.01)
                    continue
            stats.left -= 1
            t0 = clock()
            try:
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head[9:12])
                lower = head.lower()
                i = lower.find(b"\r\ncontent-length:")
                if i < 0:
                    raise ValueError("response without content-length")
                j = lower.index(b"\r\n", i + 2)
                await reader.readexactly(int(lower[i + 17:j]))
            except (OSError, ValueError, asyncio.IncompleteReadError, asyncio.LimitOverrunError):
                stats.errors += 1
                writer.close()
                writer = None
                continue
            statuses[status] = statuses.get(status, 0) + 1
            if 200 <= status < 400:
                stats.latencies.append(clock() - t0)
            else:
                stats.errors += 1
            if b"\r\nconnection: close" in lower:
                writer.close()
                writer = None
    finally:
        if writer is not None:
            writer.close()


async def _run_requests(url: str, method: str, headers: dict[str, str], body: bytes,
                        duration: float, connections: int, rate: float | None,
                        max_requests: int) -> tuple[LoadResult, dict[int, int]]:
    parts = urlsplit(url)
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"{method} {parts.path or '/'} HTTP/1.1\r\nHost: {host}:{port}\r\n"
               f"User-Agent: ramparts-bench\r\n{extra}"
               f"Content-Length: {len(body)}\r\n\r\n").encode() + body
    stats, statuses = _Stats(max_requests), {}
    interval = connections / rate if rate else None
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(_request_loop(host, port, request, started + duration, stats,
                                                 statuses, interval))
             for _ in range(connections)]
    try:
        await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 10)
    except TimeoutError:
        stats.errors += 1
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies)
    result = LoadResult(rps=len(lat) / elapsed if elapsed > 0 else 0.0,
                        p50_ms=percentile(lat, 50) * 1000, p99_ms=percentile(lat, 99) * 1000,
                        requests=len(lat), errors=stats.errors, seconds=elapsed)
    return result, statuses


def run_requests(url: str, *, method: str = "GET", headers: dict[str, str] | None = None,
                 body: bytes = b"", duration: float, connections: int,
                 rate: float | None = None,
                 max_requests: int = 5_000_000) -> tuple[LoadResult, dict[int, int]]:
    """Send one prebuilt request over keep-alive connections: as fast as answered, or paced
    at ``rate`` requests/s in all, until ``duration`` or ``max_requests``.  Returns the
    2xx/3xx latencies' result and every status's count (a non-2xx/3xx answer is an error
    in the result)."""
    coro = _run_requests(url, method, headers or {}, body, duration, connections, rate,
                         max_requests)
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    return uvloop.run(coro)
