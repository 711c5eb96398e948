"""Cold starts under the init model: the handler imported per worker vs in the zygote.

    .venv/bin/python bench/init_bench.py [--baseline main] [--rounds 4] [--per-round 5]
                                         [--no-write]

Compares this tree's runtime (the zygote preloads the handler's dependencies, a
probe checks the import, each worker imports the handler's module after its
fork) with ``--baseline``'s (default ``main``: the zygote imports the handler
and every worker inherits its module state), in one run.  The baseline's
``ramparts`` package is taken from git (``git archive``) into a temp dir.

Each side runs in its own process (``--measure``, with ``PYTHONPATH`` set to its
tree) holding one ``Supervisor`` with a ``SandboxHost`` built from
``layers.probe`` as the node builds it (``runtime_protection: block``).  A cold
start is ``prepare()`` (starts the version's zygote, forked from the zygote
template) plus the first ``invoke()`` of a brand-new version (fresh code dir
and version id), until the result is back.  Handlers:

- **hello**: ``h.py`` returning a small dict (as in ``sandbox_bench.py``);
- **fastapi**: a FastAPI app behind Mangum (``handler = Mangum(app)``), its
  wheels installed once with ``pip --target`` from ``.venv/wheelhouse``
  (downloaded from PyPI on first use), invoked with an HTTP API v2 event.

Sides alternate per round (A B, then B A) so drift on the shared machine hits
both.  The run replaces its section of docs/benchmarks.md between
``<!-- bench:init -->`` and ``<!-- /bench:init -->``.  Speed is reported,
never asserted.  On the baseline, the fastapi handler's first invocation fails
(the loop Mangum made at import is dead in the worker): its cold start is
still timed up to that answer.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
WHEELHOUSE = ROOT / ".venv" / "wheelhouse"
COLD_TARGET_MS = 50.0

HELLO = """\
VARIANT = {variant!r}


def handler(event, context):
    return {{"variant": VARIANT}}
"""

FASTAPI = """\
from fastapi import FastAPI
from mangum import Mangum

VARIANT = {variant!r}
app = FastAPI()


@app.get("/items/{{item_id}}")
async def read_item(item_id: int):
    return {{"item_id": item_id, "variant": VARIANT}}


handler = Mangum(app, lifespan="off")
"""

HTTP_EVENT = {
    "version": "2.0",
    "routeKey": "$default",
    "rawPath": "/items/7",
    "rawQueryString": "",
    "headers": {"host": "bench.local"},
    "requestContext": {
        "accountId": "local",
        "apiId": "bench",
        "domainName": "bench.local",
        "http": {"method": "GET", "path": "/items/7", "protocol": "HTTP/1.1",
                 "sourceIp": "127.0.0.1", "userAgent": "bench"},
        "requestId": "r",
        "routeKey": "$default",
        "stage": "$default",
        "time": "01/Jan/2025:00:00:00 +0000",
        "timeEpoch": 0,
    },
    "isBase64Encoded": False,
}

HANDLERS = {"hello": (HELLO, {"n": 1}), "fastapi": (FASTAPI, HTTP_EVENT)}


# -- one side, in its own process ------------------------------------------------------------
async def _measure(n: int, deps: Path, work: Path) -> dict[str, Any]:
    from ramparts.runtime.supervisor import Supervisor
    from ramparts.runtime.types import FunctionSpec
    from ramparts.sandbox import layers
    from ramparts.sandbox.host import UID_BASE, SandboxHost

    async def no_calls(spec: Any, rid: str, op: str, args: dict[str, Any]) -> Any:
        return None

    report = layers.probe(node_id=f"bench-{os.getpid()}",
                          uid=UID_BASE if os.geteuid() == 0 else None)
    host = SandboxHost(report, node_id=f"bench-{os.getpid()}", hide=[work / "data"],
                       forbidden=[], on_event=lambda *a: None)
    sup = Supervisor(work / "data" / "runtime", no_calls, sandbox=host)
    out: dict[str, Any] = {"cold_ms": {k: [] for k in HANDLERS},
                           "ok": {k: 0 for k in HANDLERS}}
    tag = os.urandom(3).hex()
    try:
        await sup.warm()
        for i in range(n):
            for name, (source, event) in HANDLERS.items():
                variant = f"{name}-{tag}-{i}"
                code = work / "code" / variant
                code.mkdir(parents=True)
                (code / "h.py").write_text(source.format(variant=variant))
                spec = FunctionSpec(app="bench", function=name, version=variant,
                                    code_dir=code, handler="h.py:handler",
                                    deps_dir=deps if name == "fastapi" else None,
                                    timeout=30.0, memory_mb=512, concurrency=1)
                t0 = time.perf_counter()
                await sup.prepare(spec)
                result = await sup.invoke(spec, event)
                out["cold_ms"][name].append((time.perf_counter() - t0) * 1000)
                out["ok"][name] += int(result.ok)
                await sup.retire(spec)
    finally:
        await sup.close()
    out["ramparts"] = str(Path(sys.modules["ramparts"].__file__ or "").parent)
    return out


# -- the run ---------------------------------------------------------------------------------
def _deps(work: Path) -> Path:
    if not any(WHEELHOUSE.glob("mangum-*.whl")) or not any(WHEELHOUSE.glob("fastapi-*.whl")):
        subprocess.run([sys.executable, "-m", "pip", "download", "--quiet", "--only-binary",
                        ":all:", "-d", str(WHEELHOUSE), "fastapi", "mangum"], check=True)
    deps = work / "deps"
    subprocess.run([sys.executable, "-m", "pip", "install", "--quiet", "--no-index",
                    "--find-links", str(WHEELHOUSE), "--target", str(deps), "fastapi",
                    "mangum"], check=True)
    return deps


def _baseline_tree(ref: str, work: Path, name: str = "baseline") -> Path:
    tree = work / name
    tree.mkdir()
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "ramparts"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
    return tree


def _side(tree: Path, n: int, deps: Path, work: Path) -> dict[str, Any]:
    side_work = Path(tempfile.mkdtemp(prefix="side-", dir=work))
    os.chmod(side_work, 0o755)
    env = {**os.environ, "PYTHONPATH": str(tree)}
    done = subprocess.run([sys.executable, __file__, "--measure", str(n), "--deps", str(deps),
                           "--work", str(side_work)], env=env, capture_output=True, text=True,
                          check=False, timeout=1800)
    if done.returncode != 0:
        raise SystemExit(f"side {tree} failed:\n{done.stderr[-4000:]}")
    result: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    if Path(result["ramparts"]) != tree / "ramparts":
        raise SystemExit(f"side {tree} imported ramparts from {result['ramparts']}")
    return result


def _pct(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(q / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def main(argv: list[str]) -> int:
    p = argparse.ArgumentParser()
    p.add_argument("--baseline", default="main")
    # The model before issue 12: the zygote imported the handler, workers inherited it.
    p.add_argument("--old-model", default="18ec3bc^",
                   help="a ref whose zygote imports the handler ('' to leave it out)")
    p.add_argument("--rounds", type=int, default=4)
    p.add_argument("--per-round", type=int, default=5)
    p.add_argument("--no-write", action="store_true")
    p.add_argument("--measure", type=int, help=argparse.SUPPRESS)
    p.add_argument("--deps", help=argparse.SUPPRESS)
    p.add_argument("--work", help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.measure:
        try:
            import uvloop

            res = uvloop.run(_measure(args.measure, Path(args.deps), Path(args.work)))
        except ImportError:
            res = asyncio.run(_measure(args.measure, Path(args.deps), Path(args.work)))
        print(json.dumps(res))
        return 0

    started, t0 = datetime.now(UTC), time.monotonic()
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    work = Path(tempfile.mkdtemp(prefix="init-bench-"))
    os.chmod(work, 0o755)
    try:
        deps = _deps(work)
        trees = {"per worker, the probe is the first worker (this tree)": ROOT,
                 f"per worker, the probe is thrown away ({args.baseline})":
                 _baseline_tree(args.baseline, work)}
        if args.old_model:
            trees[f"in the zygote ({args.old_model}, before issue 12)"] = _baseline_tree(
                args.old_model, work, "old-model")
        names = list(trees)
        cold: dict[str, dict[str, list[float]]] = {s: {h: [] for h in HANDLERS} for s in names}
        ok: dict[str, dict[str, int]] = {s: {h: 0 for h in HANDLERS} for s in names}
        for r in range(args.rounds):
            for side in names if r % 2 == 0 else names[::-1]:
                res = _side(trees[side], args.per_round, deps, work)
                for h in HANDLERS:
                    cold[side][h] += res["cold_ms"][h]
                    ok[side][h] += res["ok"][h]
                print(f"round {r + 1}/{args.rounds} {side}: "
                      + ", ".join(f"{h} p50 {statistics.median(res['cold_ms'][h]):.1f} ms"
                                  for h in HANDLERS), flush=True)
    finally:
        shutil.rmtree(work, ignore_errors=True)

    rows = []
    for h in HANDLERS:
        for side in names:
            v = cold[side][h]
            rows.append(f"| {h} | {side} | {len(v)} | {_pct(v, 50):.2f} | {_pct(v, 90):.2f} |"
                        f" {ok[side][h]} of {len(v)} |")
    new_hello = _pct(cold[names[0]]["hello"], 50)
    met = "met" if new_hello < COLD_TARGET_MS else "NOT met"
    text = "\n".join([
        "## Init model: cold starts",
        "",
        f"Run {started:%Y-%m-%d %H:%M} UTC, {time.monotonic() - t0:.0f} s, load average"
        f" at start {loadavg}, {os.cpu_count()} CPUs, Python {sys.version.split()[0]}.",
        "Command: `.venv/bin/python bench/init_bench.py"
        + (f" --baseline {args.baseline}" if args.baseline != "main" else "")
        + (f" --old-model {args.old_model}" if args.old_model != "18ec3bc^" else "")
        + f" --rounds {args.rounds} --per-round {args.per_round}`.",
        "",
        "| handler | where the handler module is imported | n | p50 ms | p90 ms | first call ok |",
        "|---|---|---:|---:|---:|---:|",
        *rows,
        "",
        f"Target: cold start p50 under {COLD_TARGET_MS:.0f} ms for hello with the new init"
        f" model — {met} ({new_hello:.2f} ms).",
        "",
        "- A cold start is `prepare()` + the first `invoke()` of a brand-new version (fresh"
        " code dir and version id) on a `Supervisor` with the full sandbox (`SandboxHost`"
        " from `layers.probe()`, `runtime_protection: block`), zygotes forked from the"
        " zygote template; each side runs in its own process, sides alternate per round.",
        "- Both sides run the handler's module once per worker, after the fork: the"
        " zygote preloads the handler's dependencies (read from its imports, then what a"
        " probe child loaded) and a probe child imports the handler once to check it"
        " loads. **the probe is the first worker**: the probe then waits and is handed"
        " the first worker socket, so the first call pays no fork and no second import"
        " of the handler module. **the probe is thrown away**: the probe exits and the"
        " first call forks a worker that imports the handler module again.",
        "- fastapi: `handler = Mangum(app, lifespan=\"off\")` with FastAPI and Mangum"
        " installed as the function's dependencies, called with an HTTP API v2 event.",
        "- Later workers of a version are forked from the zygote and import the handler"
        " module themselves on both sides; only the first one differs.",
        "- **in the zygote** (when measured): the model before issue 12, the zygote"
        " imports the handler and workers inherit its module state; its fastapi first"
        " call fails (Mangum's event loop, made at import in the zygote, is closed in the"
        " worker), so it is timed up to that error answer and `first call ok` is 0.",
    ])
    print(text)
    if not args.no_write:
        sys.path.insert(0, str(Path(__file__).resolve().parent))
        from _doc import write_section

        write_section(DOC, "init", text)
        print(f"wrote the bench:init section of {DOC}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
