"""The host side of the worker runtime: zygotes, warm worker pools, invocations.

Sits between the dispatcher/gateway (which call ``invoke``) and the sandboxed
processes.  Per function version it keeps one zygote (the handler imported
once) and up to ``spec.concurrency`` forked workers, reused while warm.  While
a worker runs a handler, every ``context`` call it makes arrives here as a
frame and is served by ``host_calls`` (policy, audit, encryption, storage);
the worker itself holds nothing.

Everything a worker or zygote sends is treated as untrusted: frames are size
checked and parsed as JSON only, a pid the zygote reports must be its child,
and a worker that misbehaves is killed and dropped.  Handler failures are
returned as data (``InvocationResult``), never raised.

All of it runs on the node's one asyncio loop; the per-call path is a write
and a couple of stream reads, no threads.
"""

from __future__ import annotations

import asyncio
import codecs
import collections
import contextlib
import json
import logging
import os
import select
import signal
import socket
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import ramparts
from ramparts.errors import (
    AccessDenied,
    ConfigError,
    DeployError,
    InvalidRequest,
    InvocationError,
    RampartsError,
)
from ramparts.runtime import ipc
from ramparts.runtime.environment import DEFAULT_REGION, lambda_environment
from ramparts.runtime.forkserver import ForkedProcess, ForkServer, ForkServerError
from ramparts.runtime.types import FunctionSpec, HostCalls, InvocationResult
from ramparts.runtime.zygote import BOOTSTRAP, zygote_config
from ramparts.sandbox import cgroups, tree

if TYPE_CHECKING:
    from ramparts.sandbox.host import SandboxHost

__all__ = ["Supervisor"]

log = logging.getLogger("ramparts.runtime")

METHODS = frozenset(
    {
        "kv.put",
        "kv.get",
        "kv.delete",
        "kv.query",
        "objects.put",
        "objects.get",
        "objects.delete",
        "publish",
        "secrets.get",
        "invoke",
    }
)
_STREAM_LIMIT = 1024 * 1024  # fewer pause/resume cycles for multi-MiB frames
_FORK_TIMEOUT = 10.0
_STDERR_CAP = 64 * 1024  # per zygote: untrusted output must not flood the node's log
_STDERR_LINE = 8 * 1024  # one record's share of a worker's (unterminated) stderr line
_WATCHDOG_INTERVAL = 0.1
_MAX_VIOLATION_FRAMES = 100  # per invocation; the hooks send at most 100 per process
_MAX_LOGS = 64 * 1024 + 256  # the worker caps at 64 KiB plus its marker; enforce it here too


class StartError(DeployError):
    """A zygote could not load its handler; ``error_type`` is Lambda-style."""

    def __init__(self, message: str, error_type: str = "Runtime.InitError") -> None:
        super().__init__(message)
        self.error_type = error_type


class _Worker:
    __slots__ = (
        "pid",
        "pidfd",
        "reader",
        "writer",
        "killed",
        "_waiting",
        "_release_later",
        "sandboxed",
        "group",
        "oom",
        "reaped",
    )

    def __init__(
        self,
        pid: int,
        pidfd: int | None,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        *,
        sandboxed: bool = False,
        group: cgroups.Group | None = None,
    ) -> None:
        self.pid = pid
        self.pidfd = pidfd
        self.reader = reader
        self.writer = writer
        self.killed = False
        self._waiting = False
        self._release_later = False
        self.sandboxed = sandboxed
        self.group = group
        self.oom = False  # killed by the memory watchdog, or OOM-killed in its cgroup
        self.reaped = 0  # processes it had spawned that were still alive when it was killed

    def out_of_memory(self) -> bool:
        return self.oom or (self.group is not None and self.group.oom_killed())

    def alive(self) -> bool:
        # The transport keeps reading while idle, so a worker that died
        # between calls is already at EOF here.
        return not self.killed and not self.reader.at_eof() and self.reader.exception() is None

    def exited(self) -> bool:
        if self.pidfd is None:
            return False
        readable, _, _ = select.select([self.pidfd], [], [], 0)
        return bool(readable)

    def kill(self) -> None:
        if self.killed:
            return
        self.killed = True
        if self.sandboxed:
            # A subreaper that cannot unset that: everything it spawned is still
            # below it, whatever setsid/double-fork tricks it played.
            if not self.exited():
                self.reaped = tree.kill_tree(self.pid, self.pidfd)
            if self.group is not None:  # what it spawned, if it died before we came
                self.reaped += self.group.kill(owner=self.pid)
        elif not self.exited():
            # Its own session (see zygote._enter_sandbox): take whatever it
            # spawned along.  Safe while it lives: its pid, hence that
            # group id, cannot be reused.
            with contextlib.suppress(OSError):
                os.killpg(self.pid, signal.SIGKILL)
            with contextlib.suppress(OSError):
                if self.pidfd is not None:
                    signal.pidfd_send_signal(self.pidfd, signal.SIGKILL)
                else:
                    os.kill(self.pid, signal.SIGKILL)
        self.writer.close()

    async def wait_exit(self, timeout: float) -> None:
        if self.pidfd is None or self.exited():
            return
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        pidfd = self.pidfd
        self._waiting = True
        loop.add_reader(pidfd, lambda: done.done() or done.set_result(None))
        try:
            await asyncio.wait_for(done, timeout)
        except TimeoutError:
            log.warning("worker %d did not exit after SIGKILL", self.pid)
        finally:
            loop.remove_reader(pidfd)
            self._waiting = False
            if self._release_later:
                self.release_fd()

    def release_fd(self) -> None:
        if self._waiting:  # closing an fd the selector watches would confuse it
            self._release_later = True
            return
        if self.pidfd is not None:
            os.close(self.pidfd)
            self.pidfd = None
        if self.group is not None:
            group, self.group = self.group, None
            with contextlib.suppress(RuntimeError):
                asyncio.get_running_loop().run_in_executor(None, group.remove)


class _Zygote:
    __slots__ = (
        "proc",
        "sock",
        "reader",
        "writer",
        "fork_lock",
        "stderr_task",
        "pid",
        "pidfd",
        "group",
        "workers",
    )

    def __init__(
        self,
        proc: asyncio.subprocess.Process | ForkedProcess,
        sock: socket.socket,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        stderr_task: asyncio.Task[None] | None,
    ) -> None:
        self.proc = proc
        self.sock = sock
        self.reader = reader
        self.writer = writer
        self.fork_lock = asyncio.Lock()  # one fork request in flight: replies come in order
        self.stderr_task = stderr_task
        # The process that forks workers: the interpreter itself, or inside a sandbox
        # the PID 1 its keeper (``proc``) reported.
        self.pid = proc.pid
        self.pidfd: int | None = None
        self.group: cgroups.Group | None = None  # its memory and process caps, at import too
        self.workers: set[int] = set()  # host pids of the workers it forked that still run

    def alive(self) -> bool:
        return self.proc.returncode is None and not self.reader.at_eof()


class _Version:
    def __init__(self, spec: FunctionSpec) -> None:
        self.spec = spec
        self.zygote: _Zygote | None = None
        self.zygote_lock = asyncio.Lock()
        self.workers: set[_Worker] = set()
        self.idle: list[_Worker] = []  # a stack: the most recently used stays warmest
        self.waiters: collections.deque[asyncio.Future[_Worker | None]] = collections.deque()
        self.starting = 0
        self.busy = 0
        self.retired = False
        self.changed = asyncio.Event()


class Supervisor:
    """Runs function versions in sandboxed worker processes.

    Args:
        runtime_dir: a directory owned by the supervisor; it is made to hold
            only a ``ramparts`` symlink and is the only place on a worker's
            import path besides the function's code, its deps and the stdlib.
        host_calls: serves the ``context`` calls handlers make.
        start_timeout: seconds a zygote may take to import its handler.
        verify: the start gate, awaited before every zygote start: it raises
            to refuse the version (its signature, record or code did not
            verify), and then no zygote starts.  Whatever it raises becomes a
            ``StartError`` of type ``Runtime.VersionUnverified``: fail closed.
        region: the ``AWS_REGION`` workers see (``ramparts up --region``).
        secret_environment: resolves a version's ``{secret: NAME}`` variables
            (variable -> value) at every zygote start, so a rotated secret
            reaches the next zygote; whatever it raises refuses the start
            (``Runtime.SecretError``): fail closed.  The values travel to the
            zygote on its own socket, never in an argv or the fork server's
            messages.
    """

    def __init__(
        self,
        runtime_dir: Path,
        host_calls: HostCalls,
        *,
        start_timeout: float = 60.0,
        sandbox: SandboxHost | None = None,
        verify: Callable[[FunctionSpec], Awaitable[None]] | None = None,
        region: str = DEFAULT_REGION,
        secret_environment: Callable[[FunctionSpec], Awaitable[dict[str, str]]] | None = None,
        aws_environment: (
            Callable[[FunctionSpec], tuple[dict[str, str], dict[str, str]]] | None
        ) = None,
        queue_wait: float | None = None,
    ) -> None:
        self._runtime_dir = _prepare_runtime_dir(Path(runtime_dir))
        self._queue_wait = queue_wait
        self._region = region
        self._secret_environment = secret_environment
        # AWS_ENDPOINT_URL and the container-credentials variables of one new zygote
        # (ramparts.aws): plain ones, and the container token, which travels like a
        # secret variable (over the socket, never on a command line)
        self._aws_environment = aws_environment
        self._renewing: set[asyncio.Future[None]] = set()
        self._host_calls = host_calls
        self._start_timeout = start_timeout
        self._verify = verify
        self._sandbox = sandbox
        self._versions: dict[str, _Version] = {}
        self._retiring: set[_Version] = set()
        self._closed = False
        self._watchdog: asyncio.Task[None] | None = None
        # The runtime's bytecode, compiled once per node: a zygote never writes any
        # and, where nothing else did (PYTHONDONTWRITEBYTECODE, a fresh checkout),
        # would compile ~30 modules at every start.
        self._compiled: asyncio.Future[None] | None = None
        # A warm interpreter that forks zygotes (40 ms less per cold start); a start
        # it cannot serve falls back to a fresh interpreter.
        self._forkserver = ForkServer(
            runtime_dir=str(self._runtime_dir),
            sandbox=sandbox is not None,
            pyseccomp=sandbox.pyseccomp if sandbox is not None else None,
            libs=sandbox.libs if sandbox is not None else {},
        )

    # --- public API -----------------------------------------------------------

    async def warm(self) -> None:
        """Compile the runtime and start the zygote template ahead of the first call."""
        await self._compile_runtime()
        try:
            await self._forkserver.start()
        except ForkServerError as exc:
            log.warning("no zygote template: zygotes start from a fresh interpreter (%s)", exc)

    async def prepare(self, spec: FunctionSpec) -> None:
        """Start the version's zygote; raise ``DeployError`` if the handler won't load."""
        self._check_open()
        v = self._version(spec)
        try:
            await self._ensure_zygote(v)
        except DeployError:
            if self._versions.get(spec.key) is v and not v.workers:
                del self._versions[spec.key]
            raise

    def loaded(self, app: str, function: str, version: str) -> FunctionSpec | None:
        """The spec of a version this supervisor has a zygote or workers for, else None.

        A version is loaded from the start of its deploy (the import check runs
        its module scope, which may call AWS as Lambda's init does) until it is
        retired and drained.
        """
        v = self._versions.get(f"{function}@{version}")
        if v is None or v.spec.app != app:
            return None
        return v.spec

    async def invoke(
        self, spec: FunctionSpec, event: Any, *, request_id: str | None = None
    ) -> InvocationResult:
        """Run one invocation; handler failures come back as the result's status."""
        self._check_open()
        rid = request_id or str(uuid.uuid4())
        started = time.perf_counter()
        body = _invoke_frame(spec, rid, event)
        v = self._version(spec)
        try:
            # A call that cannot get a worker within its own timeout (or the shorter
            # queue wait) is throttled, as on Lambda: under overload, callers get a fast
            # answer instead of an unbounded queue.
            async with asyncio.timeout(spec.timeout):  # no extra task per call
                w, cold = await self._acquire(v)
        except TimeoutError:
            waited = spec.timeout if self._queue_wait is None else min(
                spec.timeout, self._queue_wait
            )
            return InvocationResult(
                request_id=rid,
                status="throttled",
                error_type="Throttled",
                error_message=f"no worker of {spec.function} was free within "
                f"{waited:g}s (concurrency {spec.concurrency})",
                duration_ms=_ms(started),
            )
        except StartError as exc:
            return InvocationResult(
                request_id=rid,
                status="error",
                error_type=exc.error_type,
                error_message=exc.message,
                duration_ms=_ms(started),
                cold=True,
            )
        v.busy += 1
        try:
            result = await self._run(v, w, rid, body)
        finally:
            v.busy -= 1
            self._release(v, w)
        result.cold = cold
        result.duration_ms = _ms(started)
        return result

    async def retire(self, version: str | FunctionSpec) -> None:
        """Stop a version once its in-flight (and queued) invocations are done."""
        key = version.key if isinstance(version, FunctionSpec) else version
        v = self._versions.pop(key, None)
        if v is None:
            return
        v.retired = True
        self._retiring.add(v)
        try:
            for w in list(v.idle):
                self._drop(v, w)
            while v.busy or v.waiters or v.starting:
                v.changed.clear()
                await v.changed.wait()
            await self._shutdown_version(v)
        finally:
            self._retiring.discard(v)

    def renew_secret(self, secret: str) -> int:
        """Start afresh every version whose environment holds ``secret`` (it changed).

        Each is retired as ``retire`` does (in-flight calls finish on the old
        workers); the next call starts a new zygote, which reads the current
        value.  Returns how many versions were renewed.
        """
        stale = [v.spec for v in self._versions.values()
                 if secret in v.spec.secret_environment.values()]
        for spec in stale:
            task = asyncio.ensure_future(self.retire(spec))
            self._renewing.add(task)
            task.add_done_callback(self._renewing.discard)
        return len(stale)

    async def close(self) -> None:
        """Kill every worker and zygote and reap them; the supervisor is unusable after."""
        self._closed = True
        versions = list(self._versions.values()) + list(self._retiring)
        self._versions.clear()
        for v in versions:
            while v.waiters:
                fut = v.waiters.popleft()
                if not fut.done():
                    fut.set_exception(InvocationError("the runtime is shutting down"))
        await asyncio.gather(*(self._shutdown_version(v) for v in versions))
        if self._watchdog is not None:
            self._watchdog.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._watchdog
        await self._forkserver.close()
        if self._sandbox is not None:
            await self._sandbox.close()

    def stats(self) -> dict[str, dict[str, int]]:
        """Pool sizes per version key (retiring versions included while they drain)."""
        out: dict[str, dict[str, int]] = {}
        for v in [*self._retiring, *self._versions.values()]:
            out[v.spec.key] = {
                "workers": len(v.workers),
                "idle": len(v.idle),
                "busy": v.busy,
                "waiting": len(v.waiters),
            }
        return out

    # --- pool -------------------------------------------------------------------

    def _check_open(self) -> None:
        if self._closed:
            raise InvocationError("the runtime is shut down")

    def _version(self, spec: FunctionSpec) -> _Version:
        v = self._versions.get(spec.key)
        if v is None:
            v = self._versions[spec.key] = _Version(spec)
        return v

    async def _acquire(self, v: _Version) -> tuple[_Worker, bool]:
        """An idle worker, a new one if under the cap, else the next one freed (FIFO)."""
        loop = asyncio.get_running_loop()
        while True:
            while v.idle:
                w = v.idle.pop()
                # The pidfd check catches a death the loop has not yet seen as EOF.
                if w.alive() and not w.exited():
                    return w, False
                self._drop(v, w)
                await self._drain(v, w)
            if len(v.workers) + v.starting < v.spec.concurrency:
                return await self._grow(v), True
            fut: asyncio.Future[_Worker | None] = loop.create_future()
            v.waiters.append(fut)
            try:
                if self._queue_wait is None:
                    w_or_none = await fut
                else:
                    # shield: a timeout must not cancel a future a worker was just handed in
                    w_or_none = await asyncio.wait_for(asyncio.shield(fut), self._queue_wait)
            except (asyncio.CancelledError, TimeoutError):
                if fut.done() and not fut.cancelled() and fut.exception() is None:
                    handed = fut.result()
                    if handed is not None:
                        self._release(v, handed)
                with contextlib.suppress(ValueError):
                    v.waiters.remove(fut)
                v.changed.set()  # a retiring version waits for its waiters to go
                raise
            if w_or_none is not None:
                return w_or_none, False
            # capacity was freed (a worker died): go round and fork

    async def _grow(self, v: _Version) -> _Worker:
        v.starting += 1
        task = asyncio.ensure_future(self._fork_retrying(v))

        def _settle(t: asyncio.Task[_Worker]) -> None:
            v.starting -= 1
            if t.cancelled() or t.exception() is not None:
                self._wake_one(v)  # the slot we held is free again
                v.changed.set()
            else:
                v.workers.add(t.result())

        task.add_done_callback(_settle)
        try:
            # Shielded: a half-done fork would desynchronise the zygote's replies.
            return await asyncio.shield(task)
        except asyncio.CancelledError:
            task.add_done_callback(
                lambda t: (
                    None
                    if t.cancelled() or t.exception() is not None
                    else self._release(v, t.result())
                )
            )
            raise

    def _release(self, v: _Version, w: _Worker) -> None:
        if w not in v.workers:  # already dropped (timeout, crash)
            v.changed.set()
            return
        if not w.alive():
            self._drop(v, w)
            return
        while v.waiters:
            fut = v.waiters.popleft()
            if not fut.done():
                fut.set_result(w)
                return
        if v.retired or self._closed:
            self._drop(v, w)
        else:
            v.idle.append(w)
        v.changed.set()

    def _drop(self, v: _Version, w: _Worker) -> None:
        w.kill()
        z = v.zygote
        if w.sandboxed and z is not None and w.pid in z.workers and w.pidfd is not None:
            # Whatever the worker spawned was below it while it lived; if it died on its
            # own first (a crash, os._exit), that was re-parented to the zygote.
            watch = os.dup(w.pidfd)
            asyncio.ensure_future(self._reap_orphans(v, z, w.pid, watch))
        v.workers.discard(w)
        with contextlib.suppress(ValueError):
            v.idle.remove(w)
        w.release_fd()
        self._wake_one(v)
        v.changed.set()

    async def _reap_orphans(self, v: _Version, z: _Zygote, pid: int, watch: int) -> None:
        """Once a worker is gone, kill every child of its zygote that is no worker."""
        loop = asyncio.get_running_loop()
        done = loop.create_future()
        try:
            loop.add_reader(watch, lambda: done.done() or done.set_result(None))
            try:
                await asyncio.wait_for(done, 5.0)
            except TimeoutError:
                pass
            finally:
                loop.remove_reader(watch)
        finally:
            os.close(watch)
        async with z.fork_lock:
            z.workers.discard(pid)
            if not z.alive():
                return
            killed = await asyncio.to_thread(_kill_strays, z.pid, frozenset(z.workers))
        if killed and self._sandbox is not None:
            self._sandbox.enforced(
                "runtime.orphans_killed",
                v.spec,
                None,
                {
                    "rule": "process.orphan",
                    "target": f"{killed} process(es) left by worker {pid}",
                    "processes": killed,
                    "blocked": True,
                },
            )

    def _wake_one(self, v: _Version) -> None:
        while v.waiters:
            fut = v.waiters.popleft()
            if not fut.done():
                fut.set_result(None)
                return

    # --- one invocation ---------------------------------------------------------

    async def _run(self, v: _Version, w: _Worker, rid: str, body: bytes) -> InvocationResult:
        spec = v.spec
        deadline = asyncio.get_running_loop().time() + spec.timeout
        reported = 0  # violation frames audited for this invocation (a handler can forge them)
        try:
            async with asyncio.timeout_at(deadline):
                w.writer.write(body)
                await w.writer.drain()
                while True:
                    msg = await ipc.read_frame(w.reader)
                    if msg is None:
                        return self._crashed(v, w, rid, "the worker exited during the invocation")
                    op = msg.get("op") if isinstance(msg, dict) else None
                    if op == "result":
                        if self._sandbox is not None:
                            if msg.get("violations"):
                                self._sandbox.violations(spec, rid, msg["violations"])
                            if msg.get("error_type") == "MemoryError":
                                # RLIMIT_DATA said no (no cgroup here): the same answer a
                                # cgroup OOM kill gets.
                                msg["error_type"] = "Runtime.OutOfMemory"
                                msg["error_message"] = (
                                    f"the handler ran out of memory (memory: {spec.memory_mb}Mi)"
                                )
                                self._sandbox.enforced(
                                    "runtime.oom",
                                    spec,
                                    rid,
                                    {
                                        "rule": "memory",
                                        "target": f"memory: {spec.memory_mb}Mi",
                                        "blocked": True,
                                    },
                                )
                        return _result(rid, msg)
                    if op == "violation" and self._sandbox is not None:
                        if reported < _MAX_VIOLATION_FRAMES:
                            reported += 1
                            self._sandbox.violations(spec, rid, msg.get("events"))
                        continue
                    if op != "call":
                        return self._crashed(v, w, rid, "the worker broke the protocol")
                    w.writer.write(await self._serve_call(spec, rid, msg))
                    await w.writer.drain()
        except TimeoutError:
            self._drop(v, w)
            if self._sandbox is not None:
                self._sandbox.enforced(
                    "runtime.timeout_kill",
                    spec,
                    rid,
                    {
                        "rule": "timeout",
                        "target": f"{w.reaped} spawned process(es) killed",
                        "processes": w.reaped,
                        "blocked": True,
                    },
                )
            return InvocationResult(
                request_id=rid,
                status="timeout",
                error_type="Runtime.Timeout",
                error_message=f"Task timed out after {spec.timeout:.2f} seconds",
            )
        except (ipc.FrameError, ConnectionError, OSError):
            return self._crashed(v, w, rid, "the worker exited during the invocation")
        except BaseException:
            # Cancelled by the caller (or worse): the worker is mid-call and
            # cannot be reused.
            self._drop(v, w)
            raise

    def _crashed(self, v: _Version, w: _Worker, rid: str, why: str) -> InvocationResult:
        oom = w.out_of_memory()
        self._drop(v, w)
        if w.reaped and self._sandbox is not None:
            # Caught still below the dying worker (the reaper handles those that were
            # already handed to the zygote): the same event either way.
            self._sandbox.enforced(
                "runtime.orphans_killed",
                v.spec,
                rid,
                {
                    "rule": "process.orphan",
                    "target": f"{w.reaped} process(es) left by worker {w.pid}",
                    "processes": w.reaped,
                    "blocked": True,
                },
            )
        if oom and self._sandbox is not None:
            self._sandbox.enforced(
                "runtime.oom",
                v.spec,
                rid,
                {"rule": "memory", "target": f"memory: {v.spec.memory_mb}Mi", "blocked": True},
            )
        if oom:
            return InvocationResult(
                request_id=rid,
                status="error",
                error_type="Runtime.OutOfMemory",
                error_message=f"the worker ran out of memory (memory: {v.spec.memory_mb}Mi)",
            )
        return InvocationResult(
            request_id=rid, status="crashed", error_type="Runtime.WorkerCrashed", error_message=why
        )

    async def _serve_call(self, spec: FunctionSpec, rid: str, msg: dict[str, Any]) -> bytes:
        method = msg.get("method")
        args = msg.get("args")
        error: dict[str, str]
        if method not in METHODS or not isinstance(args, dict):
            error = {"code": "invalid_request", "message": f"unknown context call {method!r}"}
        else:
            try:
                value = await self._host_calls(spec, rid, method, args)
            except AccessDenied as exc:
                error = {
                    "code": exc.code,
                    "message": exc.message,
                    "action": exc.action,
                    "resource": exc.resource,
                }
            except RampartsError as exc:
                # "kind" names the error class so the handler gets NotFound for any
                # not-found code (secret_not_found, function_not_found, ...).
                error = {"code": exc.code, "message": exc.message, "kind": type(exc).__name__}
            except Exception:
                log.exception("context call %s failed for %s (%s)", method, spec.key, rid)
                error = {"code": "internal_error", "message": "internal error"}
            else:
                try:
                    return ipc.frame(ipc.host_encode({"op": "reply", "value": value}))
                except ipc.FrameTooLarge:
                    error = {
                        "code": "payload_too_large",
                        "message": f"the reply to {method} exceeds {ipc.MAX_FRAME} bytes",
                    }
                except ipc.FrameError:
                    log.exception("context call %s returned an unencodable value", method)
                    error = {"code": "internal_error", "message": "internal error"}
        return ipc.frame(ipc.host_encode({"op": "reply", "error": error}))

    # --- processes ----------------------------------------------------------------

    async def _ensure_zygote(self, v: _Version) -> bool:
        """Make sure the version has a live zygote; True if one had to be started."""
        async with v.zygote_lock:
            z = v.zygote
            if z is not None and z.alive():
                return False
            if z is not None:
                v.zygote = None
                await _kill_zygote(z)
            await self._check_version(v.spec)
            secrets = await self._resolve_secrets(v.spec)
            v.zygote = await self._start_zygote(v.spec, secrets)
            return True

    async def _resolve_secrets(self, spec: FunctionSpec) -> dict[str, str]:
        if not spec.secret_environment:
            return {}
        if self._secret_environment is None:
            raise StartError(
                f"{spec.function}: secret environment variables need a node's secret store",
                "Runtime.SecretError",
            )
        try:
            values = await self._secret_environment(spec)
        except asyncio.CancelledError:
            raise
        except RampartsError as exc:
            raise StartError(f"{spec.function}: {exc.message}", "Runtime.SecretError") from None
        except Exception:
            log.exception("%s: resolving secret environment variables failed", spec.key)
            raise StartError(
                f"{spec.function}: its secret environment variables could not be resolved",
                "Runtime.SecretError",
            ) from None
        if set(values) != set(spec.secret_environment):  # fail closed on a partial answer
            raise StartError(
                f"{spec.function}: its secret environment variables could not be resolved",
                "Runtime.SecretError",
            )
        return values

    async def _check_version(self, spec: FunctionSpec) -> None:
        if self._verify is None:
            return
        try:
            await self._verify(spec)
        except asyncio.CancelledError:
            raise
        except RampartsError as exc:
            raise StartError(exc.message, "Runtime.VersionUnverified") from None
        except Exception:
            log.exception("%s: verifying the version failed", spec.key)
            raise StartError(
                f"version {spec.version[:12]} of {spec.function} could not be verified",
                "Runtime.VersionUnverified",
            ) from None

    async def _fork_retrying(self, v: _Version) -> _Worker:
        try:
            await self._ensure_zygote(v)
            return await self._fork(v)
        except ipc.FrameError:
            pass  # the zygote died or misbehaved: restart it once
        await self._ensure_zygote(v)
        try:
            return await self._fork(v)
        except ipc.FrameError as exc:
            raise StartError("the function's runtime failed to start a worker") from exc

    async def _fork(self, v: _Version) -> _Worker:
        z = v.zygote
        if z is None or not z.alive():
            raise ipc.FrameError("zygote is not running")
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            async with z.fork_lock:
                try:
                    ipc.send_fd_frame(z.sock, {"op": "fork"}, child.fileno())
                finally:
                    child.close()
                reply = await asyncio.wait_for(ipc.read_frame(z.reader), _FORK_TIMEOUT)
                pid = reply.get("pid") if isinstance(reply, dict) else None
                if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
                    raise ipc.FrameError("zygote sent no pid")
                if self._sandbox is not None:
                    pid = _host_pid_of(z.pid, pid)  # the zygote speaks of its own namespace
                pidfd = _pidfd_of_child(pid, z.pid)
                z.workers.add(pid)  # under the fork lock: the orphan reaper's view
            reader, writer = await asyncio.open_unix_connection(sock=parent, limit=_STREAM_LIMIT)
        except BaseException as exc:
            parent.close()
            if not isinstance(exc, asyncio.CancelledError):
                v.zygote = None
                await _kill_zygote(z)
            if isinstance(exc, TimeoutError | OSError):
                raise ipc.FrameError("zygote did not answer a fork request") from exc
            raise
        w = _Worker(pid, pidfd, reader, writer, sandboxed=self._sandbox is not None)
        if self._sandbox is not None:
            self._ensure_watchdog()
            if self._sandbox.cgroups is not None:
                # Born in the zygote's group (capped at the same memory: never unbounded),
                # the worker moves to its own in the background: a cgroup move waits on
                # the kernel (~10 ms on v1), which a cold call need not.
                asyncio.ensure_future(self._adopt(v, w))
        return w

    async def _adopt(self, v: _Version, w: _Worker) -> None:
        assert self._sandbox is not None
        try:
            group = await asyncio.to_thread(self._sandbox.worker_group, v.spec, w.pid)
        except OSError:
            if not (w.killed or w.exited()):  # a worker already gone needs no group
                log.warning("%s: worker %d stays in its zygote's cgroup", v.spec.key, w.pid)
            return
        if group is None:
            return
        if w.killed or w.pidfd is None:
            await asyncio.to_thread(_drop_group, group)
        else:
            w.group = group

    def _ensure_watchdog(self) -> None:
        """Where no cgroup enforces ``memory:``, the host watches each worker's RSS."""
        if self._sandbox is None or self._sandbox.cgroups is not None:
            return
        if self._watchdog is None or self._watchdog.done():
            self._watchdog = asyncio.ensure_future(self._watch_memory())

    async def _watch_memory(self) -> None:
        while not self._closed:
            await asyncio.sleep(_WATCHDOG_INTERVAL)
            children = tree.children_map()  # one /proc scan a tick, for every worker
            for v in [*self._versions.values(), *self._retiring]:
                limit = v.spec.memory_mb * 1024 * 1024
                for w in list(v.workers):
                    if w.killed or w.pidfd is None:
                        continue
                    used = _rss_of_tree(w.pid, children)
                    if used > limit:
                        log.warning(
                            "%s: worker %d uses %d MiB, over memory %d MiB: killed",
                            v.spec.key,
                            w.pid,
                            used >> 20,
                            v.spec.memory_mb,
                        )
                        w.oom = True
                        w.kill()

    async def _compile_runtime(self) -> None:
        if self._compiled is None:
            self._compiled = asyncio.ensure_future(asyncio.to_thread(_compile_runtime))
        with contextlib.suppress(Exception):  # a cache only: zygotes compile what they import
            await asyncio.shield(self._compiled)

    async def _start_zygote(
        self, spec: FunctionSpec, secrets: dict[str, str] | None = None
    ) -> _Zygote:
        code_dir = Path(spec.code_dir).resolve()
        deps_dir = Path(spec.deps_dir).resolve() if spec.deps_dir else None
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        egress_host = egress_child = None
        sandbox_cfg = None
        env = _environment(spec, code_dir, self._region)
        pass_fds = [child.fileno()]
        if self._sandbox is not None:
            egress_host, egress_child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
            pass_fds.append(egress_child.fileno())
            sandbox_cfg = self._sandbox.zygote_config(
                spec, ctl_fd=child.fileno(), egress_fd=egress_child.fileno()
            )
            env.update(self._sandbox.environment(spec))
        if self._aws_environment is not None:
            plain, hidden = self._aws_environment(spec)
            env.update(plain)
            secrets = {**(secrets or {}), **hidden}
        # Never in the exec'd environment: the dynamic loader and the interpreter read
        # it before any sandbox layer exists (LD_PRELOAD would run as the node's user).
        # The zygote applies it once inside its sandbox.
        function_env, env = env, {"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"}
        cfg = zygote_config(
            ctl_fd=child.fileno(),
            app=spec.app,
            handler=spec.handler,
            code_dir=str(code_dir),
            deps_dir=str(deps_dir) if deps_dir else None,
            runtime_dir=str(self._runtime_dir),
            memory_mb=spec.memory_mb,
            sandbox=sandbox_cfg,
            pyseccomp=self._sandbox.pyseccomp if self._sandbox is not None else None,
            environment=function_env,
            secret_environment=bool(secrets),
        )
        await self._compile_runtime()
        proc: asyncio.subprocess.Process | ForkedProcess | None = None
        try:
            proc = await self._forkserver.spawn(
                json.loads(cfg),
                env=env,
                cwd=str(code_dir),
                fds=(child.fileno(), egress_child.fileno() if egress_child is not None else -1),
            )
        except ForkServerError as exc:
            log.warning("%s: starting a fresh interpreter (%s)", spec.key, exc)
        try:
            if proc is None:
                proc = await asyncio.create_subprocess_exec(
                    sys.executable,
                    "-I",
                    "-S",
                    "-c",
                    BOOTSTRAP,
                    cfg,
                    stdin=asyncio.subprocess.DEVNULL,
                    stdout=asyncio.subprocess.DEVNULL,
                    stderr=asyncio.subprocess.PIPE,
                    pass_fds=tuple(pass_fds),
                    env=env,
                    cwd=str(code_dir),
                    start_new_session=True,  # no terminal signals; the node decides its life
                )
        except (OSError, ValueError) as exc:
            parent.close()
            if egress_host is not None:
                egress_host.close()
            raise StartError(
                f"cannot start the runtime of {spec.function}: {type(exc).__name__}"
            ) from exc
        finally:
            child.close()
            if egress_child is not None:
                egress_child.close()
        stderr_task = (
            asyncio.ensure_future(_drain_stderr(proc.stderr, spec)) if proc.stderr else None
        )
        group_task: asyncio.Future[cgroups.Group | None] | None = None
        if self._sandbox is not None:
            # The new process joins its group while the interpreter starts (in a thread:
            # the move waits on the kernel); the zygote it forks is born inside it.
            group_task = asyncio.ensure_future(
                asyncio.to_thread(self._sandbox.worker_group, spec, proc.pid)
            )
        reader, writer = await asyncio.open_unix_connection(sock=parent, limit=_STREAM_LIMIT)
        z = _Zygote(proc, parent, reader, writer, stderr_task)
        if secrets:
            # Read by the zygote once inside its sandbox, before the handler is imported.
            ipc.write_frame(writer, {"environment": secrets})
        try:
            if egress_host is not None:
                assert self._sandbox is not None
                first = await asyncio.wait_for(ipc.read_frame(reader), self._start_timeout)
                zpid = first.get("zygote_pid") if isinstance(first, dict) else None
                if not isinstance(zpid, int) or isinstance(zpid, bool):
                    msg = first  # the sandbox failed before the keeper forked: a refusal
                else:
                    z.pid = zpid
                    try:
                        z.pidfd = _pidfd_of_child(zpid, proc.pid)
                    except ipc.FrameError:
                        # Gone already (a handler that failed to import answers and exits
                        # quickly, a busy node reads late): its answer follows on the socket.
                        if _alive(zpid):
                            raise
                    assert group_task is not None
                    task, group_task = group_task, None
                    try:
                        z.group = await task
                        if z.group is not None and z.pidfd is not None:
                            if not z.group.contains(zpid):
                                await asyncio.to_thread(z.group.add, zpid)  # forked early
                    except OSError as exc:
                        if _alive(zpid):
                            raise ipc.FrameError("cannot put the zygote in its cgroup") from exc
                    self._sandbox.attach_egress(spec, egress_host)
                    egress_host = None
                    msg = await self._ready_frame(spec, reader)
            else:
                msg = await asyncio.wait_for(ipc.read_frame(reader), self._start_timeout)
        except (TimeoutError, ipc.FrameError) as exc:
            await _kill_zygote(z, group_task)
            raise StartError(
                f"{spec.function}: the handler did not load within {self._start_timeout:g}s"
                if isinstance(exc, TimeoutError)
                else f"{spec.function}: the runtime sent a malformed message"
            ) from exc
        except BaseException:
            await _kill_zygote(z, group_task)
            raise
        finally:
            if egress_host is not None:
                egress_host.close()
        if self._sandbox is not None and isinstance(msg, dict) and msg.get("violations"):
            self._sandbox.violations(spec, None, msg["violations"])
        if not isinstance(msg, dict) or msg.get("ready") is not True:
            await _kill_zygote(z, group_task)
            if not isinstance(msg, dict):
                raise StartError(f"{spec.function}: the runtime exited while loading the handler")
            raise StartError(
                str(msg.get("error_message") or "the handler failed to load"),
                str(msg.get("error_type") or "Runtime.InitError"),
            )
        if msg.get("logs"):
            # The handler's import-time output: one field of one record, never raw lines.
            log.info(
                "init output of %s",
                spec.function,
                extra={
                    "ramparts": {
                        "function": spec.function,
                        "version": spec.version,
                        "stream": "init",
                        "output": str(msg["logs"])[:_MAX_LOGS],
                    }
                },
            )
        return z

    async def _ready_frame(self, spec: FunctionSpec, reader: asyncio.StreamReader) -> Any:
        """The zygote's answer after import; violations it reports on the way are audited."""
        deadline = asyncio.get_running_loop().time() + self._start_timeout
        reported = 0
        while True:
            async with asyncio.timeout_at(deadline):
                msg = await ipc.read_frame(reader)
            if not (isinstance(msg, dict) and msg.get("op") == "violation"):
                return msg
            if self._sandbox is not None and reported < _MAX_VIOLATION_FRAMES:
                reported += 1
                self._sandbox.violations(spec, None, msg.get("events"))

    async def _drain(self, v: _Version, w: _Worker) -> None:
        """Read what a dead idle worker left on its socket: violations are evidence."""
        if self._sandbox is None:
            return
        for _ in range(_MAX_VIOLATION_FRAMES):
            try:
                msg = await asyncio.wait_for(ipc.read_frame(w.reader), 0.05)
            except (TimeoutError, ipc.FrameError, OSError):
                return
            if msg is None:
                return
            if isinstance(msg, dict) and msg.get("op") == "violation":
                self._sandbox.violations(v.spec, None, msg.get("events"))

    async def _shutdown_version(self, v: _Version) -> None:
        workers = list(v.workers)
        for w in workers:
            w.kill()
        # Workers first, and wait for them: with the zygote alive they are
        # reaped at once (it ignores SIGCHLD); orphaned they might not be.
        await asyncio.gather(*(w.wait_exit(2.0) for w in workers))
        for w in workers:
            self._drop(v, w)
        await asyncio.gather(*(self._drain(v, w) for w in workers))
        z, v.zygote = v.zygote, None
        if z is not None:
            await _kill_zygote(z)


# --- helpers ----------------------------------------------------------------------


def _prepare_runtime_dir(path: Path) -> Path:
    """Create the runtime dir with its single ``ramparts`` symlink; refuse anything else."""
    path = path.resolve()
    path.mkdir(parents=True, exist_ok=True)
    target = Path(ramparts.__file__).resolve().parent
    link = path / "ramparts"
    extra = sorted(p.name for p in path.iterdir() if p.name != "ramparts")
    if extra:
        # Anything here is importable by every handler: fail closed.
        raise ConfigError(f"runtime dir {path.name!r} holds unexpected entries: {extra}")
    if link.is_symlink():
        if Path(os.readlink(link)) == target:
            return path
        link.unlink()
    elif link.exists():
        raise ConfigError(f"runtime dir {path.name!r}: 'ramparts' is not a symlink")
    link.symlink_to(target, target_is_directory=True)
    return path


def _environment(spec: FunctionSpec, code_dir: Path, region: str) -> dict[str, str]:
    """The zygote's whole environment: never the node's own."""
    env = {str(k): str(val) for k, val in spec.environment.items()}
    env.update(lambda_environment(spec, region=region, task_root=str(code_dir)))
    env.update({"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "RAMPARTS_APP": spec.app})
    return env


def _invoke_frame(spec: FunctionSpec, rid: str, event: Any) -> bytes:
    msg = {
        "op": "invoke",
        "request_id": rid,
        "event": event,
        "timeout_ms": int(spec.timeout * 1000),
        "function": spec.function,
        "version": spec.version,
    }
    try:
        return ipc.frame(ipc.host_encode(msg))
    except ipc.FrameTooLarge as exc:
        raise InvalidRequest(f"event too large ({exc.size} bytes)") from exc
    except ipc.FrameError as exc:
        raise InvalidRequest("event is not JSON serializable") from exc


def _result(rid: str, msg: dict[str, Any]) -> InvocationResult:
    logs = msg.get("logs")
    logs = logs[:_MAX_LOGS] if isinstance(logs, str) else ""
    if msg.get("status") == "ok":
        return InvocationResult(request_id=rid, status="ok", result=msg.get("result"), logs=logs)
    return InvocationResult(
        request_id=rid,
        status="error",
        error_type=_text(msg.get("error_type"), 200) or "Error",
        error_message=_text(msg.get("error_message"), 4096),
        traceback=_text(msg.get("traceback"), 64 * 1024),
        logs=logs,
    )


def _text(value: Any, cap: int) -> str:
    return value[:cap] if isinstance(value, str) else ""


def _ms(started: float) -> float:
    return (time.perf_counter() - started) * 1000


def _kill_strays(zygote: int, workers: frozenset[int]) -> int:
    """Kill the zygote's children that are no worker, until a few scans find none.

    A stray that forks and exits at once hands its child to the zygote again: one
    pass is not enough, so this keeps scanning (bounded) until the zygote has
    nothing but workers three times in a row.
    """
    killed = 0
    quiet = 0
    for _ in range(2000):
        strays = [c for c in _children_of(zygote) if c not in workers]
        if not strays:
            quiet += 1
            if quiet >= 3:
                break
            time.sleep(0.002)
            continue
        quiet = 0
        for child in strays:
            killed += 1 + tree.kill_tree(child)
    return killed


def _alive(pid: int) -> bool:
    return os.path.exists(f"/proc/{pid}")


def _children_of(pid: int) -> list[int]:
    try:
        with open(f"/proc/{pid}/task/{pid}/children") as f:
            return [int(x) for x in f.read().split()]
    except (OSError, ValueError):
        return []


def _host_pid_of(zygote_pid: int, ns_pid: int) -> int:
    """The host pid of the zygote's child that is ``ns_pid`` inside its PID namespace."""
    try:
        with open(f"/proc/{zygote_pid}/task/{zygote_pid}/children") as f:
            children = [int(x) for x in f.read().split()]
    except (OSError, ValueError) as exc:
        raise ipc.FrameError("cannot list the zygote's children") from exc
    for child in children:
        try:
            with open(f"/proc/{child}/status") as f:
                for line in f:
                    if line.startswith("NSpid:"):
                        if int(line.split()[-1]) == ns_pid:
                            return child
                        break
        except (OSError, ValueError):
            continue
    raise ipc.FrameError("the zygote reported a pid that is not its child")


def _compile_runtime() -> None:
    """Byte-compile the modules a zygote imports, where the package keeps its bytecode.

    An installed wheel has them already; a read-only install is left as it is.
    """
    import compileall

    pkg = Path(ramparts.__file__).resolve().parent
    for sub in ("runtime", "sandbox"):
        compileall.compile_dir(pkg / sub, quiet=2, workers=1)
    for name in ("__init__.py", "errors.py"):
        compileall.compile_file(pkg / name, quiet=2)


def _drop_group(group: cgroups.Group) -> None:
    group.kill()
    group.remove()


def _rss_of_tree(pid: int, children: dict[int, list[int]]) -> int:
    """Memory of a worker and everything below it, shared pages counted once.

    PSS (``smaps_rollup``) splits a page shared by n processes n ways, so a
    worker that forks does not look n times its size.  An unprivileged node
    may not read it (the workers are non-dumpable and their memory belongs to
    the host's user namespace): then the largest RSS of the tree counts, and
    each process is held to ``memory:`` on its own (RLIMIT_DATA does the same).
    """
    pss_total = 0
    rss_max = 0
    pss_ok = True
    page = os.sysconf("SC_PAGE_SIZE")
    for p in [pid, *tree.descendants(pid, children)]:
        if pss_ok:
            try:
                with open(f"/proc/{p}/smaps_rollup", "rb") as f:
                    for line in f:
                        if line.startswith(b"Pss:"):
                            pss_total += int(line.split()[1]) * 1024
                            break
            except (OSError, ValueError, IndexError):
                pss_ok = False
        try:
            with open(f"/proc/{p}/statm") as f:
                rss_max = max(rss_max, int(f.read().split()[1]) * page)
        except (OSError, ValueError, IndexError):
            continue
    return pss_total if pss_ok else rss_max


def _pidfd_of_child(pid: int, zygote_pid: int) -> int | None:
    """Pin the worker's identity, and check the zygote did not hand us a stranger.

    The zygote runs user code, so the pid it reports is not trusted: it must
    name a child of the zygote, or we would later SIGKILL an arbitrary
    process.  The pidfd taken first makes the check race-free.
    """
    try:
        pidfd: int | None = os.pidfd_open(pid)
    except (OSError, AttributeError):
        pidfd = None  # old kernel: fall back to the pid alone
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError) as exc:
        if pidfd is not None:
            os.close(pidfd)
        raise ipc.FrameError("the worker the zygote reported does not exist") from exc
    if ppid != zygote_pid:
        if pidfd is not None:
            os.close(pidfd)
        raise ipc.FrameError("the zygote reported a pid that is not its child")
    return pidfd


async def _kill_zygote(
    z: _Zygote, group_task: asyncio.Future[cgroups.Group | None] | None = None
) -> None:
    z.writer.close()  # EOF alone makes a healthy zygote exit
    if z.pidfd is not None:
        # Inside a sandbox: PID 1 of its namespace; its death takes every process there.
        with contextlib.suppress(OSError):
            signal.pidfd_send_signal(z.pidfd, signal.SIGKILL)
        os.close(z.pidfd)
        z.pidfd = None
    if z.proc.returncode is None:
        with contextlib.suppress(ProcessLookupError):
            z.proc.kill()
    await z.proc.wait()
    if group_task is not None:  # a start that failed before the group was taken over
        with contextlib.suppress(Exception):
            z.group = await group_task
    if z.group is not None:
        group, z.group = z.group, None
        await asyncio.to_thread(_drop_group, group)
    if z.stderr_task is not None and not z.stderr_task.done():
        # Workers may still hold the pipe; do not wait for their EOF.
        z.stderr_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await z.stderr_task


async def _drain_stderr(stream: asyncio.StreamReader, spec: FunctionSpec) -> None:
    """Forward what escapes the worker's capture (crashes, C-level writes) to our log.

    Each line the worker wrote becomes the ``output`` field of one WARNING record
    attributed to its function, never a line of its own: the node's formatters
    (ramparts.observe.logs) escape it, so a handler cannot forge node log lines.
    Lines are split on the worker's own newlines, across reads, and decoded as
    UTF-8 incrementally (invalid bytes become U+FFFD); a line longer than
    ``_STDERR_LINE`` is cut into several records marked ``continued``.
    """
    budget = _STDERR_CAP
    decoder = codecs.getincrementaldecoder("utf-8")("replace")
    pending = ""
    cont = False  # ``pending`` continues a line whose start is already logged
    while True:
        chunk = await stream.read(4096)
        if not chunk:
            for line in (pending + decoder.decode(b"", final=True)).split("\n"):
                _log_worker_line(spec, line, cont)
                cont = False
            return
        if budget <= 0:
            continue  # keep draining so the worker never blocks on a full pipe
        chunk = chunk[:budget]
        budget -= len(chunk)
        *lines, pending = (pending + decoder.decode(chunk)).split("\n")
        for line in lines:
            _log_worker_line(spec, line, cont)
            cont = False
        while len(pending) > _STDERR_LINE:
            _log_worker_output(spec, pending[:_STDERR_LINE], continued=cont)
            pending, cont = pending[_STDERR_LINE:], True
        if budget <= 0:  # the cap: what is left of the line, then a note, then nothing
            _log_worker_line(spec, pending + decoder.decode(b"", final=True), cont)
            pending, cont = "", False
            log.warning(
                "worker output of %s: more than %d bytes, the rest is dropped",
                spec.function,
                _STDERR_CAP,
                extra={"ramparts": {"function": spec.function, "version": spec.version}},
            )


def _log_worker_line(spec: FunctionSpec, line: str, continued: bool) -> None:
    """One line of worker output, in records of at most ``_STDERR_LINE`` characters."""
    for start in range(0, max(len(line), 1), _STDERR_LINE):
        _log_worker_output(spec, line[start : start + _STDERR_LINE], continued=continued)
        continued = True


def _log_worker_output(spec: FunctionSpec, line: str, *, continued: bool = False) -> None:
    if not line.strip():
        return
    log.warning(
        "worker output of %s",
        spec.function,
        # The structured fields of ramparts.observe.logs (``extra={"ramparts": ...}``).
        extra={
            "ramparts": {
                "function": spec.function,
                "version": spec.version,
                "stream": "stderr",
                "output": line,
                **({"continued": True} if continued else {}),
            }
        },
    )
