"""The zygote: one process per function version that imports the handler's
dependencies once and forks a warm worker per request for more capacity.

Init semantics are Lambda's: a worker is an execution environment, and the
handler's own module runs once in each worker, after the fork, so whatever its
top level opens (event loops, threads, sockets, database connections, files)
belongs to that worker and keeps working.  The zygote never runs that module:
it imports the modules outside the code dir that the handler imports (read
from its source, then as reported by a probe child that imports the handler
once to check it loads), so a worker's import of the handler is quick.  The
probe is not thrown away: it waits, and becomes the version's first worker,
so the first call pays neither a fork nor the handler module's import.

The supervisor forks it from the zygote template (``template.py``), or
starts it as ``[python, "-I", "-S", "-c", BOOTSTRAP, CONFIG]``, with a
minimal environment, ``cwd`` the version's code dir and only its control
socket (and egress channel) passed in.  ``-I -S`` leaves no site-packages on
the path, and BOOTSTRAP narrows ``sys.path`` to the function's code, its own
deps and a runtime dir that holds nothing but the ``ramparts`` package: the
node's own libraries and other functions' code are not importable from a
handler.  ``main`` enters the sandbox (``ramparts.sandbox.jail``) first, and
only then applies the function's environment and imports the handler.

Control protocol (one frame each way per request):

    sandboxed: keeper -> {"zygote_pid": N}, then zero or more
    zygote -> {"op": "violation", "events": [...]}   (runtime protection, at import)
    zygote -> {"ready": true} | {"ready": false, "error_type", "error_message"}
    host   -> {"op": "fork"} with one end of a fresh socketpair (SCM_RIGHTS)
    zygote -> {"pid": N}

EOF on the control socket ends the zygote.  Workers are its children; it
ignores SIGCHLD so the kernel reaps them, and every process dies with its
parent (PR_SET_PDEATHSIG), so a node killed hard leaves nothing behind.
"""

from __future__ import annotations

import contextlib
import importlib
import importlib.util
import json
import os
import signal
import socket
import sys
from pathlib import Path
from typing import Any

from ramparts.errors import RampartsError
from ramparts.runtime import ipc, worker

# Runs in ``python -I -S -c``.  The runtime is imported while the path holds
# only the runtime dir and the stdlib, so that a function's own module named
# like one we use (``json.py``, ``logging/``) cannot stand in for ours; the
# handler's path is set afterwards.  Bytecode is not written: the code dir is
# an immutable, content-addressed version.
BOOTSTRAP = """\
import sys
sys.dont_write_bytecode = True
import json
_cfg = json.loads(sys.argv[1])
_std = [p for p in sys.path if p and 'site-packages' not in p]
sys.path[:] = [_cfg['runtime_dir']] + _std
from ramparts.runtime.zygote import main
sys.path[:] = [_cfg['code_dir']] + ([_cfg['deps_dir']] if _cfg['deps_dir'] else []) \\
    + [_cfg['runtime_dir']] + _std
sys.argv[:] = ['ramparts-zygote']
del _std, json
try:
    main(_cfg)
except BaseException:
    import traceback; traceback.print_exc(file=sys.__stderr__); raise
"""

_PR_SET_PDEATHSIG = 1
# Reported (never blocked) when a handler imports them: interactive terminals, the
# usual way a reverse shell is made usable, have no place in a function.
_DENY_IMPORTS = ("pty", "pexpect", "ptyprocess")
_PR_SET_CHILD_SUBREAPER = 36


class HandlerLoadError(Exception):
    """Why the handler could not be loaded, in words safe to show a deployer."""

    def __init__(self, error_type: str, message: str) -> None:
        super().__init__(message)
        self.error_type = error_type
        self.message = message


def parse_handler(handler: str) -> tuple[str, str, str]:
    """Split a handler string into (module, attribute, file relative to code dir).

    ``"orders/create.py:handler"`` -> ``("orders.create", "handler", "orders/create.py")``;
    Lambda's ``"orders.create.handler"`` and ``"orders/create.handler"`` (a module
    in a directory, as SAM templates write it) split at the last dot.
    """
    if handler.startswith("/"):
        raise HandlerLoadError(
            "Runtime.MalformedHandlerName", f"handler {handler!r} must be a path inside the app"
        )
    if ":" in handler:
        path, _, attr = handler.rpartition(":")
        path = path.removeprefix("./")
        if not path.endswith(".py"):
            raise HandlerLoadError(
                "Runtime.MalformedHandlerName", f"handler file {path!r} must end in .py"
            )
        module = path[:-3].replace("/", ".")
        rel = path
    else:
        module, _, attr = handler.rpartition(".")
        module = module.replace("/", ".")
        rel = module.replace(".", "/") + ".py"
    module = module.removesuffix(".__init__")
    parts = module.split(".") if module else []
    if not parts or not all(p.isidentifier() for p in parts) or not attr.isidentifier():
        raise HandlerLoadError(
            "Runtime.MalformedHandlerName",
            f"bad handler {handler!r}: use 'path/to/file.py:function' or 'module.function'",
        )
    return module, attr, rel


def load_handler(handler: str, code_dir: str, scrub: worker.Scrubber) -> worker.Handler:
    """Import the handler's module and return the function, or raise HandlerLoadError."""
    module_name, attr, rel = parse_handler(handler)
    try:
        module = _import_file(module_name, rel, code_dir)
    except HandlerLoadError:
        raise
    except SyntaxError as exc:
        where = scrub(exc.filename or rel)
        if where.startswith("/"):
            where = os.path.basename(where)
        raise HandlerLoadError(
            "Runtime.UserCodeSyntaxError",
            f"Syntax error in {where}, line {exc.lineno}: {exc.msg}",
        ) from None
    except ImportError as exc:
        if exc.name and (module_name == exc.name or module_name.startswith(exc.name + ".")):
            message = f"Unable to import module '{module_name}': no file {rel} in the code"
        else:
            message = f"Unable to import module '{module_name}' ({rel}): {scrub(str(exc))}"
        raise HandlerLoadError("Runtime.ImportModuleError", message) from None
    except BaseException as exc:  # noqa: BLE001 - any failure at import refuses the deploy
        raise HandlerLoadError(
            "Runtime.InitError",
            f"Error while importing {rel}: {type(exc).__name__}: {scrub(str(exc))}",
        ) from None
    fn = getattr(module, attr, None)
    if not callable(fn):
        raise HandlerLoadError(
            "Runtime.HandlerNotFound", f"Handler '{attr}' missing on module '{module_name}' ({rel})"
        )
    return fn  # type: ignore[no-any-return]


def _import_file(module_name: str, rel: str, code_dir: str) -> Any:
    """Import exactly the file the manifest names, as ``module_name``.

    ``importlib.import_module`` would take a package directory ``h/`` or an
    extension module ``h.*.so`` next to ``h.py`` before the file: the code
    that runs would not be the code the deploy gate checked as the handler.
    So the module is built from its path; the packages on the way to it are
    imported by name, after checking that each name can only mean the app's
    own directory (no same-named module beside a directory without
    ``__init__.py``) and, once imported, that it is that directory.
    """
    path = os.path.join(code_dir, rel)
    if not os.path.isfile(path):
        raise ModuleNotFoundError(f"No module named {module_name!r}", name=module_name)
    parts = module_name.split(".")
    if rel.endswith("/__init__.py") or rel == "__init__.py":
        parts = parts[:-1]  # the handler is a package's own __init__: its parents only
    for i in range(1, len(parts)):
        _check_package(".".join(parts[:i]), os.path.join(code_dir, *parts[:i]))
    existing = sys.modules.get(module_name)
    if existing is not None and getattr(existing, "__file__", None) == path:
        return existing
    is_package = os.path.basename(rel) == "__init__.py"
    spec = importlib.util.spec_from_file_location(
        module_name,
        path,
        submodule_search_locations=[os.path.dirname(path)] if is_package else None,
    )
    if spec is None or spec.loader is None:  # pragma: no cover - a .py path always has one
        raise ModuleNotFoundError(f"No module named {module_name!r}", name=module_name)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module
    try:
        spec.loader.exec_module(module)
    except BaseException:
        sys.modules.pop(module_name, None)
        raise
    parent, _, child = module_name.rpartition(".")
    if parent and parent in sys.modules:
        setattr(sys.modules[parent], child, module)
    return module


def _check_package(name: str, directory: str) -> None:
    """Import package ``name``, refusing if it would not be the app's ``directory``."""
    if not os.path.isfile(os.path.join(directory, "__init__.py")):
        # a namespace directory: a module file of the same name would be imported instead
        parent, base = os.path.split(directory)
        rivals = [
            n
            for n in _listdir(parent)
            if n != base and n.split(".", 1)[0] == base and n.endswith((".py", ".so", ".pyc"))
        ]
        if rivals:
            raise HandlerLoadError(
                "Runtime.ImportModuleError",
                f"ambiguous package {name!r}: {rivals[0]} would be imported instead of the "
                f"directory {base}/ (add {base}/__init__.py or rename one of them)",
            )
    package = importlib.import_module(name)
    locations = [os.path.realpath(p) for p in getattr(package, "__path__", [])]
    if os.path.realpath(directory) not in locations:
        raise HandlerLoadError(
            "Runtime.ImportModuleError",
            f"package {name!r} resolves outside the app's directory {os.path.basename(directory)}/"
            " (a dependency has a package of the same name): rename the directory",
        )


def _listdir(directory: str) -> list[str]:
    try:
        return os.listdir(directory)
    except OSError:
        return []


def _set_pdeathsig() -> None:
    """Ask the kernel to SIGKILL us when our parent dies (best effort)."""
    try:
        import ctypes

        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(_PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
    except (OSError, AttributeError):
        pass


def _enter_sandbox(spec: dict[str, Any], keep_fd: int) -> None:
    """Confine a freshly forked worker before it serves anything.

    It inherits the zygote's sandbox (namespaces, filesystem, Landlock,
    seccomp, no capabilities).  Here it drops every inherited descriptor but
    stdio and its own socket (``_confine`` does the rest).
    """
    _confine(spec)
    os.closerange(3, keep_fd)
    os.closerange(keep_fd + 1, _max_fd())


def _confine(spec: dict[str, Any]) -> None:
    """A worker's confinement, all but closing the zygote's descriptors.

    Restores default signal handling, puts the process in its own session,
    ties its life to the zygote's, and makes it a child subreaper, then
    locks that: whatever it spawns, however it double-forks, stays in its
    subtree, so the host can kill the invocation's whole tree.  The probe runs
    this before it imports the handler, so that threads the module starts
    inherit the lock as a forked worker's do.
    """
    parent = os.getppid()
    signal.signal(signal.SIGCHLD, signal.SIG_DFL)
    os.setsid()
    _set_pdeathsig()
    if os.getppid() != parent:  # the zygote died before the prctl took effect
        os._exit(0)
    if spec.get("sandbox"):
        import ctypes

        from ramparts.sandbox import seccomp

        libc = ctypes.CDLL(None, use_errno=True)
        if libc.prctl(_PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0) != 0:
            os._exit(1)
        seccomp.lock_subreaper()


def _open_fds() -> list[int]:
    """The descriptors open now (all those the zygote left a child of it)."""
    try:
        listed = [int(x) for x in os.listdir("/proc/self/fd")]
    except OSError:
        listed = list(range(3, 1024))
    out = []
    for fd in listed:
        try:
            os.fstat(fd)  # the one listdir used is closed again by now
        except OSError:
            continue
        out.append(fd)
    return out


def _max_fd() -> int:
    try:
        return max(int(os.sysconf("SC_OPEN_MAX")), 1024)
    except (ValueError, OSError):
        return 65536


def main(cfg: dict[str, Any]) -> None:
    """Entry point run by BOOTSTRAP inside the fresh interpreter."""
    ctl = socket.socket(fileno=int(cfg["ctl_fd"]))
    _set_pdeathsig()
    sb = cfg.get("sandbox")
    # Nothing the node's own process may have held open (a descriptor inherited
    # without CLOEXEC) reaches the sandbox: only stdio and our own sockets stay.
    keep = sorted({0, 1, 2, int(cfg["ctl_fd"])} | ({int(sb["egress_fd"])} if sb else set()))
    low = 0
    for fd in keep:
        if fd > low:
            os.closerange(low, fd)
        low = fd + 1
    os.closerange(low, _max_fd())
    if sb:
        try:
            _preload(cfg)
            from ramparts.sandbox import jail

            jail.enter(sb)  # returns in the zygote, PID 1 of its own namespaces
        except RampartsError as exc:
            _refuse(ctl, "Runtime.SandboxError", exc.message, "")
            return
        _sandbox_path(cfg)
    # The function's own environment, only now (see Supervisor._start_zygote).
    env = {str(k): str(v) for k, v in (cfg.get("environment") or {}).items()}
    if cfg.get("secret_environment"):
        env.update(_secret_environment(ctl))
    os.environ.clear()
    os.environ.update(env)
    _sdk_path(cfg)
    scrub = worker.Scrubber(
        [
            (cfg["code_dir"], ""),
            ("/var/task", ""),
            (cfg.get("deps_dir") or "", "<deps>/"),
            (str(Path(worker.__file__).resolve().parent.parent), "ramparts/"),
            (cfg["runtime_dir"], "<runtime>/"),
            (sys.base_prefix, "<python>/"),
            (sys.prefix, "<python>/"),
        ]
    )
    sink = worker.install_capture()
    sink.begin("")
    if sb:
        try:
            from ramparts.sandbox import jail

            jail.seal(sb)
        except RampartsError as exc:
            _refuse(ctl, "Runtime.SandboxError", exc.message, sink.end())
            return
        _install_hooks(cfg, sb)
    task_root = _task_root(cfg)
    worker._import_ctl = ctl
    try:
        # The handler's dependencies only: its own module runs in each worker.
        _preload_modules(_static_imports(cfg["handler"], task_root), task_root)
        found, probe = _probe(ctl, cfg, scrub, sink)
        _preload_modules(found, task_root)
    except HandlerLoadError as exc:
        worker._import_ctl = None
        _refuse(ctl, exc.error_type, exc.message, sink.end())
        return
    worker._import_ctl = None  # forked workers have their own socket
    ipc.send_frame(ctl, {"ready": True, "logs": sink.end(), "violations": worker.take_violations()})
    signal.signal(signal.SIGCHLD, signal.SIG_IGN)
    _serve_forks(ctl, cfg, sink, scrub, probe)


def _secret_environment(ctl: socket.socket) -> dict[str, str]:
    """The ``{secret: NAME}`` variables' values: the host's first frame on our socket."""
    try:
        msg = ipc.recv_frame(ctl)
    except (OSError, ipc.FrameError):
        msg = None
    env = msg.get("environment") if isinstance(msg, dict) else None
    if not isinstance(env, dict):
        os._exit(1)  # the host sees the socket close: the start fails, nothing runs
    return {str(k): str(v) for k, v in env.items()}


def _refuse(ctl: socket.socket, error_type: str, message: str, logs: str) -> None:
    ipc.send_frame(
        ctl,
        {
            "ready": False,
            "error_type": error_type,
            "error_message": message,
            "logs": logs,
            "violations": worker.take_violations(),
        },
    )


def _sandbox_path(cfg: dict[str, Any]) -> None:
    """The import path as the sandbox lays it out: /var/task, /opt/python, /var/runtime."""
    from ramparts.sandbox import filesystem

    moved = {
        cfg["code_dir"]: filesystem.TASK_ROOT,
        cfg.get("deps_dir") or "": filesystem.DEPS_ROOT,
        cfg["runtime_dir"]: filesystem.RUNTIME_ROOT,
    }
    sys.path[:] = [moved.get(p, p) for p in sys.path if p]


def _sdk_path(cfg: dict[str, Any]) -> None:
    """The node's boto3 (``RAMPARTS_SDK_PATH``, see ramparts.aws.runtime), after the runtime.

    Last on the path but the stdlib: the function's own code and pinned deps win.
    """
    sdk = os.environ.get("RAMPARTS_SDK_PATH", "")
    if not sdk or sdk in sys.path:
        return
    from ramparts.sandbox import filesystem

    anchors = [
        i for i, p in enumerate(sys.path) if p in (cfg["runtime_dir"], filesystem.RUNTIME_ROOT)
    ]
    sys.path.insert(anchors[-1] + 1 if anchors else len(sys.path), sdk)


def _preload(cfg: dict[str, Any]) -> None:
    from ramparts.sandbox import jail

    jail.preload(cfg.get("pyseccomp"), cfg["sandbox"])
    if (cfg["sandbox"].get("protection") or "block") != "off":
        import ramparts.sandbox.hooks  # noqa: F401


def _install_hooks(cfg: dict[str, Any], sb: dict[str, Any]) -> None:
    mode = str(sb.get("protection") or "block")
    if mode == "off":
        return
    from ramparts.sandbox import hooks

    hooks.install(
        hooks.HookPolicy(
            mode=mode,
            code_dir="/var/task",
            deps_dirs=("/opt/python",),
            allow_exec=tuple(sb.get("allow_exec", [])),
            allowed_connect=(
                ("127.0.0.1", int(sb.get("proxy_port", 3128))),
                *((("127.0.0.1", int(sb["node_port"])),) if sb.get("node_port") else ()),
            ),
            native_roots=tuple(sb.get("native_roots", [])),
            deny_imports=_DENY_IMPORTS,
        ),
        worker.record_violation,
    )


def _serve_forks(
    ctl: socket.socket,
    cfg: dict[str, Any],
    sink: worker.LogSink,
    scrub: worker.Scrubber,
    probe: _ParkedProbe | None = None,
) -> None:
    while True:
        try:
            msg, fds = ipc.recv_fd_frame(ctl)
        except (OSError, ipc.FrameError):
            return
        if msg is None:
            return
        if not isinstance(msg, dict) or msg.get("op") != "fork" or len(fds) != 1:
            for fd in fds:
                os.close(fd)
            ipc.send_frame(ctl, {"error": "bad request"})
            continue
        wfd = fds[0]
        if probe is not None:
            # The first worker is the probe, its handler module already imported.
            parked, probe = probe, None
            if parked.hand_over(wfd):
                os.close(wfd)
                ipc.send_frame(ctl, {"pid": parked.pid})
                continue
        pid = os.fork()
        if pid == 0:  # the worker
            code = 0
            try:
                _enter_sandbox(cfg, wfd)
                os.set_inheritable(wfd, False)
                _run_worker(socket.socket(fileno=wfd), cfg, sink, scrub)
            except BaseException:  # noqa: BLE001 - never return into the zygote's loop
                code = 1
            finally:
                os._exit(code)
        os.close(wfd)
        ipc.send_frame(ctl, {"pid": pid})


def _run_worker(
    sock: socket.socket, cfg: dict[str, Any], sink: worker.LogSink, scrub: worker.Scrubber
) -> None:
    """A new execution environment: import the handler's module here, then serve.

    Its module scope runs now, once, in this process: the event loops, threads,
    connections and files it opens belong to this worker and live as long as it.
    What the import prints is not any invocation's log: the node logged the
    same module's init output once, from the probe, when the version started.
    (The first worker is the probe itself: see ``_ParkedProbe``.)
    """
    sink.begin("")
    try:
        handler = load_handler(cfg["handler"], _task_root(cfg), scrub)
    except HandlerLoadError as exc:
        # Imported fine in the probe, not here (it depends on something that
        # changed): the invocation gets Lambda's init error and the worker ends.
        worker.serve_init_error(sock, exc.error_type, exc.message, sink.end())
        return
    sb = cfg.get("sandbox")
    if sb and (sb.get("protection") or "block") != "off":
        from ramparts.sandbox import hooks

        hooks.imports_done()
    sink.end()
    worker.serve(sock, handler, sink, scrub, app=str(cfg["app"]), memory_mb=int(cfg["memory_mb"]))


def _task_root(cfg: dict[str, Any]) -> str:
    """Where the function's code is, as this process sees it."""
    if cfg.get("sandbox"):
        from ramparts.sandbox import filesystem

        return filesystem.TASK_ROOT
    return str(cfg["code_dir"])


def _in_code(path: str | None, task_root: str) -> bool:
    return bool(path) and os.path.abspath(str(path)).startswith(task_root.rstrip("/") + "/")


def _code_origin(name: str, task_root: str) -> str | None:
    """The file of top-level module ``name`` if the function's code holds it, else None.

    ``find_spec`` of a top-level name only looks at the path; nothing runs.
    """
    try:
        spec = importlib.util.find_spec(name)
    except (ImportError, ValueError):
        return None
    if spec is None:
        return None
    if spec.origin and _in_code(spec.origin, task_root):
        return spec.origin
    if any(_in_code(p, task_root) for p in spec.submodule_search_locations or ()):
        return spec.origin or ""
    return None


def _static_imports(handler: str, task_root: str) -> list[str]:
    """Modules outside the code that the handler's code imports, found by reading it.

    Absolute imports in the handler file and, transitively, in the code-dir
    modules it imports (bounded); imports inside function bodies are left to run
    when they run.  A guess only: the probe reports what the import really loads.
    """
    try:
        _, _, rel = parse_handler(handler)
    except HandlerLoadError:
        return []
    found: list[str] = []
    seen_files: set[str] = set()
    todo = [os.path.join(task_root, rel)]
    while todo and len(seen_files) < _MAX_SCANNED_FILES:
        path = todo.pop()
        if path in seen_files:
            continue
        seen_files.add(path)
        for name in _imports_in(path):
            top = name.partition(".")[0]
            origin = _code_origin(top, task_root)
            if origin is None:
                if name not in found:
                    found.append(name)
            elif origin.endswith(".py"):
                todo.append(origin)
    return found


_MAX_SCANNED_FILES = 200


def _imports_in(path: str) -> list[str]:
    """Absolute module names a file imports outside function bodies."""
    import ast

    try:
        with open(path, "rb") as f:
            tree = ast.parse(f.read(), path)
    except (OSError, SyntaxError, ValueError):
        return []
    names: list[str] = []
    todo: list[ast.AST] = [tree]
    while todo:
        node = todo.pop()
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
                continue
            if isinstance(child, ast.Import):
                names.extend(alias.name for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.level == 0 and child.module:
                names.append(child.module)
            else:
                todo.append(child)
    return names


def _preload_modules(names: list[str], task_root: str) -> None:
    """Import the handler's dependencies into the zygote, so workers start warm.

    Best effort: a module that fails here is imported (and its failure
    reported) by the handler's own import in the probe and in each worker.
    A name that turns out to be the function's own code is never imported here.
    """
    for name in names:
        if name in sys.modules or name == "__main__":
            continue
        if _code_origin(name.partition(".")[0], task_root) is not None:
            continue
        try:
            importlib.import_module(name)
        except BaseException:  # noqa: BLE001, S112 - a guess; the real import reports
            continue


class _ParkedProbe:
    """A probe child that imported the handler fine and waits to become the first worker.

    Its module scope ran once, in it, exactly as a forked worker's would, so
    handing it the first worker socket saves the first call a fork and the
    handler module's import (the cold start's largest part).  It ends when the
    zygote closes its socket (the version retired before any call) or dies.
    """

    def __init__(self, pid: int, sock: socket.socket) -> None:
        self.pid = pid
        self.sock = sock

    def hand_over(self, wfd: int) -> bool:
        """Send the probe its worker socket; False if it is gone (then fork as usual)."""
        try:
            ipc.send_fd_frame(self.sock, {"op": "serve"}, wfd)
            return True
        except ipc.FrameError:
            return False
        finally:
            self.sock.close()


def _probe(
    ctl: socket.socket, cfg: dict[str, Any], scrub: worker.Scrubber, sink: worker.LogSink
) -> tuple[list[str], _ParkedProbe | None]:
    """Import the handler once in a child: does it load, and what does it pull in?

    The deploy is refused exactly as before when it does not load; the zygote
    itself never runs the handler's module, so nothing that module opens
    (loops, threads, connections) ends up shared by, or dead in, the workers.
    Returns the modules outside the code that the import loaded, for the
    zygote to preload, and the probe itself, parked: it becomes the first
    worker (``_ParkedProbe``).  Violations the import commits reach the host
    at once on the control socket, as they did when the zygote imported the
    handler.
    """
    task_root = _task_root(cfg)
    reply_r, reply_w = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
    pid = os.fork()
    if pid == 0:  # the probe
        code = 0
        try:
            reply_r.close()
            _confine(cfg)  # as a worker is: it may become the first one
            inherited = [fd for fd in _open_fds() if fd > 2]
            sink.begin("")  # the zygote keeps what it captured so far
            before = set(sys.modules)
            report: dict[str, Any]
            handler: worker.Handler | None = None
            try:
                handler = load_handler(cfg["handler"], task_root, scrub)
            except HandlerLoadError as exc:
                report = {"error_type": exc.error_type, "error_message": exc.message}
            else:
                report = {"modules": _loaded_since(before, task_root)}
            report["logs"] = sink.end()
            report["violations"] = worker.take_violations()
            ipc.send_frame(reply_w, report)
            if handler is not None:
                _park(reply_w, handler, cfg, sink, scrub, inherited)
        except BaseException:  # noqa: BLE001 - never return into the zygote
            code = 1
        finally:
            os._exit(code)
    reply_w.close()
    try:
        report = ipc.recv_frame(reply_r)
    except (OSError, ipc.FrameError):
        report = None
    if not isinstance(report, dict) or report.get("error_type"):
        reply_r.close()
        _reap(pid)  # it exits after an error report
    if not isinstance(report, dict):
        raise HandlerLoadError(
            "Runtime.ExitError", "the handler's module exited the process while importing"
        )
    sink.write(str(report.get("logs") or ""))
    for event in report.get("violations") or ():
        worker.record_violation(event)
    if report.get("error_type"):
        raise HandlerLoadError(str(report["error_type"]), str(report.get("error_message") or ""))
    modules = report.get("modules")
    found = [str(m) for m in modules] if isinstance(modules, list) else []
    return found, _ParkedProbe(pid, reply_r)


def _park(
    sock: socket.socket,
    handler: worker.Handler,
    cfg: dict[str, Any],
    sink: worker.LogSink,
    scrub: worker.Scrubber,
    inherited: list[int],
) -> None:
    """In the probe: wait for the zygote's first worker socket, then serve as that worker.

    Confined as a forked worker is (``_confine`` ran before the import); here
    it closes every descriptor it had from the zygote, as ``_enter_sandbox``
    does, but keeps those its module opened (loops, connections, files).
    """
    try:
        msg, fds = ipc.recv_fd_frame(sock)
    except (OSError, ipc.FrameError):
        return
    if not isinstance(msg, dict) or msg.get("op") != "serve" or len(fds) != 1:
        for fd in fds:
            os.close(fd)
        return
    wfd = fds[0]
    worker._import_ctl = None  # the zygote's control socket is closed next
    for fd in inherited:
        if fd != wfd:
            with contextlib.suppress(OSError):
                os.close(fd)
    os.set_inheritable(wfd, False)
    sb = cfg.get("sandbox")
    if sb and (sb.get("protection") or "block") != "off":
        from ramparts.sandbox import hooks

        hooks.imports_done()
    worker.serve(
        socket.socket(fileno=wfd),
        handler,
        sink,
        scrub,
        app=str(cfg["app"]),
        memory_mb=int(cfg["memory_mb"]),
    )


def _loaded_since(before: set[str], task_root: str) -> list[str]:
    """Modules imported since ``before`` that live outside the function's code."""
    out = []
    for name, module in list(sys.modules.items()):
        if name in before or module is None:
            continue
        where = getattr(module, "__file__", None)
        if where and not _in_code(where, task_root):
            out.append(name)
    return out


def _reap(pid: int) -> None:
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def zygote_config(
    *,
    ctl_fd: int,
    app: str,
    handler: str,
    code_dir: str,
    deps_dir: str | None,
    runtime_dir: str,
    memory_mb: int,
    sandbox: dict[str, Any] | None = None,
    pyseccomp: str | None = None,
    environment: dict[str, str] | None = None,
    secret_environment: bool = False,
) -> str:
    """The single argv entry BOOTSTRAP reads (JSON, paths already absolute)."""
    return json.dumps(
        {
            "ctl_fd": ctl_fd,
            "app": app,
            "handler": handler,
            "code_dir": code_dir,
            "deps_dir": deps_dir or "",
            "runtime_dir": runtime_dir,
            "memory_mb": memory_mb,
            "sandbox": sandbox,
            "pyseccomp": pyseccomp,
            "environment": environment or {},
            "secret_environment": secret_environment,
        }
    )
