"""Authentication overhead: the hello route unauthenticated, behind an API key, behind a JWT.

    .venv/bin/python bench/auth_bench.py [--rounds 3] [--duration 10] [--connections 32]

One throwaway node (bench/run.py's ``Ramparts`` helper), one app with three routes to the same
hello handler: ``/hello`` (``auth: none``), ``/hello-key`` (``auth: api_key``, key sent as
``X-API-Key``) and ``/hello-jwt`` (``auth: jwt``, RS256 against a local JWKS file). Rounds are
interleaved A B C A B C ... after a warm-up (so the key cache and the parsed JWKS are warm), and
the median round is reported, req/s and p99 side by side, then written as the ``bench:auth``
section of docs/benchmarks.md (only that section is replaced).

Speed is reported, never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from _doc import write_section
from joserfc import jwt
from joserfc.jwk import RSAKey
from loadgen import LoadResult, _conn_loop, _Stats, parse_wrk, percentile, wrk_path
from run import BENCH, HOST, ROOT, Ramparts, _bin, console, http_get

SECTION = "## Authentication overhead"

MANIFEST = """
app: authbench
auth:
  jwt:
    - issuer: https://bench.example/
      audience: bench
      jwks: jwks.json
      algorithms: [RS256]
functions:
  hello:
    handler: hello.py:handler
    concurrency: 2
    triggers:
      - http: {method: GET, path: /hello, auth: none}
      - http: {method: GET, path: /hello-key, auth: api_key}
      - http: {method: GET, path: /hello-jwt, auth: jwt}
"""


def run_with_headers(kind: str, url: str, headers: dict[str, str], duration: float,
                     connections: int) -> LoadResult:
    """bench/loadgen.py's generators with extra request headers."""
    if kind == "wrk":
        cmd = [wrk_path() or "wrk", "-t1", f"-c{connections}", f"-d{max(1, round(duration))}s",
               "--timeout", "5s", "--latency"]
        for k, v in headers.items():
            cmd += ["-H", f"{k}: {v}"]
        out = subprocess.run([*cmd, url], capture_output=True, text=True, timeout=duration + 30,
                             check=True)
        return parse_wrk(out.stdout)
    return asyncio.run(_python_load(url, headers, duration, connections))


async def _python_load(url: str, headers: dict[str, str], duration: float,
                       connections: int) -> LoadResult:
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
    request = (f"GET {parts.path} HTTP/1.1\r\nHost: {parts.hostname}:{parts.port}\r\n"
               f"User-Agent: ramparts-bench\r\n{extra}\r\n").encode()
    stats = _Stats(5_000_000)
    started = time.perf_counter()
    tasks = [asyncio.ensure_future(_conn_loop(parts.hostname or HOST, parts.port or 80, request,
                                              started + duration, stats))
             for _ in range(connections)]
    await asyncio.wait_for(asyncio.gather(*tasks), timeout=duration + 10)
    elapsed = time.perf_counter() - started
    lat = sorted(stats.latencies)
    return LoadResult(len(lat) / elapsed, percentile(lat, 50) * 1000, percentile(lat, 99) * 1000,
                      len(lat), stats.errors, elapsed)


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
    work = Path(tempfile.mkdtemp(prefix="ramparts-authbench-"))
    node = Ramparts(work)
    try:
        key = RSAKey.generate_key(2048, parameters={"kid": "bench"})
        app = work / "app"
        app.mkdir()
        shutil.copy(BENCH / "apps" / "hello" / "hello.py", app / "hello.py")
        (app / "ramparts.yaml").write_text(MANIFEST)
        (app / "jwks.json").write_text(json.dumps({"keys": [key.as_dict(private=False)]}))
        node.start()
        node.deploy(app)
        out = subprocess.run([_bin("ramparts"), "keys", "create", "--name", "bench"],
                             env=node.env, capture_output=True, text=True, timeout=60, check=True)
        api_key = out.stdout.strip()
        now = int(time.time())
        token = jwt.encode({"alg": "RS256", "kid": "bench"},
                           {"iss": "https://bench.example/", "aud": "bench", "sub": "bench",
                            "iat": now, "exp": now + 3600, "scope": "hello"}, key,
                           algorithms=["RS256"])
        variants = {
            "no auth": ("/hello", {}),
            "API key": ("/hello-key", {"X-API-Key": api_key}),
            "JWT RS256": ("/hello-jwt", {"Authorization": f"Bearer {token}"}),
        }
        for name, (path, headers) in variants.items():
            status, body = http_get(node.port, path, headers=headers)
            if status != 200:
                raise RuntimeError(f"smoke {name}: HTTP {status} {body[:100]!r}")
        results: dict[str, list[LoadResult]] = {n: [] for n in variants}
        for path, headers in variants.values():
            run_with_headers(kind, f"http://{HOST}:{node.port}{path}", headers, args.warmup,
                             args.connections)
        for r in range(args.rounds):
            for name, (path, headers) in variants.items():
                res = run_with_headers(kind, f"http://{HOST}:{node.port}{path}", headers,
                                       args.duration, args.connections)
                results[name].append(res)
                console.print(f"  round {r + 1}/{args.rounds} {name:<10} {res.rps:8.0f} req/s  "
                              f"p99 {res.p99_ms:6.2f} ms  errors {res.errors}")
    finally:
        node.stop()
        shutil.rmtree(work, ignore_errors=True)
    med = {n: (statistics.median(x.rps for x in rs), statistics.median(x.p99_ms for x in rs),
               sum(x.errors for x in rs)) for n, rs in results.items()}
    base = med["no auth"][0]
    lines = [
        SECTION,
        "",
        "Generated by `bench/auth_bench.py`; re-run it to refresh this section.",
        "",
        f"- `{' '.join(['.venv/bin/python', 'bench/auth_bench.py', *(argv or sys.argv[1:])])}` "
        f"on {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}; load generator: {kind}, "
        f"{args.connections} keep-alive connections, {args.rounds} interleaved rounds of "
        f"{args.duration:g} s after a {args.warmup:g} s warm-up per route (warm caches).",
        "- One node, one hello handler behind three routes: `auth: none`, `auth: api_key` "
        "(`X-API-Key`), `auth: jwt` (RS256, 2048-bit key, local JWKS file). Both authenticated "
        "routes also write an `allow` audit event per request.",
        "",
        "| route | req/s | p99 ms | throughput vs no auth | errors |",
        "|---|---:|---:|---:|---:|",
    ]
    for n, (rps, p99, errors) in med.items():
        lines.append(f"| {n} | {rps:,.0f} | {p99:.2f} | {rps / base * 100:.1f}% | {errors} |")
    worst = max(1 - med[n][0] / base for n in ("API key", "JWT RS256"))
    lines += [
        "",
        f"Target: authentication costs under 15% of throughput with warm caches — "
        f"{'met' if worst < 0.15 else 'not met'} (worst: {worst * 100:.1f}%).",
        "",
        "An API key check is one HMAC-SHA256 plus an in-memory cache of key records, validated "
        "on every request against the store's identity generation counter: on SQLite one "
        "primary-key read on a dedicated read-only connection, inline (a few microseconds; a "
        "busy database falls back to a threaded read that waits rather than answer stale), so "
        "a revoke on any node is refused by the next request on every node. A JWT is verified "
        "once (joserfc parse, one RS256 verification, the claims checks) and then served from "
        "a bounded LRU keyed by a SHA-256 of the token, until min(exp, 60 s), and only while "
        "the issuer still returns the key that verified it. The `allow` audit event is "
        "buffered and written in batches off the event loop (denials wake the writer at "
        "once). Speed is reported, never asserted.",
        "",
    ]
    text = "\n".join(lines)
    console.print(text)
    if not args.no_write:
        write_section(args.output, "auth", text)
        console.print(f"wrote the auth section of {args.output}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
