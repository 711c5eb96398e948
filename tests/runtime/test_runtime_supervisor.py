"""The runtime end to end: real zygotes and forked workers, small handler files.

``host_calls`` is replaced by a recording dict-backed double: it is the
outside of the runtime (policy, storage), not part of it.
"""

from __future__ import annotations

import asyncio
import base64
import os
import textwrap
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from ramparts.aws.accounts import account_id
from ramparts.errors import AccessDenied, DeployError, NotFound
from ramparts.runtime.supervisor import Supervisor
from ramparts.runtime.types import FunctionSpec

pytestmark = pytest.mark.timeout(30)


class FakeHost:
    """Records context calls and serves them from dicts."""

    def __init__(self) -> None:
        self.calls: list[tuple[str, str, dict[str, Any]]] = []
        self.kv: dict[tuple[str, str], dict[str, Any]] = {}
        self.objects: dict[tuple[str, str], bytes] = {}

    async def __call__(
        self, spec: FunctionSpec, request_id: str, op: str, args: dict[str, Any]
    ) -> Any:
        self.calls.append((request_id, op, args))
        if op == "kv.put":
            if args["table"] == "locked":
                raise AccessDenied("kv:PutItem", "arn:ramparts:kv:app:table/locked/" + args["key"])
            self.kv[(args["table"], args["key"])] = args["item"]
            return None
        if op == "kv.get":
            return self.kv.get((args["table"], args["key"]))
        if op == "objects.put":
            data = base64.b64decode(args["data"]["$b64"])
            self.objects[(args["bucket"], args["key"])] = data
            return {"size": len(data), "content_type": args["content_type"]}
        if op == "objects.get":
            try:
                return self.objects[(args["bucket"], args["key"])]  # bytes: sent as $b64
            except KeyError:
                raise NotFound(f"no object {args['key']}") from None
        if op == "secrets.get":
            raise RuntimeError("/srv/secret/path exploded")  # an internal failure
        return None


def run(coro_fn: Callable[[Supervisor], Awaitable[Any]], tmp_path: Path, host: Any = None) -> Any:
    async def main() -> Any:
        sup = Supervisor(tmp_path / "runtime", host or FakeHost())
        try:
            return await coro_fn(sup)
        finally:
            await sup.close()

    return asyncio.run(main())


def make_spec(tmp_path: Path, files: dict[str, str], handler: str, **kw: Any) -> FunctionSpec:
    code = tmp_path / "code"
    for name, text in files.items():
        path = code / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text))
    code.mkdir(exist_ok=True)
    kw.setdefault("timeout", 10.0)
    return FunctionSpec(
        app="shop", function="fn", version="v1", code_dir=code, handler=handler, **kw
    )


def gone(pid: int, within: float = 3.0) -> bool:
    end = time.monotonic() + within
    while time.monotonic() < end:
        if not os.path.exists(f"/proc/{pid}"):
            return True
        time.sleep(0.01)
    return False


def dead(pid: int, within: float = 3.0) -> bool:
    """Gone, or a zombie: an orphan waits for whatever reaper the host has (PID 1)."""
    end = time.monotonic() + within
    while time.monotonic() < end:
        try:
            with open(f"/proc/{pid}/stat", "rb") as f:
                if f.read().rsplit(b")", 1)[1].split()[0] == b"Z":
                    return True
        except OSError:
            return True
        time.sleep(0.01)
    return False


def children_of(pid: int) -> list[int]:
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", "rb") as f:
                    ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
            except (OSError, ValueError, IndexError):
                continue
            if ppid == pid:
                out.append(int(entry))
    return out


PIDS = """
import os
def handler(event, context):
    return {"pid": os.getpid(), "ppid": os.getppid()}
"""


def test_hello_cold_then_warm_same_worker(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, {"hello.py": PIDS}, "hello.py:handler")

    async def body(sup: Supervisor) -> None:
        first = await sup.invoke(spec, {"name": "x"}, request_id="req-1")
        second = await sup.invoke(spec, {})
        assert first.ok and second.ok
        assert first.request_id == "req-1"
        assert first.cold and not second.cold
        assert first.result["pid"] == second.result["pid"] != os.getpid()
        assert first.duration_ms > 0
        assert sup.stats()[spec.key] == {"workers": 1, "idle": 1, "busy": 0, "waiting": 0}

    run(body, tmp_path)


def test_prepare_prewarms_the_zygote_so_only_the_worker_is_cold(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {"h.py": "def handler(event, context):\n    return event['n'] * 2\n"},
        "h.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        await sup.prepare(spec)
        r = await sup.invoke(spec, {"n": 21})
        assert (r.status, r.result, r.cold) == ("ok", 42, True)
        r = await sup.invoke(spec, {"n": 1})
        assert (r.result, r.cold) == (2, False)

    run(body, tmp_path)


def test_concurrency_cap_is_never_exceeded(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "slow.py": """
            import os, time
            def handler(event, context):
                start = time.monotonic()
                time.sleep(0.15)
                return {"pid": os.getpid(), "start": start, "end": time.monotonic()}
            """
        },
        "slow.py:handler",
        concurrency=2,
    )

    async def body(sup: Supervisor) -> None:
        calls = [asyncio.ensure_future(sup.invoke(spec, {})) for _ in range(6)]
        await asyncio.sleep(0.1)
        stats = sup.stats()[spec.key]
        assert stats["workers"] <= 2 and stats["waiting"] >= 3
        results = await asyncio.gather(*calls)
        assert all(r.ok for r in results)
        assert len({r.result["pid"] for r in results}) == 2
        spans = [(r.result["start"], r.result["end"]) for r in results]
        for s, _ in spans:
            assert sum(1 for a, b in spans if a <= s < b) <= 2
        assert sum(r.cold for r in results) == 2

    run(body, tmp_path)


def test_a_call_that_waits_longer_than_its_timeout_for_a_worker_is_throttled(
    tmp_path: Path,
) -> None:
    spec = make_spec(
        tmp_path,
        {
            "busy.py": """
            import time
            def handler(event, context):
                time.sleep(0.8)
                return "done"
            """
        },
        "busy.py:handler",
        concurrency=1,
        timeout=1.0,
    )

    async def body(sup: Supervisor) -> None:
        first = asyncio.ensure_future(sup.invoke(spec, {}))
        await asyncio.sleep(0.05)
        # The third call can get the only worker after 2 x 0.8 s at the earliest: over 1 s.
        rest = [asyncio.ensure_future(sup.invoke(spec, {})) for _ in range(2)]
        results = [await first, *await asyncio.gather(*rest)]
        assert results[0].ok and results[0].result == "done"
        assert results[2].status == "throttled" and results[2].error_type == "Throttled"
        assert sup.stats()[spec.key]["waiting"] == 0
        assert (await sup.invoke(spec, {})).ok  # the worker is free again

    run(body, tmp_path)


def test_timeout_kills_the_worker_and_the_next_call_works(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "sleepy.py": """
            import os, time
            def handler(event, context):
                time.sleep(event.get("sleep", 0))
                return os.getpid()
            """
        },
        "sleepy.py:handler",
        timeout=0.5,
    )

    async def body(sup: Supervisor) -> None:
        pid = (await sup.invoke(spec, {})).result
        started = time.monotonic()
        r = await sup.invoke(spec, {"sleep": 5})
        assert time.monotonic() - started < 2
        assert r.status == "timeout"
        assert r.error_message == "Task timed out after 0.50 seconds"
        assert gone(pid)
        assert sup.stats()[spec.key]["workers"] == 0
        again = await sup.invoke(spec, {})
        assert again.ok and again.result != pid and again.cold

    run(body, tmp_path)


def test_handler_exception_is_data(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "boom.py": """
            def handler(event, context):
                raise ValueError("bad order " + event["id"])
            """
        },
        "boom.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {"id": "o-1"})
        assert r.status == "error"
        assert (r.error_type, r.error_message) == ("ValueError", "bad order o-1")
        assert "Traceback" not in r.error_message
        assert 'File "boom.py", line 3, in handler' in r.traceback
        assert str(tmp_path) not in r.traceback
        assert "ramparts/runtime" not in r.traceback
        r2 = await sup.invoke(spec, {"id": "o-2"})
        assert r2.error_message == "bad order o-2" and not r2.cold  # worker survived

    run(body, tmp_path)


def test_worker_crash_is_reported_and_recovered(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "crash.py": """
            import os
            def handler(event, context):
                if event.get("die"):
                    os._exit(3)
                return "fine"
            """
        },
        "crash.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {"die": True})
        assert r.status == "crashed"
        assert sup.stats()[spec.key]["workers"] == 0
        r = await sup.invoke(spec, {})
        assert (r.status, r.result) == ("ok", "fine")

    run(body, tmp_path)


def test_dead_zygote_is_restarted(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, {"p.py": PIDS}, "p.py:handler", concurrency=1)

    async def body(sup: Supervisor) -> None:
        first = (await sup.invoke(spec, {})).result
        os.kill(first["ppid"], 9)
        assert gone(first["ppid"]) and dead(first["pid"])  # workers die with their zygote
        r = await sup.invoke(spec, {})
        assert r.ok and r.cold and r.result["ppid"] != first["ppid"]

    run(body, tmp_path)


@pytest.mark.parametrize(
    ("files", "handler", "expected"),
    [
        (
            {"orders/create.py": "import not_a_real_module\n"},
            "orders/create.py:handler",
            "orders/create.py",
        ),
        (
            {"orders/create.py": "def handler(e, c:\n"},
            "orders/create.py:handler",
            "orders/create.py",
        ),
        ({"orders/create.py": "x = 1\n"}, "orders/create.py:handler", "missing"),
        (
            {"orders/create.py": "open('/nonexistent/secret')\n"},
            "orders/create.py:handler",
            "FileNotFoundError",
        ),
        ({}, "orders/missing.py:handler", "orders/missing.py"),
        ({}, "../../etc/passwd.py:handler", "bad handler"),
    ],
)
def test_bad_handler_is_refused_at_prepare(
    tmp_path: Path, files: dict[str, str], handler: str, expected: str
) -> None:
    spec = make_spec(tmp_path, files, handler)

    async def body(sup: Supervisor) -> None:
        with pytest.raises(DeployError) as info:
            await sup.prepare(spec)
        assert expected in info.value.message
        assert str(tmp_path) not in info.value.message
        r = await sup.invoke(spec, {})
        assert r.status == "error" and r.error_type and r.error_type.startswith("Runtime.")

    run(body, tmp_path)


@pytest.mark.parametrize(
    "handler", ["pkg/mod.py:handle", "pkg.mod.handle", "top.handle", "./top.py:handle"]
)
def test_handler_forms(tmp_path: Path, handler: str) -> None:
    src = "import mydep\ndef handle(event, context):\n    return [__name__, mydep.VALUE]\n"
    deps = tmp_path / "deps"
    deps.mkdir()
    (deps / "mydep.py").write_text("VALUE = 'from deps'\n")
    spec = make_spec(tmp_path, {"pkg/mod.py": src, "top.py": src}, handler, deps_dir=deps)

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {})
        assert r.ok, r
        assert r.result == ["pkg.mod" if "pkg" in handler else "top", "from deps"]

    run(body, tmp_path)


CONTEXT_CALLS = """
from ramparts import AccessDenied, RampartsError
def handler(event, context):
    out = {}
    context.kv.put("orders", "o-1", {"total": 42})
    out["kv"] = context.kv.get("orders", "o-1")
    out["missing"] = context.kv.get("orders", "nope")
    out["put"] = context.objects.put("uploads", "a.bin", b"\\x00\\x01\\xff", content_type="x/y")
    out["obj"] = list(context.objects.get("uploads", "a.bin"))
    try:
        context.objects.get("uploads", "gone")
    except RampartsError as exc:
        out["not_found"] = [type(exc).__name__, exc.code]
    try:
        context.kv.put("locked", "k", {})
    except AccessDenied as exc:
        out["denied"] = [exc.action, exc.resource, str(exc)]
    try:
        context.secrets.get("api-key")
    except RampartsError as exc:
        out["internal"] = [exc.code, exc.message]
    try:
        context.objects.put("uploads", "t", "not bytes")
    except TypeError as exc:
        out["typeerror"] = str(exc)
    if event.get("uncaught"):
        context.kv.put("locked", "k", {})
    return out
"""


def test_context_calls_round_trip(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, {"ctx.py": CONTEXT_CALLS}, "ctx.py:handler")
    host = FakeHost()

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {}, request_id="rid-7")
        assert r.ok, r
        out = r.result
        assert out["kv"] == {"total": 42} and out["missing"] is None
        assert out["put"] == {"size": 3, "content_type": "x/y"}
        assert out["obj"] == [0, 1, 255]
        assert out["not_found"] == ["NotFound", "not_found"]
        assert out["denied"][0] == "kv:PutItem"
        assert out["denied"][1].endswith("table/locked/k")
        assert out["internal"] == ["internal_error", "internal error"]  # no detail leaks
        assert "data must be bytes" in out["typeerror"]
        assert host.kv[("orders", "o-1")] == {"total": 42}
        assert host.objects[("uploads", "a.bin")] == b"\x00\x01\xff"
        assert {rid for rid, _, _ in host.calls} == {"rid-7"}
        assert [op for _, op, _ in host.calls][:2] == ["kv.put", "kv.get"]

        r = await sup.invoke(spec, {"uncaught": True})
        assert (r.status, r.error_type) == ("error", "AccessDenied")
        assert "not authorized to perform kv:PutItem" in r.error_message

    run(body, tmp_path, host)


def test_output_and_logging_are_captured_per_invocation(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "logs.py": """
            import logging, sys
            print("imported")
            log = logging.getLogger("app")
            def handler(event, context):
                print("hello", event["n"])
                sys.stderr.write("to stderr\\n")
                log.warning("careful %s", event["n"])
                if event.get("flood"):
                    print("x" * 200_000)
                return None
            """
        },
        "logs.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {"n": 1}, request_id="req-a")
        lines = r.logs.splitlines()
        assert lines[:2] == ["hello 1", "to stderr"]
        level, stamp, rid, msg = lines[2].split("\t")
        assert (level, rid, msg) == ("[WARNING]", "req-a", "careful 1")
        assert stamp.endswith("Z") and stamp[10] == "T"
        assert "imported" not in r.logs
        r = await sup.invoke(spec, {"n": 2}, request_id="req-b")
        assert "hello 1" not in r.logs and "req-b\tcareful 2" in r.logs
        r = await sup.invoke(spec, {"n": 3, "flood": True})
        assert r.ok
        assert 64 * 1024 <= len(r.logs.encode()) <= 64 * 1024 + 200
        assert "truncated" in r.logs.splitlines()[-1]

    run(body, tmp_path)


def test_remaining_time_decreases(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "t.py": """
            import time
            def handler(event, context):
                a = context.get_remaining_time_in_millis()
                time.sleep(0.1)
                return [a, context.get_remaining_time_in_millis(), context.function_name,
                        context.function_version, context.memory_limit_in_mb,
                        context.invoked_function_arn]
            """
        },
        "t.py:handler",
        timeout=3.0,
        memory_mb=256,
    )

    async def body(sup: Supervisor) -> None:
        a, b, name, version, mem, arn = (await sup.invoke(spec, {})).result
        assert 2500 < a <= 3000 and 50 <= a - b <= 500
        assert (name, version, mem) == ("fn", "v1", 256)
        assert arn == f"arn:aws:lambda:us-east-1:{account_id('shop')}:function:fn"

    run(body, tmp_path)


def test_results_that_cannot_be_returned(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "r.py": """
            def handler(event, context):
                kind = event["kind"]
                if kind == "object":
                    return object()
                if kind == "nan":
                    return float("nan")
                if kind == "big":
                    return "x" * (7 * 1024 * 1024)
                return "small"
            """
        },
        "r.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        r = await sup.invoke(spec, {"kind": "object"})
        assert (r.status, r.error_type) == ("error", "Runtime.MarshalError")
        r = await sup.invoke(spec, {"kind": "nan"})
        assert r.error_type == "Runtime.MarshalError"
        r = await sup.invoke(spec, {"kind": "big"})
        assert (r.status, r.error_type) == ("error", "Function.ResponseSizeTooLarge")
        r = await sup.invoke(spec, {"kind": "ok"})
        assert (r.result, r.cold) == ("small", False)

    run(body, tmp_path)


def test_worker_sees_only_its_code_runtime_and_clean_env(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("RAMPARTS_TEST_LEAK", "x")
    spec = make_spec(
        tmp_path,
        {
            "iso.py": """
            import os, sys
            def handler(event, context):
                out = {}
                for name in ("starlette", "sqlalchemy", "orjson", "ramparts.store"):
                    try:
                        __import__(name)
                        out[name] = "imported"
                    except ImportError:
                        out[name] = "ImportError"
                import ramparts
                out["ramparts"] = ramparts.AccessDenied.__name__
                out["env"] = dict(os.environ)
                out["path"] = sys.path
                out["cwd"] = os.getcwd()
                return out
            """
        },
        "iso.py:handler",
        environment={"LOG_LEVEL": "info", "PATH": "/evil"},
    )

    async def body(sup: Supervisor) -> None:
        out = (await sup.invoke(spec, {})).result
        assert out["starlette"] == out["sqlalchemy"] == out["orjson"] == "ImportError"
        assert out["ramparts"] == "AccessDenied"
        env = out["env"]
        assert "RAMPARTS_TEST_LEAK" not in env
        assert env["PATH"] == "/usr/bin:/bin" and env["LANG"] == "C.UTF-8"
        assert env["AWS_LAMBDA_FUNCTION_NAME"] == "fn"
        assert env["AWS_LAMBDA_FUNCTION_VERSION"] == "v1"
        assert env["RAMPARTS_APP"] == "shop" and env["LOG_LEVEL"] == "info"
        assert env["LAMBDA_TASK_ROOT"] == out["cwd"] == str(spec.code_dir.resolve())
        assert not any("site-packages" in p for p in out["path"])
        assert out["path"][0] == str(spec.code_dir.resolve())
        assert os.listdir(tmp_path / "runtime") == ["ramparts"]

    run(body, tmp_path)


def test_worker_holds_only_stdio_and_its_socket(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "fds.py": """
            import os
            def handler(event, context):
                fds = sorted(int(fd) for fd in os.listdir("/proc/self/fd"))
                kinds = {fd: os.readlink(f"/proc/self/fd/{fd}") for fd in fds
                         if os.path.exists(f"/proc/self/fd/{fd}")}
                return {"fds": fds, "kinds": kinds}
            """
        },
        "fds.py:handler",
    )

    async def body(sup: Supervisor) -> None:
        # several workers and an open extra socket in the node must not leak in
        await asyncio.gather(*(sup.invoke(spec, {}) for _ in range(3)))
        out = (await sup.invoke(spec, {})).result
        extra = [fd for fd in out["fds"] if fd > 2]
        assert out["fds"][:3] == [0, 1, 2]
        assert len(extra) <= 2, out  # its socket, plus the listdir's own fd
        sockets = [fd for fd in extra if out["kinds"].get(str(fd), "").startswith("socket:")]
        assert len(sockets) == 1, out
        assert out["kinds"]["0"] == "/dev/null"

    run(body, tmp_path)


def test_retire_finishes_in_flight_then_close_leaves_no_processes(tmp_path: Path) -> None:
    slow = """
    import os, time
    def handler(event, context):
        time.sleep(event.get("sleep", 0))
        return {"pid": os.getpid(), "ppid": os.getppid()}
    """
    spec1 = make_spec(tmp_path, {"a/h.py": slow}, "a/h.py:handler")
    spec2 = FunctionSpec(
        app="shop",
        function="other",
        version="v2",
        code_dir=spec1.code_dir,
        handler="a/h.py:handler",
    )
    before = set(children_of(os.getpid()))

    async def body(sup: Supervisor) -> None:
        warm = (await sup.invoke(spec1, {})).result
        in_flight = asyncio.ensure_future(sup.invoke(spec1, {"sleep": 0.3}))
        await asyncio.sleep(0.05)
        retiring = asyncio.ensure_future(sup.retire(spec1.key))
        await asyncio.sleep(0.05)
        assert not retiring.done()
        r = await in_flight
        await retiring
        assert r.ok and r.result["ppid"] == warm["ppid"]
        assert gone(warm["pid"]) and gone(warm["ppid"]) and gone(r.result["pid"])
        assert spec1.key not in sup.stats()

        other = [await sup.invoke(spec2, {}) for _ in range(2)]
        busy = asyncio.ensure_future(sup.invoke(spec2, {"sleep": 5}))
        await asyncio.sleep(0.1)
        return [o.result for o in other], busy

    results, busy = run(body, tmp_path)
    assert busy.done() and busy.result().status == "crashed"  # killed by close()
    for res in results:
        assert gone(res["pid"]) and gone(res["ppid"])
    assert set(children_of(os.getpid())) <= before


def test_invoke_after_close_is_refused(tmp_path: Path) -> None:
    spec = make_spec(tmp_path, {"p.py": PIDS}, "p.py:handler")

    async def main() -> None:
        sup = Supervisor(tmp_path / "runtime", FakeHost())
        await sup.close()
        with pytest.raises(Exception, match="shut down"):
            await sup.invoke(spec, {})

    asyncio.run(main())


def test_cancelled_callers_free_their_worker_and_their_place(tmp_path: Path) -> None:
    spec = make_spec(
        tmp_path,
        {
            "s.py": """
            import os, time
            def handler(event, context):
                time.sleep(event.get("sleep", 0))
                return os.getpid()
            """
        },
        "s.py:handler",
        concurrency=1,
    )

    async def body(sup: Supervisor) -> None:
        pid = (await sup.invoke(spec, {})).result
        running = asyncio.ensure_future(sup.invoke(spec, {"sleep": 5}))
        queued = asyncio.ensure_future(sup.invoke(spec, {}))
        await asyncio.sleep(0.1)
        assert sup.stats()[spec.key]["waiting"] == 1
        queued.cancel()
        running.cancel()
        await asyncio.gather(running, queued, return_exceptions=True)
        assert gone(pid)  # a worker mid-invocation cannot be reused: killed
        assert sup.stats()[spec.key] == {"workers": 0, "idle": 0, "busy": 0, "waiting": 0}
        r = await sup.invoke(spec, {})
        assert r.ok and r.result != pid

    run(body, tmp_path)
