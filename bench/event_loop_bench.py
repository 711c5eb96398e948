"""Event-loop time one request's body costs the gateway: before and after the dosfixa change.

    .venv/bin/python bench/event_loop_bench.py [--rounds 5] [--write]

The node serves every app and the control API on one asyncio loop; CPU a request
spends on that loop's thread is latency for every other request.  This measures,
in this process and without a node, the CPU time the calling thread spends on the
gateway's body work for a few bodies (the adversarial review's, and ordinary ones):

- **before**: what the gateway did inline up to main ce3bc8b: ``orjson.loads``, the
  nesting walk (``body_too_deep``) and, for bodies of at most 16 KiB, the WAF's
  inspection;
- **after**: what it does inline now: ``parse_json_body`` for JSON bodies of at most
  4 KiB (else the value count and parse go to a worker thread, not counted here) and
  the WAF's inspection only when ``inspection_is_heavy`` says no, under the inline
  work limit (a WorkLimitReached hands it to a thread: the inline part is counted).
  What runs in the thread is measured too (the same calls, on this thread), in its own
  column: moved, not gone.

Thread CPU time (``time.thread_time``), median of the rounds, the two interleaved.
Work moved to a thread is not gone: it is still done, two requests at a time, but no
longer holds the loop.  ``--write`` replaces the ``bench:event-loop`` section of
docs/benchmarks.md.  Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402
from _doc import write_section  # noqa: E402

from ramparts.gateway.checks import GatewayDenied  # noqa: E402
from ramparts.gateway.json_body import parse_json_body  # noqa: E402
from ramparts.gateway.offload import (  # noqa: E402
    INLINE_JSON_BYTES,
    INLINE_WORK,
    inspection_is_heavy,
)
from ramparts.gateway.waf.engine import Waf, WorkLimitReached  # noqa: E402
from ramparts.gateway.waf.request import WafRequest  # noqa: E402
from ramparts.runtime.nesting import body_too_deep  # noqa: E402

DOC = Path(__file__).resolve().parent.parent / "docs" / "benchmarks.md"
JSON = "application/json"
BODIES: dict[str, tuple[bytes, str]] = {
    "6 MB of empty lists `[[],[],...]`": (b"[" + b",".join([b"[]"] * 2_000_000) + b"]", JSON),
    "1.5 MB of empty objects `[{},{},...]`": (b"[" + b",".join([b"{}"] * 500_000) + b"]", JSON),
    "16 KB of `{%` in a JSON field": (orjson.dumps({"t": "{%" * 8180}), JSON),
    "16 KB of `{%` as text/plain": (b"{%" * 8190, "text/plain"),
    "1 KB of `{%` in a JSON field": (orjson.dumps({"t": "{%" * 500}), JSON),
    "small JSON order (~200 B)": (
        orjson.dumps({"customer": "c_01234", "name": "Sean O'Brien", "qty": 2,
                      "note": "Please leave it at the door, thanks!"}),
        JSON,
    ),
}


def _request(body: bytes, ctype: str) -> WafRequest:
    return WafRequest("POST", "/orders", "", [("content-type", ctype)], body, ctype,
                      "POST /orders")


def before(waf: Waf, body: bytes, ctype: str) -> None:
    parsed = None
    if ctype == JSON:
        parsed = orjson.loads(body)
        body_too_deep(body, parsed)
    if len(body) <= 16 * 1024:
        req = _request(body, ctype)
        if parsed is not None:
            req.parsed_json = parsed
        waf.inspect(req)


def after(waf: Waf, body: bytes, ctype: str) -> tuple[float, float]:
    """(ms on the loop, ms in a worker thread) of the gateway's body work now."""
    loop = thread = 0.0
    parsed = None
    start = time.thread_time()
    if ctype == JSON:
        try:
            parsed = parse_json_body(body, 100_000)
        except GatewayDenied:
            return (0.0, _ms(start)) if len(body) > INLINE_JSON_BYTES else (_ms(start), 0.0)
        if len(body) > INLINE_JSON_BYTES:
            thread, start = _ms(start), time.thread_time()
    heavy = inspection_is_heavy([b"/orders", ctype.encode(), body])
    req = _request(body, ctype)
    if parsed is not None:
        req.parsed_json = parsed
    if heavy:
        loop, start = _ms(start), time.thread_time()
        waf.inspect(req)
        return loop, thread + _ms(start)
    try:
        waf.inspect(req, INLINE_WORK)
    except WorkLimitReached:
        loop, start = _ms(start), time.thread_time()
        waf.inspect(req)
        return loop, thread + _ms(start)
    return _ms(start), thread


def _ms(start: float) -> float:
    return (time.thread_time() - start) * 1000


def _loop_ms(waf: Waf, body: bytes, ctype: str) -> float:
    start = time.thread_time()
    before(waf, body, ctype)
    return _ms(start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--write", action="store_true")
    args = parser.parse_args()
    waf = Waf()
    for body, ctype in BODIES.values():  # compile the rule groups outside the measurement
        if len(body) < 20_000:
            after(waf, body, ctype)
    rows = []
    for name, (body, ctype) in BODIES.items():
        old, new, moved = [], [], []
        for _ in range(args.rounds):
            old.append(_loop_ms(waf, body, ctype))
            loop, thread = after(waf, body, ctype)
            new.append(loop)
            moved.append(thread)
        o, n = statistics.median(old), statistics.median(new)
        rows.append(f"| {name} | {len(body):,} | {o:.2f} | {n:.2f} | "
                    f"{(n / o if o else 0):.3f} | {statistics.median(moved):.2f} |")
        print(rows[-1], flush=True)
    text = "\n".join([
        "## Event-loop time per request body: before and after the dosfixa change",
        "",
        "Generated by `bench/event_loop_bench.py --write` (this section only; re-run it).",
        "",
        f"- {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}, {args.rounds} rounds "
        "interleaved, medians of the calling thread's CPU time; shared 2-core machine.",
        "- before: parse + nesting walk + (bodies <= 16 KiB) WAF inspection, all on the loop; "
        "after: only what the gateway still does inline (the rest runs in a worker thread, "
        "two at a time, and still costs CPU there).",
        "",
        "| body | bytes | before: ms on the loop | after: ms on the loop | after / before "
        "| after: ms in a worker thread |",
        "|---|---:|---:|---:|---:|---:|",
        *rows,
    ])
    if args.write:
        write_section(DOC, "event-loop", text)


if __name__ == "__main__":
    main()
