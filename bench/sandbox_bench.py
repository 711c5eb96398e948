"""Runtime protection's price: the worker runtime with the sandbox on vs off, in one run.

    .venv/bin/python bench/sandbox_bench.py [--versions 20] [--calls 2000] [--duration 5]
                                            [--concurrency 4] [--rounds 5] [--phases 10]

Two ``Supervisor`` instances live side by side in one asyncio loop (uvloop, as in
``ramparts up``): one with a ``SandboxHost`` built from ``layers.probe`` exactly as the
node builds it (namespaces, pivot_root'd filesystem, Landlock, seccomp, cgroups, a
per-function uid, audit hooks with ``runtime_protection: block``, the egress proxy), and
one with ``sandbox=None``, which runs the same zygote and worker code with no sandbox
layer.  Every measurement alternates the two, A B A B, so drift on the shared machine
hits both alike:

1. cold start: ``prepare()`` + the first ``invoke()`` of a brand-new version (its own
   read-only code dir and version id each time), until the result is back;
2. warm latency: sequential ``invoke()`` calls on a warm worker;
3. warm throughput: ``--concurrency`` asyncio tasks calling ``invoke()`` for
   ``--duration`` seconds against a version with that ``concurrency``;
4. ``--phases N`` more cold starts per side, instrumented, to show where the time of a
   cold start goes (the zygote's start path, timed from the bench: the supervisor and
   zygote modules are wrapped at run time, not edited).

The run replaces its own section of docs/benchmarks.md, between
``<!-- bench:sandbox -->`` and ``<!-- /bench:sandbox -->`` (``--no-write`` only prints).
If the probe reports a required layer missing, it says which and exits 0 without
measuring: a degraded sandbox is not the one the targets are about.  Speed is reported,
never asserted.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import platform
import shlex
import shutil
import statistics
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from _doc import write_section
from loadgen import percentile
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn
from rich.table import Table

from ramparts.runtime import supervisor as supervisor_mod
from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec
from ramparts.sandbox import layers
from ramparts.sandbox.host import UID_BASE, SandboxHost

ROOT = Path(__file__).resolve().parent.parent
DOC = ROOT / "docs" / "benchmarks.md"
console = Console(width=None if sys.stdout.isatty() else 120)

SIDES = ("on", "off")
COLD_TARGET_MS = 50.0
THROUGHPUT_TARGET = 0.90  # sandboxed throughput at least 90 % of unsandboxed

HANDLER = """\
VARIANT = {variant!r}


def handler(event, context):
    return {{"variant": VARIANT, "n": event.get("n") if isinstance(event, dict) else None}}
"""


# -- setup ---------------------------------------------------------------------------------------
async def no_host_calls(spec: FunctionSpec, request_id: str, op: str, args: dict[str, Any]) -> Any:
    return None  # the hello handler makes no context calls


def make_code_dir(root: Path, variant: str) -> Path:
    """A fresh code dir holding h.py, made read-only like an unpacked artifact."""
    code = root / variant
    code.mkdir(parents=True)
    (code / "h.py").write_text(HANDLER.format(variant=variant))
    (code / "h.py").chmod(0o444)
    code.chmod(0o555)
    return code


def make_spec(code_root: Path, variant: str, concurrency: int) -> FunctionSpec:
    return FunctionSpec(
        app="bench",
        function="hello",
        version=variant,
        code_dir=make_code_dir(code_root, variant),
        handler="h.py:handler",
        timeout=30.0,
        memory_mb=128,
        concurrency=concurrency,
        runtime_protection="block",
    )


def rmtree_readonly(path: Path) -> None:
    """rm -rf for a tree with 0555 dirs (needed when not root)."""
    for dirpath, dirnames, _ in os.walk(path):
        for d in dirnames:
            with contextlib.suppress(OSError):
                os.chmod(os.path.join(dirpath, d), 0o755)
    shutil.rmtree(path, ignore_errors=True)


def interleaved(i: int) -> tuple[str, str]:
    """A B, then B A: neither side always goes first."""
    return SIDES if i % 2 == 0 else SIDES[::-1]


def pct(values: list[float], q: float) -> float:
    return percentile(sorted(values), q)


def med(values: list[float]) -> float:
    return statistics.median(values) if values else float("nan")


def ratio(on: float, off: float) -> float:
    return on / off if off else float("nan")


def _fmt(v: float, nd: int = 2) -> str:
    return "n/a" if v != v else f"{v:,.{nd}f}"


# -- measurements --------------------------------------------------------------------------------
def _per_side() -> dict[str, Any]:
    return {s: [] for s in SIDES}


@dataclass
class Results:
    cold_ms: dict[str, list[float]] = field(default_factory=_per_side)
    prepare_ms: dict[str, list[float]] = field(default_factory=_per_side)
    first_ms: dict[str, list[float]] = field(default_factory=_per_side)
    warm_ms: dict[str, list[float]] = field(default_factory=_per_side)
    rps: dict[str, list[float]] = field(default_factory=_per_side)
    tp_errors: dict[str, int] = field(default_factory=lambda: {s: 0 for s in SIDES})
    phases: dict[str, list[dict[str, float]]] = field(default_factory=_per_side)
    failures: list[str] = field(default_factory=list)


async def cold_start(sup: Supervisor, spec: FunctionSpec) -> tuple[float, float, float]:
    """(total, prepare, first invoke) ms for a version no one has started yet."""
    t0 = time.perf_counter()
    await sup.prepare(spec)
    t1 = time.perf_counter()
    res = await sup.invoke(spec, {"n": 0})
    t2 = time.perf_counter()
    if res.status != "ok" or not isinstance(res.result, dict) \
            or res.result.get("variant") != spec.version:
        raise RuntimeError(f"{spec.version}: {res.status} {res.error_type}: {res.error_message}")
    if not res.cold:
        raise RuntimeError(f"{spec.version}: the first call was not flagged cold")
    return (t2 - t0) * 1000, (t1 - t0) * 1000, (t2 - t1) * 1000


async def warm_latency(sup: Supervisor, spec: FunctionSpec, calls: int) -> list[float]:
    out: list[float] = []
    for n in range(calls):
        t0 = time.perf_counter()
        res = await sup.invoke(spec, {"n": n})
        out.append((time.perf_counter() - t0) * 1000)
        if res.status != "ok":
            raise RuntimeError(f"warm call: {res.status} {res.error_type}: {res.error_message}")
    return out


async def throughput(sup: Supervisor, spec: FunctionSpec, tasks: int,
                     seconds: float) -> tuple[float, int]:
    """(invocations per second, errors) with ``tasks`` callers in a closed loop."""
    ok = errors = 0
    start = time.perf_counter()
    deadline = start + seconds

    async def caller() -> None:
        nonlocal ok, errors
        n = 0
        while time.perf_counter() < deadline:
            res = await sup.invoke(spec, {"n": n})
            n += 1
            if res.status == "ok":
                ok += 1
            else:
                errors += 1

    await asyncio.gather(*(caller() for _ in range(tasks)))
    return ok / (time.perf_counter() - start), errors


# -- phase timing (instrumented cold starts) -----------------------------------------------------
# Code added to the zygote's BOOTSTRAP for the phases pass only: it wraps the functions of
# the start path (zygote.main's steps, jail.enter/seal and what they call) and writes one
# line per call to fd 2, the zygote's stderr pipe, which the supervisor drains into the
# "ramparts.runtime" logger; the bench reads them back from there.  CLOCK_MONOTONIC is one
# clock for the host and every sandbox (no time namespace), so stamps compare directly.
_BOOT_HEAD = "import os as _bo, time as _bt\n_BT0 = _bt.monotonic()\n"
_BOOT_IMPORT = "from ramparts.runtime.zygote import main\n"
_BOOT_PATCH = r'''
def _bench_stamp(label, t0, t1):
    try:
        _bo.write(2, ("@@phase %d %s %.6f %.6f\n" % (_bo.getpid(), label, t0, t1)).encode())
    except OSError:
        pass
def _bench_wrap(mod, name, label=None):
    fn = getattr(mod, name)
    label = label or mod.__name__.rsplit(".", 1)[-1] + "." + name
    def wrapped(*a, **k):
        t0 = _bt.monotonic()
        try:
            return fn(*a, **k)
        finally:
            _bench_stamp(label, t0, _bt.monotonic())
    setattr(mod, name, wrapped)
_bench_stamp("boot", _BT0, _BT0)
_bench_stamp("import runtime", _BT1, _BT2)
import ramparts.runtime.zygote as _bz
if _cfg.get("sandbox"):
    # Imported here, a few ms before zygote._preload would, so that they can be wrapped.
    _bt3 = _bt.monotonic()
    from ramparts.sandbox import _libc, filesystem, forwarder, jail, landlock, seccomp
    _bench_stamp("import sandbox modules", _bt3, _bt.monotonic())
    for _bm, _bn in ((jail, "preload"), (seccomp, "available"), (jail, "enter"),
                     (jail, "seal"), (_libc, "unshare"), (_libc, "loopback_up"),
                     (forwarder, "bind_listener"), (filesystem, "build"),
                     (jail, "_switch_uid"), (jail, "_own_user_namespace"),
                     (jail, "_relocate_runtime"), (jail, "_rlimits"), (landlock, "restrict"),
                     (seccomp, "install_filter"), (seccomp, "lock_subreaper")):
        if hasattr(_bm, _bn):
            _bench_wrap(_bm, _bn)
    _bench_preload = _bz._preload
    def _bench_preload_wrapped(cfg):
        t0 = _bt.monotonic()
        try:
            _bench_preload(cfg)
        finally:
            _bench_stamp("zygote._preload", t0, _bt.monotonic())
        import sys as _s
        if "ramparts.sandbox.hooks" in _s.modules:
            _bench_wrap(_s.modules["ramparts.sandbox.hooks"], "imports_done")
    _bz._preload = _bench_preload_wrapped
    del _bm
for _bn in ("_install_hooks", "load_handler", "_enter_sandbox"):
    _bench_wrap(_bz, _bn)
del _bn
'''


def instrumented_bootstrap() -> str | None:
    boot = supervisor_mod.BOOTSTRAP
    if not boot.startswith("import sys\n") or _BOOT_IMPORT not in boot:
        return None  # the bootstrap changed shape: skip the phases rather than guess
    boot = boot.replace("import sys\n", "import sys\n" + _BOOT_HEAD, 1)
    return boot.replace(
        _BOOT_IMPORT,
        "_BT1 = _bt.monotonic()\n" + _BOOT_IMPORT + "_BT2 = _bt.monotonic()\n" + _BOOT_PATCH,
        1,
    )


class _StampSink(logging.Handler):
    """Collects the zygotes' "@@phase" lines the supervisor logs as stderr output."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[int, str, float, float]] = []
        self.other: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        # Never raise: this runs inside the supervisor's stderr-draining task.
        try:
            lines = record.getMessage().splitlines()
        except Exception:  # noqa: BLE001
            return
        for line in lines:
            _, sep, rest = line.partition("@@phase ")
            try:
                head, t0, t1 = rest.rsplit(" ", 2)
                pid, label = head.split(" ", 1)
                self.stamps.append((int(pid), label, float(t0), float(t1)))
            except ValueError:
                self.other.append(line[:300])


@dataclass
class HostMarks:
    spans: dict[str, list[tuple[float, float]]] = field(default_factory=dict)

    def add(self, name: str, t0: float, t1: float) -> None:
        self.spans.setdefault(name, []).append((t0, t1))

    def first(self, name: str) -> tuple[float, float]:
        return self.spans[name][0]

    def total(self, name: str) -> float:
        return sum(b - a for a, b in self.spans.get(name, []))


def _timed(marks: Callable[[], HostMarks], name: str,
           fn: Callable[..., Awaitable[Any]]) -> Callable[..., Awaitable[Any]]:
    async def wrapped(*a: Any, **k: Any) -> Any:
        t0 = time.monotonic()
        try:
            return await fn(*a, **k)
        finally:
            marks().add(name, t0, time.monotonic())

    return wrapped


def _timed_sync(marks: Callable[[], HostMarks], name: str,
                fn: Callable[..., Any]) -> Callable[..., Any]:
    def wrapped(*a: Any, **k: Any) -> Any:
        t0 = time.monotonic()
        try:
            return fn(*a, **k)
        finally:
            marks().add(name, t0, time.monotonic())

    return wrapped


@contextlib.contextmanager
def instrumented(sups: dict[str, Supervisor], host: SandboxHost, boot: str
                 ) -> Iterator[tuple[_StampSink, list[HostMarks]]]:
    """Wrap the start path for the phases pass; everything is put back afterwards."""
    current: list[HostMarks] = [HostMarks()]
    sink = _StampSink()
    logger = logging.getLogger("ramparts.runtime")
    logger.addHandler(sink)
    saved_boot = supervisor_mod.BOOTSTRAP
    supervisor_mod.BOOTSTRAP = boot
    for sup in sups.values():
        # The template forks zygotes from a warm interpreter, which has no BOOTSTRAP to
        # instrument: this pass times a start from a fresh interpreter, step by step.
        sup._forkserver._failed = True
        for name in ("_start_zygote", "_fork", "_run"):
            setattr(sup, name, _timed(lambda: current[0], name, getattr(sup, name)))
    host.worker_group = _timed_sync(lambda: current[0], "worker_group",  # type: ignore[method-assign]
                                    host.worker_group)
    try:
        yield sink, current
    finally:
        supervisor_mod.BOOTSTRAP = saved_boot
        logger.removeHandler(sink)
        for sup in sups.values():
            sup._forkserver._failed = False
            for name in ("_start_zygote", "_fork", "_run"):
                sup.__dict__.pop(name, None)
        host.__dict__.pop("worker_group", None)


# label -> how it appears in the report; "  " marks a step inside the one above it
PHASE_ROWS: list[tuple[str, str]] = [
    ("total", "cold start, prepare() + first invoke() (instrumented)"),
    ("spawn", "spawn `python -I -S` until BOOTSTRAP's first line"),
    ("import runtime", "import ramparts.runtime.zygote"),
    ("import sandbox modules", "import ramparts.sandbox.jail & co. (bench: just before _preload)"),
    ("zygote._preload", "zygote._preload"),
    ("jail.preload", "  jail.preload: exec pyseccomp (ctypes, find_library, libseccomp)"),
    ("seccomp.available", "    seccomp.available"),
    ("preload rest", "  rest (import ramparts.sandbox.hooks)"),
    ("jail.enter", "jail.enter"),
    ("_libc.unshare", "  unshare the namespaces"),
    ("_libc.loopback_up", "  loopback up"),
    ("forwarder.bind_listener", "  bind the egress forwarder"),
    ("keeper:jail._switch_uid", "  keeper switches to the version's uid (zygote waits)"),
    ("keeper:seccomp.install_filter", "  keeper installs its seccomp filter (zygote waits)"),
    ("filesystem.build", "  filesystem.build (binds, tmpfs, pivot_root)"),
    ("jail._switch_uid", "  switch to the version's uid"),
    ("jail._own_user_namespace", "  own user namespace + uid/gid maps"),
    ("_libc.unshare:userns", "    its unshare(CLONE_NEWUSER)"),
    ("jail._relocate_runtime", "  relocate runtime paths"),
    ("enter rest", "  rest (fork, sethostname, waiting on the keeper's frame, ...)"),
    ("jail.seal", "jail.seal"),
    ("jail._rlimits", "  rlimits"),
    ("landlock.restrict", "  Landlock ruleset"),
    ("seccomp.install_filter", "  seccomp filter"),
    ("seal rest", "  rest (no_new_privs, drop capabilities, not dumpable)"),
    ("zygote._install_hooks", "install audit hooks"),
    ("zygote.load_handler", "import the handler"),
    ("hooks.imports_done", "hooks.imports_done"),
    ("zygote_group", "host: create the zygote's cgroups and move it in (on the loop)"),
    ("ready", "from the zygote's last step until the host has `ready`"),
    ("prepare rest", "rest of prepare() (host side)"),
    ("_fork", "fork a worker (host `_fork`: request, reply, pidfd, cgroup)"),
    ("worker_group", "  create the worker's cgroups and move it in"),
    ("_run", "first call on the new worker (host `_run`)"),
    ("zygote._enter_sandbox", "  worker: _enter_sandbox (in the new process)"),
    ("seccomp.lock_subreaper", "    lock_subreaper: second seccomp filter"),
    ("invoke rest", "rest of invoke() (host side)"),
]


def _union_ms(spans: list[tuple[float, float]], lo: float, hi: float) -> float:
    """Milliseconds of [lo, hi] covered by any of ``spans`` (nested or overlapping)."""
    covered, end = 0.0, lo
    for a, b in sorted((max(a, lo), min(b, hi)) for a, b in spans):
        if b <= end:
            continue
        covered += b - max(a, end)
        end = b
    return covered * 1000


# Stamped by the keeper (the process left outside the PID namespace, same pid as the
# zygote before its fork) or by the zygote in the new user namespace, not the start path.
_KEEPER_LABELS = ("seccomp.install_filter", "jail._switch_uid")
_ENTER_STEPS = ("_libc.unshare", "_libc.loopback_up", "forwarder.bind_listener",
                "keeper:jail._switch_uid", "keeper:seccomp.install_filter", "filesystem.build",
                "jail._switch_uid", "jail._own_user_namespace", "jail._relocate_runtime")
_SEAL_STEPS = ("jail._rlimits", "landlock.restrict", "seccomp.install_filter")
_WORKER_STEPS = ("zygote._enter_sandbox", "seccomp.lock_subreaper")


def phase_breakdown(marks: HostMarks, stamps: list[tuple[int, str, float, float]],
                    t_start: float, t_prepared: float, t_done: float) -> dict[str, float]:
    """Milliseconds per phase of one instrumented cold start."""
    ms: dict[str, float] = {"total": (t_done - t_start) * 1000}
    boot = [s for s in stamps if s[1] == "boot"]
    if not boot or "_start_zygote" not in marks.spans:
        raise RuntimeError("the instrumented zygote reported no stamps")
    boot_pid = boot[0][0]
    sz0, sz1 = marks.first("_start_zygote")
    ms["spawn"] = (boot[0][2] - sz0) * 1000
    spans: dict[str, list[tuple[float, float]]] = {}
    last_start_step = boot[0][3]
    for pid, label, a, b in stamps:
        if label == "boot":
            continue
        if label in _KEEPER_LABELS and pid == boot_pid:
            label = "keeper:" + label
        elif label == "_libc.unshare" and pid != boot_pid:
            label = "_libc.unshare:userns"  # inside jail._own_user_namespace
        spans.setdefault(label, []).append((a, b))
        if label not in _WORKER_STEPS and not label.startswith("keeper:"):
            last_start_step = max(last_start_step, b)
    for label, intervals in spans.items():
        ms[label] = sum(b - a for a, b in intervals) * 1000
    for outer, steps, rest in (("jail.enter", _ENTER_STEPS, "enter rest"),
                               ("jail.seal", _SEAL_STEPS, "seal rest"),
                               ("zygote._preload", ("jail.preload",), "preload rest")):
        if outer in spans:
            lo, hi = spans[outer][0]
            inner = [iv for s in steps for iv in spans.get(s, [])]
            ms[rest] = (hi - lo) * 1000 - _union_ms(inner, lo, hi)
    ms["ready"] = (sz1 - last_start_step) * 1000
    ms["prepare rest"] = (t_prepared - t_start - (sz1 - sz0)) * 1000
    ms["_fork"] = marks.total("_fork") * 1000
    ms["_run"] = marks.total("_run") * 1000
    for a, b in marks.spans.get("worker_group", []):
        # the supervisor gives the zygote its own cgroups too (at its first frame)
        where = "zygote_group" if sz0 <= a <= sz1 else "worker_group"
        ms[where] = ms.get(where, 0.0) + (b - a) * 1000
    ms["invoke rest"] = (t_done - t_prepared) * 1000 - ms["_fork"] - ms["_run"]
    return ms


async def phases_pass(args: argparse.Namespace, sups: dict[str, Supervisor], host: SandboxHost,
                      code_root: Path, res: Results, progress: Progress) -> str | None:
    """Instrumented cold starts; returns why it was skipped, or None."""
    boot = instrumented_bootstrap()
    if boot is None:
        return "the zygote's BOOTSTRAP no longer has the shape the instrumentation expects"
    task = progress.add_task("phases (instrumented cold starts)", total=2 * args.phases)
    with instrumented(sups, host, boot) as (sink, current):
        for i in range(args.phases):
            for side in interleaved(i):
                spec = make_spec(code_root, f"ph-{side}-{i:03d}-{os.urandom(4).hex()}", 1)
                sink.stamps.clear()
                current[0] = HostMarks()
                t0 = time.monotonic()
                await sups[side].prepare(spec)
                t1 = time.monotonic()
                out = await sups[side].invoke(spec, {"n": 0})
                t2 = time.monotonic()
                if out.status != "ok":
                    res.failures.append(f"phases {side} {i}: {out.status} {out.error_message}")
                else:
                    await asyncio.sleep(0.05)  # let the supervisor drain the stamps
                    try:
                        res.phases[side].append(
                            phase_breakdown(current[0], list(sink.stamps), t0, t1, t2))
                    except (RuntimeError, KeyError) as exc:
                        res.failures.append(f"phases {side} {i}: {exc}")
                await sups[side].retire(spec)
                await asyncio.sleep(args.cold_pause)
                progress.advance(task)
    if sink.other:
        console.print(f"[yellow]zygote stderr during the phases pass:[/] {sink.other[:5]}")
    return None


# -- the run -------------------------------------------------------------------------------------
async def run(args: argparse.Namespace, work: Path, report: layers.SandboxReport,
              res: Results) -> str | None:
    data = work / "data"
    code_root = data / "code"
    code_root.mkdir(parents=True)
    host = SandboxHost(report, node_id=f"bench-{os.getpid()}", hide=[data], forbidden=[],
                       on_event=lambda *a: None)
    sups = {
        "on": Supervisor(data / "runtime-on", no_host_calls, sandbox=host),
        "off": Supervisor(data / "runtime-off", no_host_calls, sandbox=None),
    }
    tag = os.urandom(3).hex()
    phases_skipped: str | None = "--phases 0"
    try:
        with Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                      TimeElapsedColumn(), console=console, transient=False) as progress:
            # 1. cold starts
            task = progress.add_task("cold starts", total=2 * args.versions)
            for i in range(args.versions):
                for side in interleaved(i):
                    spec = make_spec(code_root, f"cold-{side}-{tag}-{i:04d}", 1)
                    try:
                        total, prep, first = await cold_start(sups[side], spec)
                    except Exception as exc:  # noqa: BLE001 - reported, the run goes on
                        res.failures.append(f"cold {side} {i}: {type(exc).__name__}: {exc}")
                    else:
                        res.cold_ms[side].append(total)
                        res.prepare_ms[side].append(prep)
                        res.first_ms[side].append(first)
                    await sups[side].retire(spec)
                    await asyncio.sleep(args.cold_pause)  # previous version fully gone
                    progress.advance(task)

            # warm versions, one per side, with the throughput concurrency
            warm = {s: make_spec(code_root, f"warm-{s}-{tag}", args.concurrency) for s in SIDES}
            for side in SIDES:
                await sups[side].prepare(warm[side])
                await warm_latency(sups[side], warm[side], 50)  # first worker, caches
                await throughput(sups[side], warm[side], args.concurrency, 1.0)  # all workers

            # 2. warm latency, sequential
            per_round = max(1, args.calls // args.rounds)
            task = progress.add_task("warm latency", total=2 * per_round * args.rounds)
            for r in range(args.rounds):
                for side in interleaved(r):
                    res.warm_ms[side] += await warm_latency(sups[side], warm[side], per_round)
                    progress.advance(task, per_round)

            # 3. warm throughput, concurrent
            task = progress.add_task("warm throughput", total=2 * args.rounds)
            for r in range(args.rounds):
                for side in interleaved(r):
                    rps, errors = await throughput(sups[side], warm[side], args.concurrency,
                                                   args.duration)
                    res.rps[side].append(rps)
                    res.tp_errors[side] += errors
                    progress.console.print(f"  throughput round {r + 1}/{args.rounds} "
                                           f"sandbox {side:<3} {rps:8,.0f} inv/s"
                                           + (f"  errors {errors}" if errors else ""))
                    progress.advance(task)
            for side in SIDES:
                await sups[side].retire(warm[side])

            # 4. where a cold start's time goes
            if args.phases:
                phases_skipped = await phases_pass(args, sups, host, code_root, res, progress)
    finally:
        for sup in sups.values():
            await sup.close()  # also closes the SandboxHost (gateway, cgroups)
    return phases_skipped


# -- report --------------------------------------------------------------------------------------
def bytecode_state() -> tuple[int, int]:
    """(modules with a current .pyc, modules) of what a sandboxed zygote imports from ramparts.

    The zygote never writes bytecode (``sys.dont_write_bytecode``, read-only mounts), so a
    module without a current .pyc next to it is compiled from source at every cold start.
    """
    import importlib.util

    import ramparts

    pkg = Path(ramparts.__file__).resolve().parent
    sources = [pkg / "__init__.py", pkg / "errors.py",
               *sorted((pkg / "runtime").glob("*.py")), *sorted((pkg / "sandbox").glob("*.py"))]
    fresh = 0
    for src in sources:
        try:
            head = Path(importlib.util.cache_from_source(str(src))).read_bytes()[:16]
            st = src.stat()
        except OSError:
            continue
        if head[:4] != importlib.util.MAGIC_NUMBER:
            continue
        flags = int.from_bytes(head[4:8], "little")
        if flags or (int.from_bytes(head[8:12], "little") == int(st.st_mtime) & 0xFFFFFFFF
                     and int.from_bytes(head[12:16], "little") == st.st_size & 0xFFFFFFFF):
            fresh += 1
    return fresh, len(sources)


def summary_rows(res: Results) -> list[tuple[str, float, float, str]]:
    """(metric, on, off, unit) for the headline table."""
    c, w, t = res.cold_ms, res.warm_ms, res.rps
    return [
        ("cold start p50", pct(c["on"], 50), pct(c["off"], 50), "ms"),
        ("cold start p90", pct(c["on"], 90), pct(c["off"], 90), "ms"),
        ("  prepare() p50 (zygote start)", pct(res.prepare_ms["on"], 50),
         pct(res.prepare_ms["off"], 50), "ms"),
        ("  first invoke() p50 (fork + call)", pct(res.first_ms["on"], 50),
         pct(res.first_ms["off"], 50), "ms"),
        ("warm latency p50", pct(w["on"], 50), pct(w["off"], 50), "ms"),
        ("warm latency p99", pct(w["on"], 99), pct(w["off"], 99), "ms"),
        ("warm throughput (median round)", med(t["on"]), med(t["off"]), "inv/s"),
    ]


def verdicts(res: Results) -> tuple[bool, bool, float, float]:
    cold = pct(res.cold_ms["on"], 50)
    tp = ratio(med(res.rps["on"]), med(res.rps["off"]))
    return cold < COLD_TARGET_MS, tp >= THROUGHPUT_TARGET, cold, tp


def print_report(args: argparse.Namespace, res: Results) -> None:
    table = Table(title="worker runtime, sandbox on vs off (same run, interleaved)")
    for col in ("metric", "sandbox on", "sandbox off", "on / off"):
        table.add_column(col, justify="left" if col == "metric" else "right", no_wrap=True)
    for name, on, off, unit in summary_rows(res):
        nd = 0 if unit == "inv/s" else 2
        table.add_row(name, f"{_fmt(on, nd)} {unit}", f"{_fmt(off, nd)} {unit}",
                      f"{_fmt(ratio(on, off))}x")
    console.print(table)
    cold_ok, tp_ok, cold, tp = verdicts(res)
    per_round = ", ".join(f"{ratio(a, b):.2f}x" for a, b in zip(res.rps["on"], res.rps["off"],
                                                                 strict=True))
    console.print(f"target: cold start p50 under {COLD_TARGET_MS:g} ms with the full sandbox: "
                  f"{'[green]met[/]' if cold_ok else '[red]not met[/]'} ({_fmt(cold)} ms)")
    console.print(f"target: warm throughput within 10 % of unsandboxed (on/off >= "
                  f"{THROUGHPUT_TARGET:.2f}): {'[green]met[/]' if tp_ok else '[red]not met[/]'} "
                  f"({_fmt(tp)}x; per round {per_round})")
    if res.phases["on"] or res.phases["off"]:
        pt = Table(title="where a cold start from a fresh interpreter goes (median ms per step; "
                         "the zygote template skips the interpreter start and imports)")
        for col in ("step", "sandbox on", "sandbox off"):
            pt.add_column(col, justify="left" if col == "step" else "right", no_wrap=True)
        for _, label, on, off in phase_rows(res):
            pt.add_row(label, on, off)
        console.print(pt)
    for f in res.failures:
        console.print(f"[red]failure:[/] {f}")


def phase_rows(res: Results) -> list[tuple[str, str, str, str]]:
    rows = []
    for key, label in PHASE_ROWS:
        cells = []
        for side in SIDES:
            vals = [p[key] for p in res.phases[side] if key in p]
            cells.append(_fmt(med(vals)) if vals else "-")
        if cells == ["-", "-"]:
            continue
        rows.append((key, label, cells[0], cells[1]))
    return rows


def sandbox_only_steps(res: Results, n: int = 4) -> list[tuple[str, float]]:
    """The top-level phase rows where on exceeds off the most (medians)."""
    out = []
    for key, label in PHASE_ROWS:
        if key == "total" or label.startswith(" "):
            continue
        on = [p[key] for p in res.phases["on"] if key in p]
        off = [p[key] for p in res.phases["off"] if key in p]
        if on:
            out.append((label, med(on) - (med(off) if off else 0.0)))
    return sorted((x for x in out if x[1] > 0.5), key=lambda x: -x[1])[:n]


def markdown(args: argparse.Namespace, res: Results, report: layers.SandboxReport, command: str,
             started: datetime, took: float, loadavg: str, phases_skipped: str | None) -> str:
    import uvloop

    from ramparts import __version__ as ramparts_version

    cold_ok, tp_ok, cold, tp = verdicts(res)
    pyc = bytecode_state()
    rows = []
    for name, on, off, unit in summary_rows(res):
        nd = 0 if unit == "inv/s" else 2
        rows.append(f"| {name.strip()} | {_fmt(on, nd)} {unit} | {_fmt(off, nd)} {unit} "
                    f"| {_fmt(ratio(on, off))}x |")
    round_ratios = [ratio(a, b) for a, b in zip(res.rps["on"], res.rps["off"], strict=True)]
    per_round = ", ".join(f"{x:.2f}x" for x in round_ratios)
    on_rounds = ", ".join(f"{x:,.0f}" for x in res.rps["on"])
    off_rounds = ", ".join(f"{x:,.0f}" for x in res.rps["off"])
    layer_list = ", ".join(x.name for x in report.layers if x.available)
    uid = report.get("per_function_uid")
    cg = report.get("cgroups")
    lines = [
        "## Sandbox: worker runtime with runtime protection on vs off",
        "",
        "Generated by `bench/sandbox_bench.py` (this section only); re-run it.",
        "",
        "```",
        command,
        "```",
        "",
        f"- date: {started:%Y-%m-%d %H:%M} UTC (run took {took:.0f} s); {os.cpu_count()} CPUs,"
        f" {platform.machine()}, Linux {platform.release()}, Python"
        f" {platform.python_version()}; load average at start: {loadavg} (shared machine)",
        f"- Ramparts {ramparts_version}; two `Supervisor`s in one process and one uvloop"
        f" {uvloop.__version__} loop: **on** has a `SandboxHost` built from `layers.probe()` as"
        f" the node builds it, **off** has `sandbox=None` (same zygote and worker code, no"
        " sandbox layer). Handler: `h.py:handler` returning a small dict; no context calls.",
        f"- sandbox layers in use: {layer_list}"
        f" ({cg.detail if cg and cg.available else 'no cgroups'};"
        f" {'a per-function uid' if uid and uid.available else 'no per-function uid'});"
        " `runtime_protection: block` (audit hooks), egress proxy attached",
        f"- bytecode: {pyc[0]} of {pyc[1]} `ramparts` modules of the runtime and sandbox had a"
        " current .pyc"
        + ((" (PYTHONDONTWRITEBYTECODE is set here)" if os.environ.get("PYTHONDONTWRITEBYTECODE")
            else "") + ", so each zygote compiled the rest from source: both sides pay for"
           " it, the sandboxed side for more modules; an install from a wheel ships them"
           " compiled" if pyc[0] < pyc[1] else ""),
        "",
        "| metric | sandbox on | sandbox off | on / off |",
        "|---|---:|---:|---:|",
        *rows,
        "",
        f"- **Target: cold start p50 under {COLD_TARGET_MS:g} ms with the full sandbox —"
        f" {'met' if cold_ok else 'not met'}** ({_fmt(cold)} ms, n={len(res.cold_ms['on'])},"
        " zygote start included). A deploy prepares the version's zygote, so the first"
        " request after a deploy waits only for the first `invoke()` part:"
        f" {_fmt(pct(res.first_ms['on'], 50))} ms with the sandbox,"
        f" {_fmt(pct(res.first_ms['off'], 50))} ms without; a node restart, an evicted"
        " version or a new node pays the whole cold start.",
        f"- **Target: warm throughput within 10 % of unsandboxed (on/off at least"
        f" {THROUGHPUT_TARGET:.2f}) — {'met' if tp_ok else 'not met'}** ({_fmt(tp)}x, ratio of"
        f" the median rounds; median of the per-round ratios {_fmt(med(round_ratios))}x;"
        f" per round, A and B back to back: {per_round}; inv/s per round on: {on_rounds}; off:"
        f" {off_rounds}; errors on/off: {res.tp_errors['on']}/{res.tp_errors['off']}).",
        "",
        "How it was measured:",
        "",
        f"- Cold start: {args.versions} brand-new versions per side (a fresh read-only code dir,"
        " files 0444 and dirs 0555, and version id each time), timed from `prepare()` (starts"
        " the version's zygote: interpreter, runtime import, sandbox setup, handler import)"
        " until the first `invoke()` returned (forks a worker, runs the call); the version is"
        " retired before the next one. Sides alternate A B, B A.",
        f"- Warm latency: {args.rounds} interleaved rounds of {max(1, args.calls // args.rounds)}"
        " sequential `invoke()` calls per side on an already-warm worker (p50/p99 over all"
        " calls of a side), after 50 warm-up calls; it includes the event's JSON framing, the"
        " socketpair round trip and the worker's per-call work.",
        f"- Warm throughput: {args.concurrency} asyncio tasks calling `invoke()` in a closed"
        f" loop for {args.duration:g} s against a version with `concurrency: {args.concurrency}`"
        f" (all workers forked in a 1 s warm-up), {args.rounds} interleaved rounds; the"
        " caller, the supervisor and the workers share the machine's cores, so this is the"
        " runtime's own ceiling here, not an HTTP number.",
        "- The ratio is what to read; absolute numbers move with the load on this shared"
        " machine. Speed targets are never asserted in tests.",
    ]
    prows = phase_rows(res)
    if prows:
        n_on, n_off = len(res.phases["on"]), len(res.phases["off"])
        lines += [
            "",
            f"### Where a cold start from a fresh interpreter goes (median of {n_on} on /"
            f" {n_off} off instrumented cold starts)",
            "",
            "Zygotes are normally forked from the supervisor's zygote template, a warm"
            " interpreter that has already started Python and imported the runtime, the"
            " sandbox modules and libseccomp (the first rows below), so the cold starts"
            " above skip those steps. This pass starts each zygote from a fresh interpreter"
            " instead, so that every step can be timed."
            " The bench swaps in a BOOTSTRAP for the zygote that wraps each step of the start"
            " path (`zygote.main`, `jail.enter`/`seal` and what they call) and writes a"
            " CLOCK_MONOTONIC stamp per step to the zygote's stderr; host steps are wrapped on"
            " the `Supervisor` instances. Nothing in `ramparts/` is changed. Medians of each"
            " step do not add up exactly to the median total, and the instrumentation adds a"
            " little time of its own. Indented steps are part of the one above.",
            "",
            "| step | sandbox on, ms | sandbox off, ms |",
            "|---|---:|---:|",
            *(f"| {label.replace('  ', '&nbsp;&nbsp;')} | {on} | {off} |"
              for _, label, on, off in prows),
        ]
        biggest = sandbox_only_steps(res)
        if biggest:
            lines += ["", "Largest top-level steps the sandbox adds (median ms, on minus off): "
                      + "; ".join(f"{label} {ms:.1f}" for label, ms in biggest) + "."]
    elif phases_skipped:
        lines += ["", f"Phase timing skipped: {phases_skipped}."]
    if res.failures:
        lines += ["", "Failures: " + "; ".join(res.failures[:20])]
    return "\n".join(lines) + "\n"


# -- main ----------------------------------------------------------------------------------------
def parse_args(argv: list[str]) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--versions", type=int, default=20, help="cold starts per side (default 20)")
    p.add_argument("--calls", type=int, default=2000,
                   help="sequential warm calls per side, over all rounds (default 2000)")
    p.add_argument("--duration", type=float, default=5.0,
                   help="seconds per throughput round (default 5)")
    p.add_argument("--concurrency", type=int, default=4,
                   help="caller tasks and the version's concurrency (default 4)")
    p.add_argument("--rounds", type=int, default=5,
                   help="interleaved rounds for latency and throughput (default 5)")
    p.add_argument("--phases", type=int, default=10,
                   help="instrumented cold starts per side for the step breakdown (0: skip)")
    p.add_argument("--cold-pause", type=float, default=0.05,
                   help="seconds to wait after retiring each cold-start version")
    p.add_argument("--output", type=Path, default=DOC)
    p.add_argument("--write", action=argparse.BooleanOptionalAction, default=True,
                   help="replace this bench's section of docs/benchmarks.md (default: yes)")
    args = p.parse_args(argv)
    if not (1 <= args.versions <= 500 and 1 <= args.calls <= 1_000_000
            and 0 < args.duration <= 600 and 1 <= args.concurrency <= 64
            and 1 <= args.rounds <= 50 and 0 <= args.phases <= 200
            and 0 <= args.cold_pause <= 10):
        p.error("out-of-range option (versions 1-500, calls <= 1e6, duration <= 600, "
                "concurrency 1-64, rounds 1-50, phases 0-200, cold-pause <= 10)")
    return args


def command_line(argv: list[str]) -> str:
    exe = Path(sys.executable)
    with contextlib.suppress(ValueError):
        exe = exe.relative_to(ROOT)
    return shlex.join([str(exe), "bench/sandbox_bench.py", *argv])


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else argv
    args = parse_args(argv)
    started, t0 = datetime.now(UTC), time.monotonic()
    loadavg = " ".join(f"{x:.2f}" for x in os.getloadavg())
    report = layers.probe(node_id=f"bench-{os.getpid()}",
                          uid=UID_BASE if os.geteuid() == 0 else None)
    missing = report.missing()
    if missing:
        console.print("[bold yellow]sandbox bench skipped:[/] the probe reports required layers "
                      "missing on this machine, so the full sandbox cannot run here:")
        for layer in missing:
            console.print(f"  - {layer.name}: {layer.detail or 'unavailable'}")
        console.print("docs/benchmarks.md left unchanged.")
        return 0
    fresh, total = bytecode_state()
    if fresh < total:
        console.print(f"[yellow]note:[/] only {fresh} of {total} ramparts runtime/sandbox modules "
                      "have a current .pyc: every zygote compiles the others from source")
    console.print("sandbox layers: " + ", ".join(
        f"{x.name}{'' if x.available else ' (missing)'}" for x in report.layers))
    work = Path(tempfile.mkdtemp(prefix="ramparts-sandbox-bench-"))
    res = Results()
    try:
        try:
            import uvloop

            phases_skipped = uvloop.run(run(args, work, report, res))
        except ImportError:
            phases_skipped = asyncio.run(run(args, work, report, res))
    finally:
        rmtree_readonly(work)
    print_report(args, res)
    if phases_skipped and args.phases:
        console.print(f"[yellow]phase timing skipped:[/] {phases_skipped}")
    if args.write:
        write_section(args.output, "sandbox",
                      markdown(args, res, report, command_line(argv), started,
                               time.monotonic() - t0, loadavg, phases_skipped))
        console.print(f"wrote the bench:sandbox section of {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
