"""DoS protections, measured: isolation from an abusive key, and what the protections cost.

    .venv/bin/python bench/dos_bench.py [--rounds 3] [--duration 8] [--connections 8]

One throwaway node (``ramparts up`` as shipped, memory rate-limit storage), one app:

1. **Isolation.** A well-behaved API key calls route A (``GET /a``, no limit) as fast as
   its answers come back on ``--connections`` keep-alive connections, alone; then again
   while an abusive key, whose own limit is ``ABUSE_LIMIT`` per second
   (``keys create --rate``), floods route B at ten times that rate from a second process.
   Rounds alternate alone / flooded; the median round's requests/s and p99 of the good key
   are compared (target: at most 20% worse under the flood).
2. **Overhead.** ``POST`` of a small JSON body and of a 100 KB JSON body to routes that
   differ only in their protections, listed in ``CONFIGS`` (one route each, same handler,
   same key, same node, interleaved rounds): rate limits off vs on (a route limit no
   request reaches, counted per key, so every request is counted and gets the headers).
   The WAF's on/off rows are added to ``CONFIGS`` after the WAF is merged.

Results go to the ``bench:dos`` section of docs/benchmarks.md (only that section is
replaced).  Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from _doc import write_section
from loadgen import LoadResult, run_requests
from run import HOST, ROOT, Ramparts, _bin, console

SECTION = "## DoS protections: isolation from an abusive key, and the cost of rate limits"
ABUSE_LIMIT = 20  # requests/s of the abusive key's own limit; it floods at 10x


@dataclass(frozen=True)
class Config:
    """One protection setting under test: a route whose http trigger adds ``fields``."""

    name: str
    fields: str  # extra http-trigger fields, as YAML flow-mapping entries ("" for none)


# The overhead comparison, one route per entry (the first is the baseline of the ratios).
# After the WAF merge, add e.g. Config("waf off", "waf: off") and Config("waf on", "")
# (the default rule set), and give the rows without a WAF "waf: off" so each row
# differs from the baseline in one protection only.
CONFIGS = [
    Config("rate limits off", ""),
    Config("rate limits on", "rate: 100000000/day"),
]

HANDLER = '''
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": '{"ok": true}'}
'''


def _manifest() -> str:
    routes = [
        "      - http: {method: GET, path: /a, auth: api_key}",
        "      - http: {method: GET, path: /b, auth: api_key}",
    ]
    for i, cfg in enumerate(CONFIGS):
        extra = f", {cfg.fields}" if cfg.fields else ""
        routes.append(f"      - http: {{method: POST, path: /cfg{i}, auth: api_key{extra}}}")
    return "\n".join([
        "app: dosbench",
        "functions:",
        "  hello:",
        "    handler: h.py:handler",
        "    concurrency: 4",
        "    triggers:",
        *routes,
        "",
    ])


def _bodies() -> dict[str, bytes]:
    small = json.dumps({"id": "o-1", "customer": "ada", "items": [{"sku": "x-1", "qty": 2}]})
    rows, size = [], 0
    while size < 100 * 1024:
        row = {"sku": f"sku-{len(rows)}", "name": "Widget, blue (large)", "qty": len(rows) % 7,
               "note": "Deliver to the back door; ring twice. " * 3}
        rows.append(row)
        size += len(json.dumps(row)) + 2
    large = json.dumps({"id": "o-2", "items": rows})
    return {"small JSON": small.encode(), "100 KB JSON": large.encode()}


def _key(node: Ramparts, name: str, *args: str) -> str:
    out = subprocess.run([_bin("ramparts"), "keys", "create", "--name", name, *args],
                         env=node.env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def _flood(url: str, key: str, duration: float, queue: multiprocessing.Queue) -> None:
    """The abusive key, in its own process: paced at 10x its limit for ``duration``."""
    _, statuses = run_requests(url, headers={"X-API-Key": key}, duration=duration,
                               connections=4, rate=ABUSE_LIMIT * 10)
    queue.put(statuses)


def _good(node: Ramparts, key: str, duration: float, connections: int) -> LoadResult:
    result, _ = run_requests(f"http://{HOST}:{node.port}/a", headers={"X-API-Key": key},
                             duration=duration, connections=connections)
    return result


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=8.0)
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if not (0 < args.duration <= 120 and 0 < args.rounds <= 20 and 0 < args.connections <= 256):
        p.error("out-of-range option")
    work = Path(tempfile.mkdtemp(prefix="ramparts-dosbench-"))
    node = Ramparts(work / "node")
    alone: list[LoadResult] = []
    flooded: list[LoadResult] = []
    flood_statuses: dict[int, int] = {}
    overhead: dict[tuple[str, str], list[LoadResult]] = {}
    bodies = _bodies()
    try:
        app = work / "app"
        app.mkdir()
        (app / "h.py").write_text(HANDLER)
        (app / "ramparts.yaml").write_text(_manifest())
        node.start()
        node.deploy(app)
        good = _key(node, "good")
        abuser = _key(node, "abuser", "--rate", f"{ABUSE_LIMIT}/second")
        bench_key = _key(node, "bench")
        # -- isolation ------------------------------------------------------------------------
        _good(node, good, args.warmup, args.connections)
        ctx = multiprocessing.get_context("spawn")
        for r in range(args.rounds):
            res = _good(node, good, args.duration, args.connections)
            alone.append(res)
            console.print(f"  isolation round {r + 1}: alone   {res.rps:8.0f} req/s  "
                          f"p99 {res.p99_ms:7.2f} ms  errors {res.errors}")
            queue: multiprocessing.Queue = ctx.Queue()
            flood = ctx.Process(target=_flood, args=(f"http://{HOST}:{node.port}/b", abuser,
                                                     args.duration + 2, queue))
            flood.start()
            time.sleep(1.0)  # the flood is under way before the measurement starts
            res = _good(node, good, args.duration, args.connections)
            flooded.append(res)
            statuses = queue.get(timeout=args.duration + 60)
            flood.join(30)
            for code, n in statuses.items():
                flood_statuses[code] = flood_statuses.get(code, 0) + n
            console.print(f"  isolation round {r + 1}: flooded {res.rps:8.0f} req/s  "
                          f"p99 {res.p99_ms:7.2f} ms  errors {res.errors}  flood {statuses}")
        # -- overhead -------------------------------------------------------------------------
        headers = {"X-API-Key": bench_key, "Content-Type": "application/json"}
        for body_name, body in bodies.items():
            for i, _cfg in enumerate(CONFIGS):  # warm-up of each route
                run_requests(f"http://{HOST}:{node.port}/cfg{i}", method="POST",
                             headers=headers, body=body, duration=args.warmup,
                             connections=args.connections)
            for r in range(args.rounds):
                for i, cfg in enumerate(CONFIGS):
                    res, statuses = run_requests(
                        f"http://{HOST}:{node.port}/cfg{i}", method="POST", headers=headers,
                        body=body, duration=args.duration, connections=args.connections)
                    overhead.setdefault((body_name, cfg.name), []).append(res)
                    console.print(f"  overhead round {r + 1}: {body_name:<11} {cfg.name:<16} "
                                  f"{res.rps:8.0f} req/s  p99 {res.p99_ms:7.2f} ms  "
                                  f"errors {res.errors} {statuses}")
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)

    def med(results: list[LoadResult]) -> tuple[float, float, int]:
        return (statistics.median(x.rps for x in results),
                statistics.median(x.p99_ms for x in results), sum(x.errors for x in results))

    a, f = med(alone), med(flooded)
    drop = 1 - f[0] / a[0]
    p99_up = f[1] / a[1] - 1
    refused = flood_statuses.get(429, 0)
    sent = sum(flood_statuses.values())
    lines = [
        SECTION,
        "",
        "Generated by `bench/dos_bench.py`; re-run it to refresh this section.",
        "",
        f"- `{' '.join(['.venv/bin/python', 'bench/dos_bench.py', *(argv or sys.argv[1:])])}`"
        f" on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; Python keep-alive load "
        f"generator (bench/loadgen.py `run_requests`), {args.connections} connections, "
        f"{args.rounds} interleaved rounds of {args.duration:g} s; one node as shipped "
        "(`memory://` rate-limit storage, full auditing).",
        "",
        "### Isolation: a well-behaved key while another key floods at 10x its limit",
        "",
        f"The abusive key has its own limit of {ABUSE_LIMIT}/second and sends "
        f"{ABUSE_LIMIT * 10}/second to another route from a second process; the good key "
        "calls route A as fast as it is answered.",
        "",
        "| good key on route A | req/s | p99 ms | errors |",
        "|---|---:|---:|---:|",
        f"| alone | {a[0]:,.0f} | {a[1]:.2f} | {a[2]} |",
        f"| during the flood | {f[0]:,.0f} | {f[1]:.2f} | {f[2]} |",
        "",
        f"Under the flood: throughput {-drop * 100:+.1f}%, p99 {p99_up * 100:+.1f}% "
        f"(target: at most 20% worse: {'met' if drop <= 0.2 and p99_up <= 0.2 else 'not met'}). "
        f"The flood's answers: {sent:,} in all, {refused:,} refused with 429 "
        f"({refused / sent * 100 if sent else 0:.0f}%), the rest admitted within the key's "
        "limit; refusals never reach a worker, and are audited aggregated (one record per "
        "key, route and second).",
        "",
        "### Overhead: the same route with and without protections",
        "",
        "| body | configuration | req/s | p99 ms | throughput vs first row | errors |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for body_name in bodies:
        base = med(overhead[(body_name, CONFIGS[0].name)])[0]
        for cfg in CONFIGS:
            rps, p99, errors = med(overhead[(body_name, cfg.name)])
            lines.append(f"| {body_name} | {cfg.name} | {rps:,.0f} | {p99:.2f} | "
                         f"{rps / base * 100:.1f}% | {errors} |")
    lines += [
        "",
        "Each configuration is its own route of one app (`CONFIGS` in the script), "
        "`POST` with `auth: api_key`; \"rate limits on\" is `rate: 100000000/day` counted per "
        "key (every request is counted, none refused, the RateLimit-* fields on every "
        "answer). Target: protections on cost under 20% of the small body's throughput. "
        "The machine is shared: compare rows of one run, not runs.",
        "",
    ]
    text = "\n".join(lines)
    console.print(text)
    if not args.no_write:
        write_section(args.output, "dos", text)
        console.print(f"wrote the dos section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
