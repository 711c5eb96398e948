"""The price of the observability spine: full auditing plus metrics vs none, in one run.

    .venv/bin/python bench/observe_bench.py [--rounds 3] [--duration 10] [--connections 32]

Two throwaway nodes side by side, each serving the same app: one hello handler behind
``auth: api_key`` (key sent as ``X-API-Key``), so every request is one authentication
decision and one ``allow`` audit record:

* **full** — ``ramparts up`` as shipped: every decision journaled before the response,
  hash-chained and signed into the audit log, fed to the metrics registry and the
  detection rules (the shipped set), the invocation's log line written; a Prometheus
  scraper reads ``/metrics`` (with the admin token) once a second all through the run;
* **off** — the same ``ramparts up`` started through a bench-only wrapper that turns
  ``AuditLog.emit`` and the audit and invocation sinks into no-ops, so nothing is
  audited, counted or evaluated.  The product has no such switch: it exists only here,
  to measure what the spine costs.

Rounds alternate full, off, full, off ... after a warm-up of each, so drift on the
shared machine hits both alike; the median round is reported, req/s and p99 side by
side, and written as the ``bench:observe`` section of docs/benchmarks.md (only that
section is replaced).  Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from _doc import write_section
from auth_bench import run_with_headers
from loadgen import LoadResult, wrk_path
from run import BENCH, HOST, ROOT, Ramparts, Server, _bin, console, http_get, wait_http

SECTION = "## Observability: full auditing and metrics vs none"

MANIFEST = """
app: observebench
functions:
  hello:
    handler: hello.py:handler
    concurrency: 2
    triggers:
      - http: {method: GET, path: /hello-key, auth: api_key}
"""

# Bench-only: a node whose audit log and sinks do nothing (see the module docstring).
_OFF = """
import sys
from ramparts.observe.audit import AuditLog
from ramparts.observe.invocations import InvocationLog
AuditLog.emit = lambda self, *a, **k: None
AuditLog.add_sink = lambda self, sink: None
InvocationLog.add_sink = lambda self, sink: None
from ramparts.cli.main import app
sys.argv[0] = "ramparts"
app()
"""


class _OffNode(Ramparts):
    def __init__(self, work: Path) -> None:
        super().__init__(work)
        self.server = Server("ramparts-off", [sys.executable, "-c", _OFF, *self.server.cmd[1:]],
                             work / "ramparts.log", env=dict(self.server.env))


class _Scraper(threading.Thread):
    """Reads /metrics once a second, as a Prometheus server would."""

    def __init__(self, node: Ramparts) -> None:
        super().__init__(daemon=True)
        self._node, self._halt, self.scrapes, self.failures = node, threading.Event(), 0, 0

    def run(self) -> None:
        headers = {"authorization": f"Bearer {self._node.token()}"}
        while not self._halt.wait(1.0):
            status, _ = http_get(self._node.admin_port, "/metrics", headers=headers)
            if status == 200:
                self.scrapes += 1
            else:
                self.failures += 1

    def stop(self) -> None:
        self._halt.set()
        if self.is_alive():
            self.join(5)


def _prepare(node: Ramparts, app: Path) -> str:
    node.start()
    node.deploy(app)
    out = subprocess.run([_bin("ramparts"), "keys", "create", "--name", "bench"], env=node.env,
                         capture_output=True, text=True, timeout=60, check=True)
    key = out.stdout.strip()
    status, body = http_get(node.port, "/hello-key", headers={"X-API-Key": key})
    if status != 200:
        raise RuntimeError(f"smoke {node.server.name}: HTTP {status} {body[:100]!r}")
    return key


def _audit_count(node: Ramparts) -> int:
    """How many audit records the node holds (pages through GET /v1/audit)."""
    import json

    after, total = 0, 0
    headers = {"authorization": f"Bearer {node.token()}"}
    for _ in range(100_000):
        status, body = http_get(node.admin_port, f"/v1/audit?after={after}&limit=1000",
                                headers=headers)
        if status != 200:
            raise RuntimeError(f"audit: HTTP {status}")
        page = json.loads(body)["events"]
        if not page:
            break
        total += len(page)
        after = page[-1]["seq"]
    return total


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=10.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=32)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--loadgen", choices=("auto", "wrk", "python"), default="auto")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if not (0 < args.duration <= 120 and 0 < args.rounds <= 20 and 0 < args.connections <= 512):
        p.error("out-of-range option")
    kind = args.loadgen if args.loadgen != "auto" else ("wrk" if wrk_path() else "python")
    work = Path(tempfile.mkdtemp(prefix="ramparts-observebench-"))
    full, off = Ramparts(work / "full"), _OffNode(work / "off")
    scraper = _Scraper(full)
    results: dict[str, list[LoadResult]] = {"full": [], "off": []}
    try:
        app = work / "app"
        app.mkdir()
        shutil.copy(BENCH / "apps" / "hello" / "hello.py", app / "hello.py")
        (app / "ramparts.yaml").write_text(MANIFEST)
        keys = {"full": _prepare(full, app), "off": _prepare(off, app)}
        nodes = {"full": full, "off": off}
        wait_http(full.server, full.admin_port, "/healthz")
        scraper.start()
        for name, node in nodes.items():
            run_with_headers(kind, f"http://{HOST}:{node.port}/hello-key",
                             {"X-API-Key": keys[name]}, args.warmup, args.connections)
        for r in range(args.rounds):
            for name, node in nodes.items():
                res = run_with_headers(kind, f"http://{HOST}:{node.port}/hello-key",
                                       {"X-API-Key": keys[name]}, args.duration, args.connections)
                results[name].append(res)
                console.print(f"  round {r + 1}/{args.rounds} {name:<5} {res.rps:8.0f} req/s  "
                              f"p99 {res.p99_ms:6.2f} ms  errors {res.errors}")
        scraper.stop()
        served = sum(x.requests for x in results["full"])
        time.sleep(2)  # the writer's next batches
        audited = _audit_count(full)
    finally:
        scraper.stop()
        full.stop()
        off.stop()
        shutil.rmtree(work, ignore_errors=True)
    med = {n: (statistics.median(x.rps for x in rs), statistics.median(x.p99_ms for x in rs),
               sum(x.errors for x in rs)) for n, rs in results.items()}
    cost = 1 - med["full"][0] / med["off"][0]
    lines = [
        SECTION,
        "",
        "Generated by `bench/observe_bench.py`; re-run it to refresh this section.",
        "",
        f"- `{' '.join(['.venv/bin/python', 'bench/observe_bench.py', *(argv or sys.argv[1:])])}`"
        f" on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load generator: {kind}, "
        f"{args.connections} keep-alive connections, {args.rounds} interleaved rounds of "
        f"{args.duration:g} s after a {args.warmup:g} s warm-up per node.",
        "- Two nodes, one hello handler behind `auth: api_key`. **full**: `ramparts up` as "
        "shipped (each decision journaled before the response, hash-chained and signed, "
        "metrics, the shipped detection rules, the per-invocation log line) with /metrics "
        "scraped once a second; **off**: a bench-only wrapper makes the audit log and its "
        "sinks no-ops (the product has no such switch).",
        "",
        "| node | req/s | p99 ms | throughput vs off | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, (rps, p99, errors) in med.items():
        lines.append(f"| {n} | {rps:,.0f} | {p99:.2f} | {rps / med['off'][0] * 100:.1f}% | "
                     f"{errors} |")
    lines += [
        "",
        f"Target: full auditing plus metrics cost under 15% of throughput — "
        f"{'met' if cost < 0.15 else 'not met'} ({cost * 100:.1f}%).",
        "",
        f"The full node answered {served:,} requests in its timed rounds (plus warm-up and "
        f"smoke requests) and holds {audited:,} audit records at the end; {scraper.scrapes} "
        f"scrapes of /metrics succeeded, {scraper.failures} failed. Speed is reported, never "
        f"asserted.",
        "",
        "Where the difference goes (measured apart, per record): `AuditLog.emit` on the "
        "request path about 15 µs (redaction of the record's fields, with cached results for "
        "repeated strings, one JSON line `os.write` to the journal); the writer thread about "
        "15-20 µs (SHA-256 chain link, SQLite insert under two unique indexes); the detection "
        "rules 3-4 µs per audit or invocation record; metrics under 1 µs. The threads share "
        "the GIL with the event loop, so at about 2,000 requests/s on one core this is "
        "roughly a tenth of the node's time, and what is left of the gap is that contention. "
        "Aggregating identical allow decisions (one record per second with a count), which "
        "the design allows but this release does not do, is the lever that would cut both "
        "halves.",
        "",
    ]
    text = "\n".join(lines)
    console.print(text)
    if not args.no_write:
        write_section(args.output, "observe", text)
        console.print(f"wrote the observe section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
