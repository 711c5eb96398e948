"""Policy decisions per second: cold (uncached) and warm (decision cache), in one process.

    .venv/bin/python bench/policy_bench.py [--rounds 5] [--seconds 1.0] [--no-write]

Two roles, one request mix of 2,000 distinct (action, resource, context) requests, half
allowed, a quarter explicitly and a quarter implicitly denied:

* ``plain``: eight short-form statements with wildcards and one deny, no conditions --
  what the core's first evaluator (``bench/_legacy_evaluator.py``, kept verbatim) also
  understands, so both run side by side.  No PyPI package evaluates IAM policies per
  request in-process (``policyuniverse``, ``cloudsplaining``, ``iam-ape`` expand or audit
  policies; ``aws-why`` is a bundled binary), so the previous evaluator is the peer.
* ``conditional``: the same plus conditions on the caller (IP range, scopes, trigger) and
  a ``${ramparts:function}`` variable; only the new evaluator runs it.

Each timed run calls ``decide`` in a tight loop for ``--seconds``; rounds are interleaved
and the median is reported.  Speed is reported, never asserted; the result is written as
the ``bench:policy`` section of docs/benchmarks.md (only that section).
"""

from __future__ import annotations

import argparse
import platform
import random
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from _doc import write_section  # noqa: E402
from _legacy_evaluator import RolePolicy as LegacyRolePolicy  # noqa: E402

from ramparts.manifest import parse_manifest  # noqa: E402
from ramparts.policy.evaluator import RolePolicy, normalize_context  # noqa: E402

SECTION = "## Policy evaluation"
APP = "bench"

PLAIN = [
    {"effect": "allow", "actions": ["kv:GetItem", "kv:Query"], "resources": ["kv:orders/*"]},
    {"effect": "allow", "actions": ["kv:PutItem"], "resources": ["kv:orders/o-*"]},
    {"effect": "deny", "actions": ["kv:PutItem"], "resources": ["kv:orders/o-*-locked"]},
    {"effect": "allow", "actions": ["kv:*"], "resources": ["kv:carts/*"]},
    {"effect": "allow", "actions": ["objects:GetObject"], "resources": ["objects:uploads/img/*"]},
    {"effect": "allow", "actions": ["objects:PutObject"], "resources": ["objects:thumbs/*"]},
    {"effect": "allow", "actions": ["topics:Publish"], "resources": ["topic:order-created"]},
    {"effect": "allow", "actions": ["functions:Invoke"], "resources": ["function:ship-order"]},
]
CONDITIONAL = [
    *PLAIN,
    {
        "effect": "allow",
        "actions": ["kv:GetItem"],
        "resources": ["kv:${ramparts:function}/*"],
        "conditions": {
            "IpAddress": {"aws:SourceIp": ["10.0.0.0/8", "192.168.0.0/16"]},
            "ForAnyValue:StringEquals": {"ramparts:PrincipalScopes": ["reports:read"]},
        },
    },
    {
        "effect": "deny",
        "actions": ["kv:*"],
        "resources": ["kv:carts/*"],
        "conditions": {"StringNotEquals": {"ramparts:trigger": "http"}},
    },
]


def build(statements: list[dict[str, Any]]) -> Any:
    manifest = parse_manifest(
        {
            "app": APP,
            "functions": {
                "fn": {
                    "handler": "h.py:handler",
                    "role": {"statements": statements},
                    "secrets": ["payments-key"],
                }
            },
        }
    )
    return manifest.functions["fn"]


def requests(n: int, seed: int = 7) -> list[tuple[str, str, dict[str, Any]]]:
    rng = random.Random(seed)
    arn = "arn:ramparts:{}:" + APP + ":{}"
    choices = [
        ("kv:GetItem", "kv", "table/orders/o-{}"),
        ("kv:PutItem", "kv", "table/orders/o-{}-locked"),
        ("kv:PutItem", "kv", "table/orders/o-{}"),
        ("kv:DeleteItem", "kv", "table/orders/o-{}"),
        ("kv:GetItem", "kv", "table/orders-archive/o-{}"),
        ("kv:PutItem", "kv", "table/carts/c-{}"),
        ("kv:GetItem", "kv", "table/fn/r-{}"),
        ("objects:GetObject", "objects", "bucket/uploads/img/{}.png"),
        ("objects:GetObject", "objects", "bucket/uploads/docs/{}.pdf"),
        ("topics:Publish", "topics", "topic/order-created"),
        ("secrets:GetSecretValue", "secrets", "secret/payments-key"),
        ("functions:Invoke", "functions", "function/other-{}"),
    ]
    out = []
    for i in range(n):
        action, svc, path = rng.choice(choices)
        ctx = normalize_context(
            {
                "ramparts:app": APP,
                "ramparts:function": "fn",
                "ramparts:trigger": rng.choice(["http", "topic"]),
                "aws:SourceIp": rng.choice(["10.1.2.3", "203.0.113.9"]),
                "ramparts:PrincipalScopes": rng.choice([["reports:read"], ["orders:write"]]),
            }
        )
        out.append((action, arn.format(svc, path.format(i % 500)), ctx))
    return out


def rate(
    decide: Callable[[str, str, dict[str, Any]], Any], reqs: list[Any], seconds: float
) -> float:
    done = 0
    start = time.perf_counter()
    deadline = start + seconds
    n = len(reqs)
    while True:
        for action, resource, ctx in reqs:
            decide(action, resource, ctx)
        done += n
        now = time.perf_counter()
        if now >= deadline:
            return done / (now - start)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--rounds", type=int, default=5)
    p.add_argument("--seconds", type=float, default=1.0)
    p.add_argument("--requests", type=int, default=2000)
    p.add_argument("--output", type=Path, default=ROOT / "docs" / "benchmarks.md")
    p.add_argument("--no-write", action="store_true")
    args = p.parse_args()

    reqs = requests(args.requests)
    plain_cfg, cond_cfg = build(PLAIN), build(CONDITIONAL)
    legacy = LegacyRolePolicy(APP, plain_cfg)
    # the same answers: the new evaluator agrees with the old one on what the old one knows
    fresh = RolePolicy(APP, plain_cfg, cache=False)
    for action, resource, _ in reqs:
        assert fresh.decide(action, resource).outcome == legacy.decide(action, resource).outcome

    plain_warm = RolePolicy(APP, plain_cfg)
    cond_warm = RolePolicy(APP, cond_cfg)
    for action, resource, ctx in reqs:  # warm the caches
        plain_warm.decide(action, resource, ctx)
        cond_warm.decide(action, resource, ctx)
    runs: dict[str, Callable[[str, str, dict[str, Any]], Any]] = {
        "plain: previous evaluator (no decision cache)": lambda a, r, c: legacy.decide(a, r),
        "plain: new evaluator, cold (uncached)": RolePolicy(APP, plain_cfg, cache=False).decide,
        "plain: new evaluator, warm (cached)": plain_warm.decide,
        "conditional: new evaluator, cold (uncached)": RolePolicy(
            APP, cond_cfg, cache=False
        ).decide,
        "conditional: new evaluator, warm (cached)": cond_warm.decide,
    }
    results: dict[str, list[float]] = {name: [] for name in runs}
    for _ in range(args.rounds):
        for name, decide in runs.items():
            results[name].append(rate(decide, reqs, args.seconds))
    outcomes: dict[str, int] = {}
    for action, resource, ctx in reqs:
        o = cond_warm.decide(action, resource, ctx).outcome
        outcomes[o] = outcomes.get(o, 0) + 1

    lines = [
        SECTION,
        "",
        f"`bench/policy_bench.py`, one process, Python {platform.python_version()} on "
        f"{platform.machine()}; median of {args.rounds} interleaved rounds of "
        f"{args.seconds:g} s over {len(reqs)} distinct requests "
        f"({', '.join(f'{v} {k}' for k, v in sorted(outcomes.items()))} on the conditional role).",
        "",
        "| role and evaluator | decisions/s (median) | min | max |",
        "|---|---:|---:|---:|",
    ]
    for name, values in results.items():
        lines.append(
            f"| {name} | {statistics.median(values):,.0f} | {min(values):,.0f} | "
            f"{max(values):,.0f} |"
        )
    lines += [
        "",
        "- Peer: no PyPI package evaluates IAM policies per request in-process "
        "(`policyuniverse`, `cloudsplaining`, `iam-ape` expand or audit policies; `aws-why` "
        "ships a binary), so the baseline is the core's previous minimal evaluator, kept "
        "verbatim in `bench/_legacy_evaluator.py`. It only knows short-form statements, so it "
        "runs the plain role only; both return the same answer for every request (checked "
        "before timing).",
        "- Cold means every call evaluates every statement (the cache is off); warm means the "
        "request was seen before for this role version: the broker's steady state, since the "
        "cache is keyed by action, resource and only the context keys the role reads, and is "
        "dropped when the registry changes. Roles that read the clock "
        "(`aws:CurrentTime`) are never cached and run at the cold rate.",
        "- Target: at least 200,000 warm decisions/s in one process.",
        "",
    ]
    text = "\n".join(lines)
    print(text)
    if not args.no_write:
        write_section(args.output, "policy", text)
        print(f"wrote the policy section of {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
