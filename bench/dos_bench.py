"""DoS protections, measured: what the WAF and rate limits cost, and isolation from an abuser.

    .venv/bin/python bench/dos_bench.py [--rounds 5] [--duration 5] [--connections 8]

One throwaway node (``ramparts up`` as shipped: memory rate-limit storage, full auditing,
``RAMPARTS_THROTTLE_WAIT=30`` like the other benches, so calls queue for a worker instead
of being turned into 429s by the concurrency cap), one app, one run:

1. **Overhead.** ``POST`` of a small JSON order (about 600 bytes, a dozen fields) and of a
   100 KB JSON order (200 line items) to routes that differ only in their protections,
   listed in ``CONFIGS``: everything off (``waf: off``, no ``rate:``), the WAF on (the
   default rule set in block mode, as shipped), rate limits on (a per-key route limit no
   request reaches, so every request is counted and answered with the RateLimit-*
   fields), and both.  Same handler, same key, same node.  Each round runs every body
   and configuration once, the order of configurations rotated round by round; the
   median round is reported, with the throughput ratio to "everything off" (target:
   under 20% less throughput on the small body with WAF and rate limits on).
2. **Isolation.** A well-behaved key calls route A (no limit) as fast as its answers come
   back: alone; while a second key sends 90% of its own limit to route B (a control: the
   load a key may legitimately add, from a second client process); and while an abusive
   key, whose own limit is ``ABUSE_LIMIT`` per second (``keys create --rate``), floods
   route B at ten times that.  Conditions rotate round by round; the median rounds of
   the good key are compared (target: at most 20% less throughput and 20% more p99
   under the flood than alone).

Every load generator runs on the same cores as the node (2 on the development machine,
shared with other engineers), so the load average is sampled at every round and reported
with the results, and the node's CPU time per request is reported next to requests/s: it
is less sensitive to other work on the machine than throughput is.

Results go to the ``bench:dos`` section of docs/benchmarks.md (only that section is
replaced).  Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

from _doc import write_section
from loadgen import LoadResult, run_requests
from run import HOST, ROOT, Ramparts, _bin, console, cpu_seconds

SECTION = "## DoS protections: the cost of the WAF and rate limits, and isolation from an abuser"
ABUSE_LIMIT = 20  # requests/s of the abusive key's own limit; it floods at 10x
UNREACHED = "100000000/day"  # a route limit no benchmark run reaches: counted, never refused
LARGE_ITEMS = 165  # line items of the 100 KB order


@dataclass(frozen=True)
class Config:
    """One protection setting under test: a route whose http trigger adds ``fields``."""

    name: str
    fields: str  # extra http-trigger fields, as YAML flow-mapping entries ("" for none)


# The overhead comparison, one route per entry (the first is the baseline of the ratios).
# "waf: off" turns off the WAF's content inspection for the route; its network rules
# (address lists, method and size limits: ramparts.gateway.waf_net) apply in every mode.
CONFIGS = [
    Config("everything off", "waf: off"),
    Config("WAF on", ""),  # the default rule set, block mode: what every route gets
    Config("rate limits on", f"waf: off, rate: {UNREACHED}"),
    Config("WAF + rate limits on", f"rate: {UNREACHED}"),
]


@dataclass(frozen=True)
class Neighbour:
    """What happens on route B while the good key is measured on route A."""

    name: str
    key: str  # which key sends to route B ("" for nobody)
    rate: float  # requests/s sent to route B in all


NEIGHBOURS = [
    Neighbour("alone", "", 0),
    Neighbour(f"another key at 90% of its limit on B ({ABUSE_LIMIT * 0.9:g}/s)", "steady",
              ABUSE_LIMIT * 0.9),
    Neighbour(f"abusive key flooding B at 10x its limit ({ABUSE_LIMIT * 10}/s)", "abuser",
              ABUSE_LIMIT * 10),
]

HANDLER = '''
def handler(event, context):
    return {"statusCode": 200, "headers": {"content-type": "application/json"},
            "body": '{"ok": true}'}
'''


def _manifest() -> str:
    routes = []
    for i, cfg in enumerate(CONFIGS):
        extra = f", {cfg.fields}" if cfg.fields else ""
        routes.append(f"      - http: {{method: POST, path: /cfg{i}, auth: api_key{extra}}}")
    return "\n".join([
        "app: dosbench",
        "functions:",
        "  orders:",
        "    handler: h.py:handler",
        "    concurrency: 4",
        "    triggers:",
        *routes,
        # Isolation: A and B are separate functions, each with its own workers.
        "  route-a:",
        "    handler: h.py:handler",
        "    concurrency: 4",
        "    triggers:",
        "      - http: {method: GET, path: /a, auth: api_key}",
        "  route-b:",
        "    handler: h.py:handler",
        "    concurrency: 4",
        "    triggers:",
        "      - http: {method: GET, path: /b, auth: api_key}",
        "",
    ])


def _order(n_items: int, note_words: int) -> dict:
    """An order as a shop's API would receive it: names with apostrophes, an address,
    prices, free text with punctuation -- the kinds of values the WAF must let pass."""
    items = []
    for i in range(n_items):
        items.append({
            "sku": f"TEA-{i:04d}-250",
            "name": f"Loose-leaf tea no. {i}, 250 g (O'Hara's blend)",
            "qty": 1 + i % 5,
            "unit_price": round(4.5 + (i % 13) * 0.75, 2),
            "note": " ".join([f"Line {i}: packed in a resealable pouch; keep it dry & away "
                              "from light."] * note_words),
        })
    return {
        "order_id": "ord-20261203-0042",
        "customer": {"name": "Siobhán O'Connor", "email": "siobhan.oconnor@example.com",
                     "phone": "+353 21 555 0142"},
        "shipping": {"street": "12 Harbour Road, Apt. 3", "city": "Cork",
                     "postcode": "T12 X2Y4", "country": "IE"},
        "items": items,
        "currency": "EUR",
        "coupon": "WINTER-10",
        "gift": False,
        "note": "Please leave it with the neighbour at no. 14 if I'm out -- thanks!",
    }


def _bodies() -> dict[str, bytes]:
    small = json.dumps(_order(2, 1), ensure_ascii=False).encode()
    large = json.dumps(_order(LARGE_ITEMS, 7), ensure_ascii=False).encode()
    return {"small JSON": small, "100 KB JSON": large}


def _json_values(value: object) -> int:
    """Keys and strings of a JSON document: what the WAF inspects (numbers it skips)."""
    if isinstance(value, dict):
        return sum(1 + _json_values(v) for v in value.values())
    if isinstance(value, list):
        return sum(_json_values(v) for v in value)
    return 1 if isinstance(value, str) else 0


def _key(node: Ramparts, name: str, *args: str) -> str:
    out = subprocess.run([_bin("ramparts"), "keys", "create", "--name", name, *args],
                         env=node.env, capture_output=True, text=True, timeout=60, check=True)
    return out.stdout.strip()


def _sender(url: str, key: str, rate: float, duration: float,
            queue: multiprocessing.Queue) -> None:
    """Route B's sender, in its own process: ``rate`` requests/s in all for ``duration``."""
    queue.put("ready")
    _, statuses = run_requests(url, headers={"X-API-Key": key}, duration=duration,
                               connections=4, rate=rate)
    queue.put(statuses)


@dataclass
class Round:
    """One measurement: the load generator's result, and the node's CPU and the load then."""

    result: LoadResult
    cpu_main_s: float  # CPU seconds of the node process during the measurement
    cpu_all_s: float  # ... of the node and every process under it (zygotes, workers)
    loadavg: float  # 1-minute load average at the start of the measurement
    statuses: dict[int, int] = field(default_factory=dict)


def _measure(node: Ramparts, run: Callable[[], tuple[LoadResult, dict[int, int]]]) -> Round:
    assert node.server.proc is not None
    pid = node.server.proc.pid
    load = os.getloadavg()[0]
    c0 = cpu_seconds(pid)
    result, statuses = run()
    c1 = cpu_seconds(pid)
    return Round(result, c1[0] - c0[0], c1[1] - c0[1], load, statuses)


def _rotated(items: list, r: int) -> list:
    k = r % len(items)
    return items[k:] + items[:k]


@dataclass(frozen=True)
class Summary:
    rps: float
    p99: float
    cpu_main_ms: float  # node CPU per answered request, ms
    cpu_all_ms: float
    errors: int
    rounds: tuple[float, ...]  # req/s of each round, in order


def _summary(rounds: list[Round]) -> Summary:
    def per_request(seconds: float, r: Round) -> float:
        return seconds * 1000 / r.result.requests if r.result.requests else float("nan")

    return Summary(
        rps=statistics.median(x.result.rps for x in rounds),
        p99=statistics.median(x.result.p99_ms for x in rounds),
        cpu_main_ms=statistics.median(per_request(x.cpu_main_s, x) for x in rounds),
        cpu_all_ms=statistics.median(per_request(x.cpu_all_s, x) for x in rounds),
        errors=sum(x.result.errors for x in rounds),
        rounds=tuple(x.result.rps for x in rounds),
    )


def _paired(a: list[Round], b: list[Round]) -> list[float]:
    """Per-round throughput ratios b/a (a and b measured in the same round)."""
    return [y.result.rps / x.result.rps for x, y in zip(a, b, strict=True) if x.result.rps]


def _smoke(node: Ramparts, headers: dict[str, str], bodies: dict[str, bytes],
           good: str) -> None:
    """Every route answers 200 to the bodies the bench sends: nothing is measured as a 403."""
    for body_name, body in bodies.items():
        for i, cfg in enumerate(CONFIGS):
            _, statuses = run_requests(f"http://{HOST}:{node.port}/cfg{i}", method="POST",
                                       headers=headers, body=body, duration=30, connections=1,
                                       rate=None, max_requests=1)
            if statuses != {200: 1}:
                raise RuntimeError(f"smoke: POST /cfg{i} ({cfg.name}, {body_name}) answered "
                                   f"{statuses}, not 200:\n{node.server.tail()}")
    _, statuses = run_requests(f"http://{HOST}:{node.port}/a", headers={"X-API-Key": good},
                               duration=30, connections=1, max_requests=1)
    if statuses != {200: 1}:
        raise RuntimeError(f"smoke: GET /a answered {statuses}")


def _check_costs(bodies: dict[str, bytes], repeat: int) -> dict[str, float]:
    """Median µs per request of what each protection adds on the gateway's loop, in this
    process with no node and no other load from the bench: the WAF's content inspection
    as ``Gateway._inspect`` runs it (building the ``WafRequest`` from the request's header
    fields, reusing the parsed body), and the per-key route limit as
    ``PrincipalRateLimitCheck`` counts it (one moving-window hit in ``memory://``, the
    RateLimit-* fields built for the answer).  Less noisy than the node-level rows: CPU
    time of this process only, without the event loop, the HTTP server and the other
    engineers' work."""
    from ramparts.gateway.waf.engine import Waf
    from ramparts.gateway.waf.request import WafRequest
    from ramparts.ratelimit.headers import rate_limit_headers, tighter
    from ramparts.ratelimit.limiter import RateLimiter, parse_limits

    raw_headers = [(b"host", b"127.0.0.1:8080"), (b"user-agent", b"ramparts-bench"),
                   (b"x-api-key", b"rk_" + b"a" * 43), (b"content-type", b"application/json")]
    waf = Waf()
    out: dict[str, float] = {}

    def timed(fn: Callable[[], object], n: int) -> float:
        fn()  # warm: compiled groups, memoised short values (a client's repeated headers)
        samples = []
        for _ in range(5):
            # CPU time of this process, not wall time: other work on the shared cores
            # delays the batch but does not add to it.
            t0 = time.process_time()
            for _ in range(n):
                fn()
            samples.append((time.process_time() - t0) / n * 1e6)
        return statistics.median(samples)

    for body_name, body in bodies.items():
        parsed = json.loads(body)

        def inspect(body: bytes = body, parsed: object = parsed) -> object:
            headers = [(k.decode("latin-1").lower(), v.decode("latin-1"))
                       for k, v in raw_headers + [(b"content-length", str(len(body)).encode())]]
            request = WafRequest(method="POST", path="/cfg1", query="", headers=headers,
                                 body=body, content_type="application/json",
                                 route="POST /cfg1")
            request.parsed_json = parsed
            return waf.inspect(request)

        n = max(1, repeat // 100) if len(body) > 10_000 else repeat
        out[f"WAF content inspection, {body_name}"] = timed(inspect, n)

    limiter = RateLimiter("memory://")
    policy = parse_limits([UNREACHED])
    identity = ("route", "dosbench", "POST /cfg3", "principal", "key:0123456789abcdef")

    async def hits(n: int) -> None:
        for _ in range(n):
            outcome = await limiter.hit(policy, identity)
            rate_limit_headers(tighter(None, outcome))

    import asyncio

    loop = asyncio.new_event_loop()
    try:
        out["rate limit: count one request (memory://) and build the RateLimit-* fields"] = (
            timed(lambda: loop.run_until_complete(hits(repeat)), 1) / repeat)
    finally:
        loop.close()
    return out


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--duration", type=float, default=5.0, help="seconds per measurement")
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--connections", type=int, default=8)
    p.add_argument("--warmup", type=float, default=2.0)
    p.add_argument("--skip-isolation", action="store_true", help="overhead only (not written)")
    p.add_argument("--skip-overhead", action="store_true", help="isolation only (not written)")
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args(argv)
    if not (0 < args.duration <= 120 and 0 < args.rounds <= 20 and 0 < args.connections <= 256
            and 0 <= args.warmup <= 30):
        p.error("out-of-range option")
    if args.skip_isolation or args.skip_overhead:
        args.no_write = True  # a partial run never replaces the section
    started, t0 = time.gmtime(), time.monotonic()
    load_start = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="ramparts-dosbench-"))
    node = Ramparts(work / "node")
    isolation: dict[str, list[Round]] = {n.name: [] for n in NEIGHBOURS}
    senders: dict[str, dict[int, int]] = {n.name: {} for n in NEIGHBOURS}
    overhead: dict[tuple[str, str], list[Round]] = {}
    bodies = _bodies()
    ok = False
    try:
        app = work / "app"
        app.mkdir()
        (app / "h.py").write_text(HANDLER)
        (app / "ramparts.yaml").write_text(_manifest())
        node.start()
        node.deploy(app)
        keys = {
            "good": _key(node, "good"),
            "steady": _key(node, "steady", "--rate", f"{ABUSE_LIMIT}/second"),
            "abuser": _key(node, "abuser", "--rate", f"{ABUSE_LIMIT}/second"),
            "bench": _key(node, "bench"),
        }
        headers = {"X-API-Key": keys["bench"], "Content-Type": "application/json"}
        _smoke(node, headers, bodies, keys["good"])
        url_a, url_b = f"http://{HOST}:{node.port}/a", f"http://{HOST}:{node.port}/b"

        def good_key() -> tuple[LoadResult, dict[int, int]]:
            return run_requests(url_a, headers={"X-API-Key": keys["good"]},
                                duration=args.duration, connections=args.connections)

        # -- overhead -----------------------------------------------------------------------
        if not args.skip_overhead:
            for body in bodies.values():  # warm-up of each route (connections, workers, WAF)
                for i in range(len(CONFIGS)):
                    run_requests(f"http://{HOST}:{node.port}/cfg{i}", method="POST",
                                 headers=headers, body=body, duration=args.warmup / 2,
                                 connections=args.connections)
            for r in range(args.rounds):
                for body_name, body in bodies.items():
                    for cfg in _rotated(CONFIGS, r):
                        i = CONFIGS.index(cfg)
                        url = f"http://{HOST}:{node.port}/cfg{i}"
                        rnd = _measure(node, lambda url=url, body=body: run_requests(
                            url, method="POST", headers=headers, body=body,
                            duration=args.duration, connections=args.connections))
                        overhead.setdefault((body_name, cfg.name), []).append(rnd)
                        res = rnd.result
                        console.print(
                            f"  overhead {r + 1}/{args.rounds} {body_name:<11} {cfg.name:<21}"
                            f" {res.rps:7.0f} req/s  p99 {res.p99_ms:7.2f} ms  CPU/req "
                            f"{rnd.cpu_all_s * 1000 / max(res.requests, 1):5.2f} ms  "
                            f"load {rnd.loadavg:.1f}  {rnd.statuses}")
        # -- isolation ----------------------------------------------------------------------
        if not args.skip_isolation:
            run_requests(url_a, headers={"X-API-Key": keys["good"]}, duration=args.warmup,
                         connections=args.connections)
            ctx = multiprocessing.get_context("spawn")
            for r in range(args.rounds):
                for nb in _rotated(NEIGHBOURS, r):
                    proc = None
                    queue: multiprocessing.Queue = ctx.Queue()
                    if nb.key:
                        proc = ctx.Process(target=_sender, args=(
                            url_b, keys[nb.key], nb.rate, args.duration + 2.0, queue))
                        proc.start()
                        queue.get(timeout=60)  # the sender's interpreter is up
                        time.sleep(0.75)  # ... and its traffic under way
                    rnd = _measure(node, good_key)
                    rnd.statuses = {}  # route B's answers, below (the good key's are all 200s)
                    if proc is not None:
                        statuses = queue.get(timeout=args.duration + 60)
                        proc.join(30)
                        for code, n in statuses.items():
                            senders[nb.name][code] = senders[nb.name].get(code, 0) + n
                        rnd.statuses = statuses
                    isolation[nb.name].append(rnd)
                    res = rnd.result
                    console.print(
                        f"  isolation {r + 1}/{args.rounds} {nb.name[:40]:<40} {res.rps:7.0f} "
                        f"req/s  p99 {res.p99_ms:7.2f} ms  errors {res.errors}  "
                        f"load {rnd.loadavg:.1f}  B: {rnd.statuses}")
        ok = True
    finally:
        node.stop()
        if ok:
            shutil.rmtree(work, ignore_errors=True)
        else:
            console.print(f"node log kept in {work}")
    costs = {} if args.skip_overhead else _check_costs(bodies, 2000)  # the node is stopped
    for name, us in costs.items():
        console.print(f"  in-process: {name}: {us:,.1f} µs")
    load_end = os.getloadavg()
    seconds = time.monotonic() - t0
    text = _report(args, argv, started, seconds, load_start, load_end, bodies, overhead,
                   isolation, senders, costs)
    console.print(text)
    if not args.no_write:
        write_section(args.output, "dos", text)
        console.print(f"wrote the dos section of {args.output}")
    return 0


def _loads(rounds: list[Round]) -> str:
    values = [x.loadavg for x in rounds]
    return f"{min(values):.1f}-{max(values):.1f}" if values else "n/a"


def _report(args: argparse.Namespace, argv: list[str], started: time.struct_time,
            seconds: float, load_start: tuple[float, float, float],
            load_end: tuple[float, float, float], bodies: dict[str, bytes],
            overhead: dict[tuple[str, str], list[Round]], isolation: dict[str, list[Round]],
            senders: dict[str, dict[int, int]], costs: dict[str, float]) -> str:
    every = [x for rs in overhead.values() for x in rs] + [
        x for rs in isolation.values() for x in rs]
    lines = [
        SECTION,
        "",
        "Generated by `bench/dos_bench.py` (this section only); re-run it to refresh it.",
        "",
        "```",
        " ".join([".venv/bin/python", "bench/dos_bench.py", *argv]),
        "```",
        "",
        f"- {time.strftime('%Y-%m-%d %H:%M UTC', started)}, {seconds:.0f} s; "
        f"{os.cpu_count()} CPUs, shared with other engineers' work: load average "
        f"{' '.join(f'{x:.2f}' for x in load_start)} at the start, "
        f"{' '.join(f'{x:.2f}' for x in load_end)} at the end, 1-minute value "
        f"{_loads(every)} over the measurements.",
        f"- Load generator: bench/loadgen.py `run_requests` (asyncio + uvloop, keep-alive), "
        f"{args.connections} connections, closed loop (next request when the answer is in), "
        f"{args.rounds} rounds of {args.duration:g} s per configuration, the order rotated "
        "round by round; tables show the median round. **The load generators run on the same "
        "cores as the node**, so a configuration that costs the node more CPU also leaves "
        "less to the generator, and other work on the machine moves every number: compare "
        "rows of one run, not runs.",
        "- One node as shipped (`ramparts up`: `memory://` rate-limit storage, full auditing, "
        "invocation log), with `RAMPARTS_THROTTLE_WAIT=30` as in the other benches: "
        "more connections than workers (`concurrency: 4`) queue for a worker instead of "
        "getting the fast `429 function_throttled`. The handler returns a constant; each "
        "request is `auth: api_key`.",
        "- \"node CPU per request\": user + system CPU time of the node process (the gateway, "
        "where the WAF and the limits run) / of the node and all its processes (zygotes, "
        "workers), divided by the answers, read from /proc around each measurement.",
        "",
    ]
    if overhead:
        lines += _overhead_lines(bodies, overhead)
    if costs:
        lines += [
            "In this process, after the node has stopped (`_check_costs` in the script: the "
            "same calls the gateway makes, without the HTTP server and event loop around "
            "them; CPU time of the process, median of 5 batches; the same body every time, "
            "so values of at most 256 characters hit the WAF's memo as a client's repeated "
            "fields do):",
            "",
            "| what the protection adds per request | µs |",
            "|---|---:|",
            *(f"| {name} | {us:,.1f} |" for name, us in costs.items()),
            "",
        ]
    if isolation and all(isolation.values()):
        lines += _isolation_lines(isolation, senders)
    return "\n".join(lines)


def _overhead_lines(bodies: dict[str, bytes], overhead: dict[tuple[str, str], list[Round]]
                    ) -> list[str]:
    base_name = CONFIGS[0].name
    lines = [
        "### Overhead: the same route with and without the WAF and rate limits",
        "",
        "| body | configuration | req/s | throughput vs everything off (per-round pairs) "
        "| p99 ms | node CPU per request, ms: node / all | errors |",
        "|---|---|---:|---|---:|---:|---:|",
    ]
    verdict = ""
    for body_name in bodies:
        base_rounds = overhead[(body_name, base_name)]
        base = _summary(base_rounds)
        for cfg in CONFIGS:
            rounds = overhead[(body_name, cfg.name)]
            s = _summary(rounds)
            pairs = ", ".join(f"{x * 100:.0f}" for x in _paired(base_rounds, rounds))
            ratio = s.rps / base.rps if base.rps else float("nan")
            lines.append(
                f"| {body_name} ({len(bodies[body_name]):,} B) | {cfg.name} | {s.rps:,.0f} | "
                f"{ratio * 100:.1f}% ({pairs}) | {s.p99:.1f} | "
                f"{s.cpu_main_ms:.2f} / {s.cpu_all_ms:.2f} | {s.errors} |")
            if body_name == "small JSON" and cfg is CONFIGS[-1]:
                cost = 1 - ratio
                lo, hi = _spread(_paired(base_rounds, rounds))
                per = {c.name: _summary(overhead[(body_name, c.name)]).cpu_main_ms
                       for c in CONFIGS}
                verdict = (
                    f"**Small body, WAF + rate limits on: {abs(cost) * 100:.1f}% "
                    f"{'less' if cost >= 0 else 'more'} throughput "
                    f"than everything off** (target: under 20% less; "
                    f"{'met' if cost < 0.2 else 'not met'}; the rounds' own ratios ranged "
                    f"{lo * 100:.0f}-{hi * 100:.0f}%). The node's CPU time per request, which "
                    "other work on the machine moves less than throughput, rose "
                    f"{(s.cpu_main_ms / base.cpu_main_ms - 1) * 100:+.0f}% in its own "
                    f"process ({base.cpu_main_ms:.2f} -> {s.cpu_main_ms:.2f} ms): "
                    f"{per[CONFIGS[1].name] - base.cpu_main_ms:+.2f} ms with the WAF alone, "
                    f"{per[CONFIGS[2].name] - base.cpu_main_ms:+.2f} ms with rate limits "
                    "alone. On these 2 cores the node and the load generator are CPU-bound, "
                    "so the CPU a protection adds per request comes off the throughput.")
    lines += [
        "",
        verdict,
        "",
        "Each configuration is its own route of one function (`CONFIGS` in the script): "
        "\"everything off\" is `waf: off` on the route and no `rate:`; \"WAF on\" is the "
        "default rule set in block mode (what a route gets when the manifest says nothing); "
        f"\"rate limits on\" is `rate: {UNREACHED}` counted per key (`rate_key: auto` on a "
        "private route): every request is counted and answered with the RateLimit-* fields, "
        "none is refused. `waf: off` turns off content inspection only: the WAF's network "
        "rules (address lists, method and size limits) run in every row. The small body is "
        "an order with a customer, an address, two line items and a note (apostrophes, "
        "accents, punctuation); the large one the same order with "
        f"{LARGE_ITEMS} line items, {_json_values(json.loads(bodies['100 KB JSON'])):,} JSON "
        "keys and strings for the WAF to inspect (its limit is 2,048 values). "
        "Every answer of every row was a 200 (errors: non-2xx answers and socket errors).",
        "",
    ]
    return lines


def _isolation_lines(isolation: dict[str, list[Round]], senders: dict[str, dict[int, int]]
                     ) -> list[str]:
    alone_rounds = isolation[NEIGHBOURS[0].name]
    alone = _summary(alone_rounds)
    lines = [
        "### Isolation: a well-behaved key while another key floods at 10x its limit",
        "",
        f"The good key calls route A (`GET /a`, no limit) on the connections above. Route B "
        f"is another function; the keys that call it have their own limit of "
        f"{ABUSE_LIMIT}/second (`keys create --rate`) and send from a second process, paced "
        "(open loop, 4 connections).",
        "",
        "| good key on route A | req/s | vs alone (per-round pairs) | p99 ms | vs alone "
        "| node CPU per request, ms: node / all | errors |",
        "|---|---:|---|---:|---:|---:|---:|",
    ]
    for nb in NEIGHBOURS:
        rounds = isolation[nb.name]
        s = _summary(rounds)
        pairs = ", ".join(f"{x * 100:.0f}" for x in _paired(alone_rounds, rounds))
        lines.append(
            f"| {nb.name} | {s.rps:,.0f} | {s.rps / alone.rps * 100:.1f}% ({pairs}) | "
            f"{s.p99:.1f} | {(s.p99 / alone.p99 - 1) * 100:+.1f}% | "
            f"{s.cpu_main_ms:.2f} / {s.cpu_all_ms:.2f} | {s.errors} |")
    flood = _summary(isolation[NEIGHBOURS[-1].name])
    control = _summary(isolation[NEIGHBOURS[1].name])
    drop = 1 - flood.rps / alone.rps
    p99_up = flood.p99 / alone.p99 - 1
    lo, hi = _spread(_paired(alone_rounds, isolation[NEIGHBOURS[-1].name]))
    c_lo, c_hi = _spread(_paired(alone_rounds, isolation[NEIGHBOURS[1].name]))
    st = senders[NEIGHBOURS[-1].name]
    sent, refused = sum(st.values()), st.get(429, 0)
    steady = senders[NEIGHBOURS[1].name]
    lines += [
        "",
        f"**Under the flood: throughput {-drop * 100:+.1f}%, p99 {p99_up * 100:+.1f}%** "
        f"(target: at most 20% worse in each: "
        f"{'met' if drop <= 0.2 and p99_up <= 0.2 else 'not met'}; the rounds' own "
        f"throughput ratios ranged {lo * 100:.0f}-{hi * 100:.0f}%, the control's "
        f"{c_lo * 100:.0f}-{c_hi * 100:.0f}%). Against the control instead of alone, the "
        f"flood's excess costs the good key {(1 - flood.rps / control.rps) * 100:+.1f}% "
        f"throughput and {(flood.p99 / control.p99 - 1) * 100:+.1f}% p99. "
        f"{_conclusive(lo, hi)} The flood's answers: "
        f"{sent:,} in all, {refused:,} refused with `429 rate_limited` "
        f"({refused / sent * 100 if sent else 0:.0f}%), the rest admitted within the key's "
        f"limit ({_statuses(st)}); the control key's: {_statuses(steady)}. Refusals never "
        "reach a worker and are audited aggregated (one record per key, route and limit "
        "and second, and one more for their authentications). The node CPU column "
        "counts the node's work for route B as well, "
        "divided by the good key's answers. The control row separates the cost of the "
        "refused excess (flood vs control) from what any second client on these 2 cores "
        "costs (control vs alone): the admitted requests, and the sending process itself.",
        "",
    ]
    return lines


def _spread(ratios: list[float]) -> tuple[float, float]:
    return (min(ratios), max(ratios)) if ratios else (float("nan"), float("nan"))


def _conclusive(lo: float, hi: float) -> str:
    """Whether the rounds agree closely enough to read a 20% target from their median."""
    if hi - lo <= 0.2:
        return ""
    return ("The rounds disagree by more than the target's 20%, so on this machine's load "
            "this run can neither show nor rule out a 20% effect; re-run on a quieter machine.")


def _statuses(statuses: dict[int, int]) -> str:
    return ", ".join(f"{n:,} x {code}" for code, n in sorted(statuses.items())) or "none"


if __name__ == "__main__":
    sys.exit(main())
