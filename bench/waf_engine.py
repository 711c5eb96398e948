"""Cost of the WAF's content inspection per request (engine only, no node).

    python bench/waf_engine.py [--baseline-rules OLD.yaml | --baseline-code DIR]

Inspects a small JSON body (an order, ~200 bytes), a 100 KB JSON body
(many text fields of plain words) and the dos bench's 100 KB order
(``bench/dos_bench.py``: 165 line items of punctuated prose, ``;``, ``&``, ``:``,
apostrophes) with the default rules, and prints the median time per request.
Repeating one body lets its short values hit the engine's memo (as a
client's headers do in practice); the "new values" lines vary the text on
every request, so no value is remembered from the one before (an attacker
varies what it sends).  The gateway adds only building the ``WafRequest``; the node-level
throughput comparison with the WAF on and off belongs in the issue's shared
gateway bench.

``--baseline-rules`` (say ``git show main:ramparts/gateway/waf/rules/default.yaml``
saved to a file) measures that rule set too, interleaved in the same run, and
prints the ratio of the current rules to it: whether a rule change kept the
per-request cost flat.

``--baseline-code DIR`` (a directory holding another version's ``ramparts``
package, say ``git archive main ramparts | tar -x -C DIR``) measures that
engine, with the same rules file it ships, against this one: each runs in a
process of its own (``--engine-root``), three alternating rounds (``--rounds``), and the
ratio of the medians is printed.  Times are CPU time of the measuring process
(``time.process_time``): other work on a shared machine delays a round but
does not add to it.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import string
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

# --engine-root DIR: import ramparts from DIR (an older version's package) instead of here
_ROOT = str(Path(__file__).resolve().parent.parent)
_ENGINE = next(
    (b for a, b in zip(sys.argv, sys.argv[1:], strict=False) if a == "--engine-root"), _ROOT
)
sys.path.insert(0, _ROOT)
sys.path.insert(0, _ENGINE)
sys.path.insert(0, str(Path(__file__).resolve().parent))  # dos_bench's own imports

from dos_bench import LARGE_ITEMS, _order  # noqa: E402

from ramparts.gateway.waf.engine import Waf  # noqa: E402
from ramparts.gateway.waf.request import WafRequest  # noqa: E402
from ramparts.gateway.waf.rules import parse_rules  # noqa: E402

HEADERS = [
    ("user-agent", "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 Chrome/124.0"),
    ("content-type", "application/json"),
    ("authorization", "Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxIn0.sig"),
]
SMALL = {
    "customer": "c_01234",
    "name": "Seán O'Brien",
    "lines": [{"sku": "A-1", "qty": 2}],
    "note": "Please leave it at the door, thanks!",
}
BIG = {
    "items": [
        {
            "id": i,
            "title": f"Item number {i}",
            "description": "Lorem ipsum dolor sit amet, consectetur adipiscing elit. " * 3,
            "tags": ["red", "blue"],
        }
        for i in range(400)
    ]
}


ORDER = _order(LARGE_ITEMS, 7)  # the dos bench's 100 KB order


def _fresh_order(i: int) -> dict:
    """The dos bench's order with every line's text new (request ``i``): nothing remembered."""
    order = json.loads(json.dumps(ORDER))
    for line in order["items"]:
        line["name"] = f"{line['name']} r{i}"
        line["note"] = line["note"].replace("Line ", f"Line {i}/", 1)
    return order


def _random_words(i: int) -> dict:
    """~75 KB of made-up words, new in every request: no word is ever seen twice.

    The worst case for a prefilter that remembers words (an attacker's body, not a shop's).
    """
    rnd = random.Random(i)

    def word() -> str:
        return "".join(rnd.choice(string.ascii_lowercase) for _ in range(rnd.randint(2, 7)))

    return {
        "items": [
            {"note": " ".join(word() for _ in range(60)) + "; ok & done: x's", "n": word()}
            for _ in range(200)
        ]
    }


def _measure_orders(waf: Waf, rounds: int, make: Callable[[int], dict] | None = None) -> float:
    """The 100 KB order, its text new every time (built before the clock starts)."""
    reqs = []
    for i in range(rounds + 1):
        data = json.dumps((make or _fresh_order)(i), ensure_ascii=False).encode()
        reqs.append(
            WafRequest(
                "POST",
                "/api/orders",
                "",
                HEADERS,
                data,
                "application/json",
                "POST /api/orders",
                json.loads(data),
            )
        )
    waf.inspect(reqs[0])
    times = []
    for req in reqs[1:]:
        t = time.process_time()
        waf.inspect(req)
        times.append(time.process_time() - t)
    return statistics.median(times)


def _measure(waf: Waf, body: dict, rounds: int) -> tuple[float, int]:
    data = json.dumps(body).encode()
    parsed = json.loads(data)
    req = WafRequest(
        "POST", "/api/orders", "", HEADERS, data, "application/json", "POST /api/orders", parsed
    )
    waf.inspect(req)  # warm the rule groups
    times = []
    for _ in range(rounds):
        t = time.process_time()
        waf.inspect(req)
        times.append(time.process_time() - t)
    return statistics.median(times), len(data)


def _measure_unique(waf: Waf, rounds: int) -> float:
    """Small bodies whose text values differ every time (no memoised value helps)."""
    times = []
    for i in range(rounds):
        body = {**SMALL, "name": f"Seán O'Brien {i}", "note": f"Leave it at door {i}, thanks!"}
        data = json.dumps(body).encode()
        req = WafRequest(
            "POST",
            "/api/orders",
            "",
            HEADERS,
            data,
            "application/json",
            "POST /api/orders",
            json.loads(data),
        )
        t = time.process_time()
        waf.inspect(req)
        times.append(time.process_time() - t)
    return statistics.median(times)


CASES = (
    "small JSON",
    "100 KB JSON",
    "small JSON, new values",
    "100 KB order (dos)",
    "100 KB order, new values",
    "75 KB random words, new",
)


def _all_cases(waf: Waf) -> dict[str, float]:
    return {
        "small JSON": _measure(waf, SMALL, 2000)[0],
        "100 KB JSON": _measure(waf, BIG, 20)[0],
        "small JSON, new values": _measure_unique(waf, 2000),
        "100 KB order (dos)": _measure(waf, ORDER, 20)[0],
        "100 KB order, new values": _measure_orders(waf, 20),
        "75 KB random words, new": _measure_orders(waf, 10, _random_words),
    }


def _compare_code(baseline: Path, rounds: int) -> None:
    """This engine against the one under ``baseline``, each in its own process, alternating."""
    env = {**os.environ, "PYTHONDONTWRITEBYTECODE": "1"}
    runs: dict[str, list[dict[str, float]]] = {"baseline": [], "current": []}
    for _ in range(rounds):
        for which, extra in (("baseline", ["--engine-root", str(baseline)]), ("current", [])):
            out = subprocess.run(
                [sys.executable, __file__, "--json", *extra],
                check=True,
                capture_output=True,
                text=True,
                env=env,
            )
            runs[which].append(json.loads(out.stdout))
    print(f"{'':28} {'baseline µs':>12} {'current µs':>12} {'ratio':>7}")
    for name in CASES:
        old = statistics.median(r[name] for r in runs["baseline"])
        new = statistics.median(r[name] for r in runs["current"])
        print(f"{name:28} {old * 1e6:12.1f} {new * 1e6:12.1f} {new / old:7.2f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline-rules", type=Path, help="a rule file to compare against")
    parser.add_argument("--baseline-code", type=Path, help="a directory holding another ramparts")
    parser.add_argument("--rounds", type=int, default=3, help="alternations (--baseline-code)")
    parser.add_argument("--engine-root", help=argparse.SUPPRESS)
    parser.add_argument("--json", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.baseline_code is not None:
        _compare_code(args.baseline_code, args.rounds)
        return
    waf = Waf()
    if args.json:
        print(json.dumps(_all_cases(waf)))
        return
    if args.baseline_rules is None:
        for name, body, rounds in (
            ("small JSON", SMALL, 2000),
            ("100 KB JSON", BIG, 20),
            ("100 KB order (dos)", ORDER, 20),
        ):
            median, size = _measure(waf, body, rounds)
            print(f"{name:28} {size:>7} bytes: median {median * 1e6:9.1f} µs per request")
        for label, median in (
            ("small JSON, new values", _measure_unique(waf, 2000)),
            ("100 KB order, new values", _measure_orders(waf, 20)),
            ("75 KB random words, new", _measure_orders(waf, 10, _random_words)),
        ):
            print(f"{label:28} {'':>7}        median {median * 1e6:9.1f} µs per request")
        return
    text = args.baseline_rules.read_text()
    base = Waf(base_rules=parse_rules(text, args.baseline_rules.name, plain_default=False))
    print(f"{'':28} {'baseline µs':>12} {'current µs':>12} {'ratio':>7}")
    for name, measure in (
        ("small JSON", lambda w: _measure(w, SMALL, 2000)[0]),
        ("100 KB JSON", lambda w: _measure(w, BIG, 20)[0]),
        ("small JSON, new values", lambda w: _measure_unique(w, 2000)),
        ("100 KB order (dos)", lambda w: _measure(w, ORDER, 20)[0]),
        ("100 KB order, new values", lambda w: _measure_orders(w, 20)),
        ("75 KB random words, new", lambda w: _measure_orders(w, 10, _random_words)),
    ):
        # three alternating rounds each, so drift on a shared machine hits both alike
        olds, news = [], []
        for _ in range(3):
            olds.append(measure(base))
            news.append(measure(waf))
        old, new = statistics.median(olds), statistics.median(news)
        print(f"{name:28} {old * 1e6:12.1f} {new * 1e6:12.1f} {new / old:7.2f}")


if __name__ == "__main__":
    main()
