"""Ramparts vs Google's functions-framework: throughput, latency and cold start, in one run.

    .venv/bin/python bench/run.py [--rounds 3] [--duration 10] [--connections 32]

Starts a throwaway Ramparts node (``ramparts up``, data dir under a temp dir) with the hello
app from bench/apps/hello and functions-framework (its default production server: gunicorn,
gthread) with bench/apps/ff, both on 127.0.0.1, then runs the load generator (wrk if it is on
PATH, else the asyncio client in bench/loadgen.py) against each, interleaved A B A B ...,
and reports the median of the rounds. Then it measures cold starts: N deploys of distinct
versions, timing the first request after each, and a few node restarts ("fully cold": the
zygote itself must start). Results go to a Rich table and to the ``bench:http`` section of
docs/benchmarks.md (the rest of that file belongs to the other bench scripts).

Speed is reported, never asserted: this is a report, not a test.
"""

from __future__ import annotations

import argparse
import contextlib
import http.client
import json
import os
import platform
import shlex
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from _doc import write_section
from loadgen import LoadResult, percentile, run_load, wrk_path
from rich.console import Console
from rich.table import Table

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "bench"
VENV_BIN = Path(sys.executable).parent
console = Console(width=None if sys.stdout.isatty() else 120)

HOST = "127.0.0.1"


# -- processes -----------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as s:
        s.bind((HOST, 0))
        return s.getsockname()[1]


def _bin(name: str) -> str:
    local = VENV_BIN / name
    if local.exists():
        return str(local)
    found = shutil.which(name)
    if not found:
        raise SystemExit(f"{name} not found (run 'make bench' to install the bench extras)")
    return found


@dataclass
class Server:
    name: str
    cmd: list[str]
    log: Path
    env: dict[str, str] = field(default_factory=dict)
    cwd: Path | None = None
    proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        env = {**os.environ, **self.env}
        with self.log.open("ab") as out:
            # Own session, so stop() can reach the whole tree we started (and nothing else).
            self.proc = subprocess.Popen(self.cmd, stdout=out, stderr=subprocess.STDOUT, env=env,
                                         cwd=self.cwd, start_new_session=True)

    def stop(self, timeout: float = 15.0) -> None:
        p = self.proc
        if p is None or p.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):
            p.send_signal(signal.SIGTERM)  # graceful: node / gunicorn stop their own workers
        try:
            p.wait(timeout)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(p.pid, signal.SIGKILL)
            p.wait(5)
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(p.pid, signal.SIGKILL)  # stragglers of the group we created, if any

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def tail(self, n: int = 20) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-n:])
        except OSError:
            return ""


def http_get(port: int, path: str, *, headers: dict[str, str] | None = None,
             timeout: float = 10.0) -> tuple[int, bytes]:
    conn = http.client.HTTPConnection(HOST, port, timeout=timeout)
    try:
        conn.request("GET", path, headers=headers or {})
        resp = conn.getresponse()
        return resp.status, resp.read()
    finally:
        conn.close()


def wait_http(server: Server, port: int, path: str, timeout: float = 30.0,
              headers: dict[str, str] | None = None) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not server.alive():
            raise RuntimeError(f"{server.name} exited early:\n{server.tail()}")
        with contextlib.suppress(OSError, http.client.HTTPException):
            http_get(port, path, headers=headers, timeout=1.0)
            return
        time.sleep(0.05)
    raise RuntimeError(f"{server.name} did not answer on {HOST}:{port} within {timeout}s")


class Ramparts:
    def __init__(self, work: Path) -> None:
        work.mkdir(parents=True, exist_ok=True)
        self.data_dir = work / "ramparts-data"
        self.port, self.admin_port = free_port(), free_port()
        self.server = Server("ramparts", [
            _bin("ramparts"), "up", "--data-dir", str(self.data_dir), "--host", HOST,
            "--port", str(self.port), "--admin-host", HOST, "--admin-port", str(self.admin_port),
        ], work / "ramparts.log",
            # More connections than workers: calls queue for a worker as they do on the
            # peer, instead of the fast 429 (0.1 s) a node answers by default.
            env={"RAMPARTS_THROTTLE_WAIT": "30"})

    @property
    def env(self) -> dict[str, str]:
        return {**os.environ, "RAMPARTS_URL": f"http://{HOST}:{self.admin_port}",
                "RAMPARTS_DATA_DIR": str(self.data_dir)}

    def token(self) -> str:
        return (self.data_dir / "admin-token").read_text().strip()

    def start(self) -> None:
        self.server.start()
        wait_http(self.server, self.admin_port, "/healthz")
        wait_http(self.server, self.port, "/__bench_ready")  # unrouted: 404, touches no worker

    def stop(self) -> None:
        self.server.stop()

    def deploy(self, app_dir: Path) -> float:
        t0 = time.perf_counter()
        out = subprocess.run([_bin("ramparts"), "deploy", str(app_dir), "--json"], env=self.env,
                             capture_output=True, text=True, timeout=120)
        elapsed = time.perf_counter() - t0
        if out.returncode != 0:
            raise RuntimeError(f"ramparts deploy failed: {out.stderr.strip() or out.stdout}")
        return elapsed

    def logs(self, function: str) -> list[dict]:
        rows: list[dict] = []
        after = 0
        for _ in range(100):  # bounded paging
            status, body = http_get(self.admin_port, f"/v1/functions/{function}/logs"
                                    f"?after={after}&limit=1000",
                                    headers={"authorization": f"Bearer {self.token()}"})
            if status != 200:
                raise RuntimeError(f"logs: HTTP {status}")
            page = json.loads(body)["invocations"]
            if not page:
                break
            rows += page
            after = page[-1]["seq"]
        return rows


def ff_server(work: Path, workers: int | None, threads: int | None) -> tuple[Server, int]:
    port = free_port()
    env: dict[str, str] = {}
    if workers:
        env["WORKERS"] = str(workers)
    if threads:
        env["THREADS"] = str(threads)
    server = Server("functions-framework", [
        _bin("functions-framework"), "--target", "hello",
        "--source", str(BENCH / "apps" / "ff" / "main.py"), "--host", HOST, "--port", str(port),
    ], work / "ff.log", env=env)
    return server, port


def ff_config(workers: int | None, threads: int | None) -> str:
    from importlib.metadata import version

    w = workers or int(os.environ.get("WORKERS", 1))
    t = threads or int(os.environ.get("THREADS", (os.cpu_count() or 1) * 4))
    default = "its default" if not (workers or threads) else "overridden"
    return (f"functions-framework {version('functions-framework')}, gunicorn "
            f"{version('gunicorn')} gthread, {w} worker x {t} threads ({default}: WORKERS=1, "
            f"THREADS=4 x cpu_count), Flask {version('flask')}")


def _proc_stat(pid: int) -> tuple[int, float] | None:
    """(ppid, utime+stime seconds) of a live process, from /proc (Linux)."""
    try:
        raw = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    fields = raw.rsplit(")", 1)[1].split()
    return int(fields[1]), (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def cpu_seconds(root: int) -> tuple[float, float]:
    """CPU seconds used so far by ``root`` itself and by root plus all its live descendants."""
    stats: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir() if Path("/proc").is_dir() else ():
        if entry.name.isdigit() and (st := _proc_stat(int(entry.name))) is not None:
            stats[int(entry.name)] = st
    if root not in stats:
        return float("nan"), float("nan")
    tree, frontier = {root}, [root]
    while frontier:
        parent = frontier.pop()
        for pid, (ppid, _) in stats.items():
            if ppid == parent and pid not in tree:
                tree.add(pid)
                frontier.append(pid)
    return stats[root][1], sum(stats[p][1] for p in tree)


# -- measurements --------------------------------------------------------------------------------
def median_result(results: list[LoadResult]) -> dict[str, float]:
    return {
        "rps": statistics.median(r.rps for r in results),
        "p50": statistics.median(r.p50_ms for r in results),
        "p99": statistics.median(r.p99_ms for r in results),
        "errors": sum(r.errors for r in results),
        "requests": sum(r.requests for r in results),
    }


def throughput(args: argparse.Namespace, kind: str, targets: dict[str, tuple[str, int]]
               ) -> tuple[dict[str, list[LoadResult]], dict[str, list[tuple[float, float]]]]:
    """Interleaved rounds; also the servers' CPU use (% of one core: main process, all)."""
    results: dict[str, list[LoadResult]] = {name: [] for name in targets}
    cpu: dict[str, list[tuple[float, float]]] = {name: [] for name in targets}
    for url, _ in targets.values():  # warm both once (connections, worker pools, caches)
        run_load(kind, url, duration=args.warmup, connections=args.connections)
    for r in range(args.rounds):
        for name, (url, pid) in targets.items():
            c0, t0 = cpu_seconds(pid), time.perf_counter()
            res = run_load(kind, url, duration=args.duration, connections=args.connections)
            c1, wall = cpu_seconds(pid), time.perf_counter() - t0
            share = ((c1[0] - c0[0]) / wall * 100, (c1[1] - c0[1]) / wall * 100)
            results[name].append(res)
            cpu[name].append(share)
            console.print(f"  round {r + 1}/{args.rounds} {name:<20} {res.rps:9.0f} req/s  "
                          f"p50 {res.p50_ms:6.2f} ms  p99 {res.p99_ms:6.2f} ms  "
                          f"errors {res.errors}  CPU main {share[0]:.0f}%, "
                          f"all {share[1]:.0f}%")
    return results, cpu


@dataclass
class ColdStarts:
    client_ms: list[float] = field(default_factory=list)   # first request after a deploy
    warm_ms: list[float] = field(default_factory=list)     # the request right after it
    server_ms: list[float] = field(default_factory=list)   # duration_ms of that first invocation
    server_cold_flags: list[bool] = field(default_factory=list)
    deploy_s: list[float] = field(default_factory=list)
    full_client_ms: list[float] = field(default_factory=list)  # first request after a restart
    full_server_ms: list[float] = field(default_factory=list)
    full_cold_flags: list[bool] = field(default_factory=list)
    failures: list[str] = field(default_factory=list)


def timed_get(port: int, path: str) -> tuple[float, int, bytes]:
    t0 = time.perf_counter()
    status, body = http_get(port, path)  # fresh connection: includes the loopback connect
    return (time.perf_counter() - t0) * 1000, status, body


def cold_starts(args: argparse.Namespace, node: Ramparts, work: Path) -> ColdStarts:
    cs = ColdStarts()
    app = work / "cold-app"
    shutil.copytree(BENCH / "apps" / "hello", app)
    source = (app / "hello.py").read_text()
    tag = int(time.time())
    seen = {r["request_id"] for r in node.logs("hello")}
    for i in range(args.cold_starts):
        variant = source.replace("VARIANT = 0", f"VARIANT = {tag}{i:04d}")
        if variant == source:
            raise RuntimeError("bench/apps/hello/hello.py lost its 'VARIANT = 0' line")
        (app / "hello.py").write_text(variant)
        cs.deploy_s.append(node.deploy(app))
        ms, status, body = timed_get(node.port, "/hello")
        if status != 200 or body != b"hello":
            cs.failures.append(f"deploy {i}: first request HTTP {status}")
            continue
        cs.client_ms.append(ms)
        cs.warm_ms.append(timed_get(node.port, "/hello")[0])
        time.sleep(args.cold_pause)  # let the previous version retire before the next deploy
    versions_first: dict[str, dict] = {}
    for row in node.logs("hello"):
        if row["request_id"] in seen:
            continue
        versions_first.setdefault(row["version"], row)
    for row in list(versions_first.values())[: len(cs.client_ms)]:
        cs.server_ms.append(row["duration_ms"])
        cs.server_cold_flags.append(bool(row["cold"]))

    for i in range(args.full_cold):
        seen = {r["request_id"] for r in node.logs("hello")}
        node.stop()
        node.start()
        ms, status, _ = timed_get(node.port, "/hello")
        if status != 200:
            cs.failures.append(f"restart {i}: first request HTTP {status}")
            continue
        cs.full_client_ms.append(ms)
        new = [r for r in node.logs("hello") if r["request_id"] not in seen]
        if new:
            cs.full_server_ms.append(new[0]["duration_ms"])
            cs.full_cold_flags.append(bool(new[0]["cold"]))
    return cs


def pct(values: list[float], q: float) -> float:
    return percentile(sorted(values), q) if values else float("nan")


# -- report --------------------------------------------------------------------------------------
@dataclass
class Report:
    command: str
    loadgen: str
    args: argparse.Namespace
    ff_desc: str
    results: dict[str, list[LoadResult]]
    cpu: dict[str, list[tuple[float, float]]]
    cold: ColdStarts | None
    loadavg: str
    started: datetime
    seconds: float


def _fmt(v: float, nd: int = 2) -> str:
    return "n/a" if v != v else f"{v:,.{nd}f}"  # NaN check


def round_ratios(rep: Report, names: tuple[str, str]) -> list[float]:
    """Per-round throughput ratio A/B (each round's A and B ran back to back)."""
    a, b = names
    return [ra.rps / rb.rps if rb.rps else float("nan")
            for ra, rb in zip(rep.results[a], rep.results[b], strict=True)]


def cpu_median(rep: Report, name: str) -> tuple[float, float]:
    rows = rep.cpu[name]
    return (statistics.median(r[0] for r in rows), statistics.median(r[1] for r in rows))


def print_report(rep: Report, names: tuple[str, str]) -> None:
    a, b = names
    ma, mb = median_result(rep.results[a]), median_result(rep.results[b])
    table = Table(title=f"hello handler, median of {rep.args.rounds} rounds x "
                  f"{rep.args.duration:g} s, {rep.args.connections} connections ({rep.loadgen})")
    for col in ("server", "req/s", "p50 ms", "p99 ms", "rounds req/s", "errors",
                "CPU % main / all"):
        table.add_column(col, justify="right" if col != "server" else "left", no_wrap=True)
    for name, m in ((a, ma), (b, mb)):
        rounds = " / ".join(f"{r.rps:,.0f}" for r in rep.results[name])
        cm = cpu_median(rep, name)
        table.add_row(name, _fmt(m["rps"], 0), _fmt(m["p50"]), _fmt(m["p99"]), rounds,
                      str(int(m["errors"])), f"{_fmt(cm[0], 0)} / {_fmt(cm[1], 0)}")
    console.print(table)
    ratio = ma["rps"] / mb["rps"] if mb["rps"] else float("nan")
    verdict = "[green]meets[/]" if ratio >= 2 else "[red]misses[/]"
    per_round = ", ".join(f"{x:.2f}x" for x in round_ratios(rep, names))
    console.print(f"throughput ratio {a}/{b}: [bold]{ratio:.2f}x[/] ({verdict} the 2x target; "
                  f"per round {per_round})")
    if rep.cold:
        c = rep.cold
        console.print(f"cold start (first request after a deploy, n={len(c.client_ms)}): "
                      f"client p50 {_fmt(pct(c.client_ms, 50))} ms, p90 "
                      f"{_fmt(pct(c.client_ms, 90))} ms; server p50 "
                      f"{_fmt(pct(c.server_ms, 50))} ms; target p50 < 50 ms")
        if c.full_client_ms:
            console.print(f"fully cold (first request after a node restart, "
                          f"n={len(c.full_client_ms)}): client p50 "
                          f"{_fmt(pct(c.full_client_ms, 50))} ms")
        for f in c.failures:
            console.print(f"[red]cold-start failure:[/] {f}")


def write_markdown(rep: Report, names: tuple[str, str], path: Path) -> None:
    a, b = names
    ma, mb = median_result(rep.results[a]), median_result(rep.results[b])
    ratio = ma["rps"] / mb["rps"] if mb["rps"] else float("nan")
    a_rounds = ", ".join(f"{r.rps:,.0f}" for r in rep.results[a])
    b_rounds = ", ".join(f"{r.rps:,.0f}" for r in rep.results[b])
    ca, cb = cpu_median(rep, a), cpu_median(rep, b)
    per_round = ", ".join(f"{x:.2f}x" for x in round_ratios(rep, names))
    lg = ("wrk (`wrk -t1 -c{c} -d{d}s --timeout 5s --latency URL`)" if rep.loadgen == "wrk"
          else "bench/loadgen.py asyncio client ({c} keep-alive connections, raw streams, "
               "uvloop, {d}s)").format(c=rep.args.connections, d=round(rep.args.duration))
    import uvicorn

    from ramparts import __version__ as ramparts_version

    lines = [
        "## HTTP: Ramparts vs functions-framework",
        "",
        "Generated by `bench/run.py` (this section only); do not edit by hand, re-run it.",
        "",
        "```",
        rep.command,
        "```",
        "",
        f"- date: {rep.started.strftime('%Y-%m-%d %H:%M UTC')} (run took {rep.seconds:.0f} s)",
        f"- machine: {os.cpu_count()} CPUs (`nproc` = {_nproc()}), {platform.machine()}, "
        f"Linux {platform.release()}",
        f"- Python {platform.python_version()}; load average at start: {rep.loadavg} "
        "(the machine is shared; other work may run during the benchmark)",
        f"- load generator: {lg}",
        f"- Ramparts {ramparts_version}: `ramparts up` (one process, uvicorn {uvicorn.__version__}"
        " httptools + uvloop), each invocation over a socketpair to a forked sandboxed worker; "
        "hello function `concurrency: 2`, route `GET /hello`, `auth: none`",
        f"- peer: {rep.ff_desc}; started with `functions-framework --target hello --source "
        "bench/apps/ff/main.py --host 127.0.0.1 --port P`",
        "",
        f"### Throughput and latency (median of {rep.args.rounds} interleaved rounds of "
        f"{rep.args.duration:g} s)",
        "",
        "| server | req/s | p50 ms | p99 ms | req/s per round | errors "
        "| server CPU, % of one core: main process / all processes |",
        "|---|---:|---:|---:|---|---:|---:|",
        f"| Ramparts | {_fmt(ma['rps'], 0)} | {_fmt(ma['p50'])} | {_fmt(ma['p99'])} | "
        f"{a_rounds} | {int(ma['errors'])} | {_fmt(ca[0], 0)} / {_fmt(ca[1], 0)} |",
        f"| functions-framework | {_fmt(mb['rps'], 0)} | {_fmt(mb['p50'])} | "
        f"{_fmt(mb['p99'])} | {b_rounds} | {int(mb['errors'])} | "
        f"{_fmt(cb[0], 0)} / {_fmt(cb[1], 0)} |",
        "",
        f"**Throughput ratio Ramparts / functions-framework: {ratio:.2f}x** "
        f"(target: at least 2x; {'met' if ratio >= 2 else 'not met'}). "
        f"Per round (A and B back to back): {per_round}.",
        "",
        "CPU is read from /proc around each round: \"main\" is the `ramparts up` node process "
        "(gateway, control API, supervisor, invocation log) or the gunicorn arbiter; \"all\" "
        "adds every descendant (Ramparts' zygote and sandboxed workers; gunicorn's worker). "
        "100 % is one core; the machine has 2, and the load generator uses the rest.",
        "",
    ]
    if rep.cold:
        c = rep.cold
        flags = sum(c.server_cold_flags)
        lines += [
            "### Cold start",
            "",
            "| what | n | p50 ms | p90 ms | max ms |",
            "|---|---:|---:|---:|---:|",
            f"| first request after deploying a new version, client side | {len(c.client_ms)} | "
            f"{_fmt(pct(c.client_ms, 50))} | {_fmt(pct(c.client_ms, 90))} | "
            f"{_fmt(max(c.client_ms, default=float('nan')))} |",
            f"| same, server side (`duration_ms` of that invocation, {flags} of "
            f"{len(c.server_cold_flags)} flagged `cold`) | {len(c.server_ms)} | "
            f"{_fmt(pct(c.server_ms, 50))} | {_fmt(pct(c.server_ms, 90))} | "
            f"{_fmt(max(c.server_ms, default=float('nan')))} |",
            f"| the request right after it (warm), client side | {len(c.warm_ms)} | "
            f"{_fmt(pct(c.warm_ms, 50))} | {_fmt(pct(c.warm_ms, 90))} | "
            f"{_fmt(max(c.warm_ms, default=float('nan')))} |",
            f"| fully cold: first request after a node restart, client side | "
            f"{len(c.full_client_ms)} | {_fmt(pct(c.full_client_ms, 50))} | "
            f"{_fmt(pct(c.full_client_ms, 90))} | "
            f"{_fmt(max(c.full_client_ms, default=float('nan')))} |",
            f"| fully cold, server side | {len(c.full_server_ms)} | "
            f"{_fmt(pct(c.full_server_ms, 50))} | {_fmt(pct(c.full_server_ms, 90))} | "
            f"{_fmt(max(c.full_server_ms, default=float('nan')))} |",
            f"| `ramparts deploy` wall time (CLI start + scan + package + deploy) | "
            f"{len(c.deploy_s)} | {_fmt(pct([s * 1000 for s in c.deploy_s], 50), 0)} | "
            f"{_fmt(pct([s * 1000 for s in c.deploy_s], 90), 0)} | "
            f"{_fmt(max(c.deploy_s, default=float('nan')) * 1000, 0)} |",
            "",
            f"Target: cold start p50 under 50 ms — "
            f"{'met' if pct(c.client_ms, 50) < 50 else 'not met'} "
            f"(client-side p50 {_fmt(pct(c.client_ms, 50))} ms).",
            "",
        ]
        if c.failures:
            lines += ["Failures: " + "; ".join(c.failures), ""]
    lines += [
        "### How this was measured, and caveats",
        "",
        "- Both servers are up for the whole run, bound to 127.0.0.1, but only one is under load "
        "at a time; the load generator runs on the same 2 cores and competes with the server, "
        "so absolute numbers are low and noisy; read the ratio, not the absolutes.",
        f"- Each side gets a {rep.args.warmup:g} s warm-up, then {rep.args.rounds} rounds "
        "alternate A B A B ...; the table shows the median round (req/s, p50 and p99 are "
        "medians of the per-round values). Latency is per request over keep-alive connections "
        "(no connect time).",
        "- Ramparts does more per request than the peer: routing, the gateway's checks, an HTTP "
        "API v2 event, a framed IPC round trip to a separate sandboxed worker process, and an "
        "invocation log record. functions-framework calls the function in-process on a gunicorn "
        "thread. The peer runs its shipped default server configuration (not crippled, not "
        "tuned); `--ff-workers/--ff-threads` override it.",
        "- Cold start: the bench deploys distinct versions of the hello function (it rewrites a "
        "constant in a temp copy of bench/apps/hello, so each deploy is a new content-addressed "
        "version) and times the first `GET /hello` right after `ramparts deploy` returns, on a "
        "fresh loopback connection. Deploy prewarms the version's zygote, so this covers "
        "forking a worker from it and the first call, not interpreter start. Server side is the "
        "invocation log's `duration_ms` for that request.",
        "- Fully cold: the node is stopped and started again (same data dir) and the first "
        "request is sent as soon as the listeners answer. The node starts the zygotes of live "
        "versions in the background at boot, so this request waits for whatever is left of "
        "that start (a fresh Python interpreter importing the runtime and the handler), then "
        "forks a worker and runs the call.",
        "- Every invocation writes an invocation-log record (batched, one raw `executemany` "
        "per batch, SQLite in WAL mode with `synchronous=NORMAL`); the records are in the "
        "node's CPU figure above.",
        "- Speed targets are never asserted in tests; this file is a report.",
        "",
    ]
    write_section(path, "http", "\n".join(lines))


def _nproc() -> str:
    with contextlib.suppress(OSError, subprocess.SubprocessError):
        return subprocess.run(["nproc"], capture_output=True, text=True,
                              timeout=5).stdout.strip()
    return "?"


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0, help="seconds per round (default 10)")
    p.add_argument("--rounds", type=int, default=3, help="interleaved rounds per side (default 3)")
    p.add_argument("--connections", type=int, default=32, help="concurrent connections")
    p.add_argument("--warmup", type=float, default=2.0, help="warm-up seconds per side")
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto",
                   help="wrk if on PATH (auto), or force one")
    p.add_argument("--cold-starts", type=int, default=20, help="deploys for the cold-start p50")
    p.add_argument("--cold-pause", type=float, default=0.3, help="seconds between those deploys")
    p.add_argument("--full-cold", type=int, default=5, help="node restarts for 'fully cold'")
    p.add_argument("--ff-workers", type=int, default=None,
                   help="override functions-framework's WORKERS (default: its own, 1)")
    p.add_argument("--ff-threads", type=int, default=None,
                   help="override functions-framework's THREADS (default: its own, 4 x CPUs)")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-write", action="store_true", help="print only, leave docs/ alone")
    p.add_argument("--keep-logs", action="store_true", help="keep the temp dir with server logs")
    args = p.parse_args(argv)
    if not (0 < args.duration <= 600 and 0 < args.rounds <= 50 and 0 < args.connections <= 1024
            and 0 <= args.warmup <= 60 and 0 <= args.cold_starts <= 500
            and 0 <= args.full_cold <= 50):
        p.error("out-of-range option (duration <= 600, rounds <= 50, connections <= 1024, "
                "warmup <= 60, cold-starts <= 500, full-cold <= 50)")
    return args


def command_line(argv: list[str]) -> str:
    exe = Path(sys.executable)
    with contextlib.suppress(ValueError):
        exe = exe.relative_to(ROOT)  # .venv/bin/python, not the absolute path
    return shlex.join([str(exe), "bench/run.py", *argv])


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    def handler(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    old = signal.signal(signal.SIGTERM, handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    kind = args.loadgen if args.loadgen != "auto" else ("wrk" if wrk_path() else "python")
    if kind == "wrk" and not wrk_path():
        raise SystemExit("--loadgen wrk: wrk is not on PATH")
    started, t0 = datetime.now(UTC), time.monotonic()
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="ramparts-bench-"))
    node = Ramparts(work)
    ff, ff_port = ff_server(work, args.ff_workers, args.ff_threads)
    names = ("Ramparts", "functions-framework")
    ok = False
    try:
        with sigterm_as_interrupt():
            console.print(f"[bold]load generator:[/] {kind}; work dir {work}")
            node.start()
            node.deploy(BENCH / "apps" / "hello")
            ff.start()
            wait_http(ff, ff_port, "/")
            for port in (node.port, ff_port):
                status, body = http_get(port, "/hello" if port == node.port else "/")
                if status != 200 or body != b"hello":
                    raise RuntimeError(f"smoke request to port {port}: HTTP {status} {body[:80]!r}")
            assert node.server.proc is not None and ff.proc is not None
            targets = {names[0]: (f"http://{HOST}:{node.port}/hello", node.server.proc.pid),
                       names[1]: (f"http://{HOST}:{ff_port}/", ff.proc.pid)}
            results, cpu = throughput(args, kind, targets)
            ff.stop()
            node.stop()
            cold = None
            if args.cold_starts or args.full_cold:
                # A fresh node: the throughput rounds left ~10^5 invocation rows behind.
                node = Ramparts(work / "cold")
                node.start()
                node.deploy(BENCH / "apps" / "hello")
                cold = cold_starts(args, node, work)
            rep = Report(command_line(argv), kind, args, ff_config(args.ff_workers,
                                                                   args.ff_threads),
                         results, cpu, cold, loadavg, started, time.monotonic() - t0)
            print_report(rep, names)
            if not args.no_write:
                args.output.parent.mkdir(parents=True, exist_ok=True)
                write_markdown(rep, names, args.output)
                console.print(f"wrote the http section of {args.output}")
            ok = True
    except KeyboardInterrupt:
        console.print("[yellow]interrupted; stopping servers[/]")
    except (RuntimeError, subprocess.SubprocessError, OSError) as exc:
        console.print(f"[red]benchmark failed:[/] {exc}")
        console.print(f"ramparts log tail:\n{node.server.tail()}\nff log tail:\n{ff.tail()}")
    finally:
        ff.stop()
        node.stop()
        if args.keep_logs or not ok:
            console.print(f"logs kept in {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
