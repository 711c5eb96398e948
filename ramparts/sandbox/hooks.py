"""Runtime detection inside the sandboxed worker: Python audit hooks (PEP 578).

The zygote installs one audit hook after its own setup and before the
handler module is imported.  The hook watches the handful of audit events that
matter for a serverless function (spawning processes, opening sockets, loading
native code, writing files, compiling strings, reading secrets) and, in
``block`` mode, refuses the policy breaches by raising ``RuntimeViolation`` in
the code that attempted them; ``detect`` mode only reports.  Every finding goes
to the ``report`` callback as ``{"rule", "target", "blocked", "mode"}``.

This is a *detection* layer, not the boundary.  The hook runs in the same
process as the code it watches: that code can bypass it (``ctypes`` calls into
libc, ``_posixsubprocess.fork_exec``, cffi, raw syscalls, tampering with this
module's state) and some operations raise no audit event at all.  Namespaces,
Landlock and seccomp are what actually confine the worker; the hook exists so
that a dependency that shells out, phones home or drops a file is *seen* and
named, with a useful error instead of an opaque ``EPERM``.

Constraints that shape the code:

* It runs for every audited event in the process (each import, each open,
  the runtime's own socket I/O), so ``_Monitor.audit`` does one dict lookup
  and returns for everything it does not handle.
* What the hook itself does (``realpath``, the report callback's I/O) raises
  audit events too; a thread-local flag makes those pass unchecked instead of
  recursing.
* Arguments come from user code and may be subclasses with overridden
  methods; they are converted with the base types' own methods, and the one
  unavoidable call into user code (``__fspath__``) runs with the guard off so
  whatever it does is audited like anything else.
* A report must never break the handler, and a flood must not flood the host:
  reports are deduplicated per (rule, target) for 60 s and capped at 100 per
  process; the callback's exceptions are swallowed.

Runs inside the worker: stdlib and ``ramparts.errors`` only.
"""

from __future__ import annotations

import _socket
import os
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from ramparts.errors import RuntimeViolation

Report = Callable[[dict[str, Any]], None]

_MODES = ("block", "detect", "off")

_MAX_REPORTS = 100
_DEDUPE_SECONDS = 60.0
_MAX_TARGET = 300

_WRITE_FLAGS = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND
_WRITE_MODE = frozenset("wax+")
_SECRET_NAMES = frozenset({"master.key", "admin-token"})
_SECRET_SUFFIXES = (".pem", ".key")
_PROC_SECRET_ANY_PID = frozenset({"environ", "mem"})
_PROC_SECRET_OTHER_PID = frozenset({"maps"})
_SHELL = "/bin/sh"  # what os.system and shell=True run on POSIX

_FAMILY = _socket.socket.family  # the C member: a socket subclass cannot lie about it
_AF_UNIX = getattr(_socket, "AF_UNIX", -1)
_INET_FAMILIES = frozenset({_socket.AF_INET, _socket.AF_INET6})
_V4_MAPPED = b"\0" * 10 + b"\xff\xff"

# Stdlib modules that compile generated source from validated identifiers or
# only parse (dataclasses, namedtuple, typing's ForwardRef, ast.parse): their
# compile() calls are not "dynamic code" in the sense this layer reports.
_STDLIB = os.path.dirname(getattr(os, "__file__", "") or "")
_CODEGEN_FILES = (
    frozenset(
        os.path.join(_STDLIB, *parts)
        for parts in (
            ("dataclasses.py",),
            ("collections", "__init__.py"),
            ("typing.py",),
            ("ast.py",),
        )
    )
    if _STDLIB
    else frozenset()
)
_IMPORT_FRAMES = "<frozen importlib._bootstrap"  # also matches ..._bootstrap_external
_GLOBALS = globals()


@dataclass(frozen=True)
class HookPolicy:
    """What one worker may do, as its manifest and the sandbox layout say.

    Paths are compared after ``realpath`` on both sides, so symlinks neither
    smuggle a write out of ``writable`` nor make an allowed executable look
    foreign.
    """

    mode: str  # "block" | "detect" | "off"
    code_dir: str  # e.g. /var/task: read-only here, neither writable nor a native root
    deps_dirs: tuple[str, ...]  # the function's own deps, e.g. ("/opt/python",)
    allow_exec: tuple[str, ...]  # absolute paths of executables the manifest allows
    allowed_connect: tuple[tuple[str, int], ...]  # e.g. (("127.0.0.1", 3128),): the proxy
    writable: tuple[str, ...] = ("/tmp", "/dev/null", "/dev/shm")  # noqa: S108 (the policy)
    native_roots: tuple[str, ...] = ()  # where else native libraries may come from
    deny_imports: tuple[str, ...] = ()  # module names reported when imported


_monitor: _Monitor | None = None


def install(policy: HookPolicy, report: Report) -> None:
    """Add the audit hook for ``policy``; ``mode="off"`` installs nothing.

    Audit hooks cannot be removed, so a second call is refused rather than
    stacking a second hook (or letting later code swap in a laxer policy).
    """
    global _monitor
    if policy.mode not in _MODES:
        raise ValueError(f"unknown protection mode {policy.mode!r}; expected one of {_MODES}")
    if policy.mode == "off":
        return
    if _monitor is not None:
        raise RuntimeError("runtime protection hooks are already installed")
    monitor = _Monitor(policy, report)
    sys.addaudithook(monitor.audit)
    os.register_at_fork(after_in_child=monitor.after_fork)
    _monitor = monitor


def imports_done() -> None:
    """From now on compiling source strings is reported as ``code.dynamic``.

    Import time is full of legitimate code generation (dataclasses,
    namedtuple, typing), so the rule only starts once the handler module is in.
    """
    if _monitor is not None:
        _monitor.watch_dynamic_code()


class _Monitor:
    """The installed hook: the policy pre-resolved, plus the report bookkeeping."""

    def __init__(self, policy: HookPolicy, report: Report) -> None:
        self._mode = policy.mode
        self._block = policy.mode == "block"
        self._report = report
        self._local = threading.local()
        self._lock = threading.Lock()
        self._last_sent: dict[tuple[str, str], float] = {}
        self._sent = 0
        self.report_errors = 0  # callback failures, swallowed but counted

        self._exec_ok = frozenset(os.path.realpath(p) for p in policy.allow_exec)
        self._shell_ok = os.path.realpath(_SHELL) in self._exec_ok
        self._connect_ok = frozenset(
            (_host_key(host), int(port)) for host, port in policy.allowed_connect
        )
        self._writable = _roots(policy.writable)
        self._native = _roots(policy.deps_dirs + policy.native_roots)
        self._deny_imports = frozenset(policy.deny_imports)

        self._handlers: dict[str, Callable[[tuple[Any, ...]], None]] = {
            "open": self._on_open,
            "subprocess.Popen": self._on_popen,
            "os.system": self._on_system,
            "os.exec": self._on_exec,
            "os.spawn": self._on_spawn,
            "os.posix_spawn": self._on_posix_spawn,
            "socket.connect": self._on_connect,
            "socket.sendto": self._on_send,
            "socket.sendmsg": self._on_send,
            "socket.bind": self._on_bind,
            "ctypes.dlopen": self._on_dlopen,
            "sqlite3.load_extension": self._on_sqlite_extension,
        }
        if self._deny_imports:
            self._handlers["import"] = self._on_import

    # -- the hook ---------------------------------------------------------

    def audit(self, event: str, args: tuple[Any, ...]) -> None:
        handler = self._handlers.get(event)
        if handler is None:
            return
        local = self._local
        if getattr(local, "busy", False):
            return  # an event raised by the hook itself or by the report callback
        local.busy = True
        try:
            handler(args)
        except (RuntimeViolation, PermissionError):
            raise
        except Exception as exc:
            # A bug or an argument shape we did not foresee: fail open, but visibly.
            self._emit("hook.error", f"{event}: {type(exc).__name__}", blocked=False)
        finally:
            local.busy = False

    def watch_dynamic_code(self) -> None:
        self._handlers["compile"] = self._on_compile

    def after_fork(self) -> None:
        """A fork while another thread held the lock must not deadlock the child."""
        self._lock = threading.Lock()

    # -- rules --------------------------------------------------------------

    def _on_open(self, args: tuple[Any, ...]) -> None:
        path, mode, flags = args[0], args[1], args[2]
        if isinstance(path, int):
            return  # an already-open descriptor
        writing = (type(mode) is str and not _WRITE_MODE.isdisjoint(mode)) or (
            isinstance(flags, int) and bool(flags & _WRITE_FLAGS)
        )
        text = path if type(path) is str else self._text(path)
        if not writing:
            if text is not None and _is_secret(text):
                self._notice("file.sensitive_read", _absolute(text))
            return
        if text is None:
            self._deny("file.write", "<unresolvable path>")
            return
        given = _absolute(text)
        real = os.path.realpath(given)
        if _under(real, self._writable):
            return
        if _is_bytecode_cache(real):
            # importlib caching a .pyc beside read-only code: refuse quietly, as a
            # read-only mount would; importlib catches OSError and carries on.
            raise PermissionError(13, "bytecode cache writes are disabled", text)
        self._deny("file.write", _describe(given, real))

    def _on_popen(self, args: tuple[Any, ...]) -> None:
        executable, argv, cwd, env = args[0], args[1], args[2], args[3]
        if executable is None:  # not on POSIX today, but the event allows it
            if isinstance(argv, (str, bytes, os.PathLike)):
                executable = argv
            else:
                executable = argv[0]
        name = self._text(executable)
        if name is None:
            self._deny("process.spawn", "<unresolvable executable>")
            return
        base = _cwd()
        if cwd is not None:
            cwd_text = self._text(cwd)
            base = os.path.join(base, cwd_text) if cwd_text is not None else base
        if "/" in name:
            candidates = [os.path.join(base, name)]
        else:
            candidates = self._search_path(name, env, base)
        self._check_spawn(name, candidates)

    def _on_system(self, args: tuple[Any, ...]) -> None:
        if not self._shell_ok:
            self._deny("process.spawn", _describe(_SHELL, os.path.realpath(_SHELL)))

    def _on_exec(self, args: tuple[Any, ...]) -> None:
        # os.exec* never searches PATH itself: execvp joins each entry and calls execv.
        self._spawn_path(args[0], search=False)

    def _on_spawn(self, args: tuple[Any, ...]) -> None:
        self._spawn_path(args[1], search=False)  # (mode, path, args, env)

    def _on_posix_spawn(self, args: tuple[Any, ...]) -> None:
        # posix_spawn and posix_spawnp raise the same event: a bare name may be
        # either cwd-relative or looked up in PATH, so both readings must pass.
        self._spawn_path(args[0], search=True)

    def _on_connect(self, args: tuple[Any, ...]) -> None:
        sock, address = args[0], args[1]
        family = _FAMILY.__get__(sock)
        if family == _AF_UNIX:
            return
        if _inet_key(family, address) in self._connect_ok:
            return
        self._deny("socket.connect", _describe_address(family, address))

    def _on_send(self, args: tuple[Any, ...]) -> None:
        # sendto/sendmsg with an address reach a peer without connect(): same rule.
        if args[1] is not None:
            self._on_connect(args)

    def _on_bind(self, args: tuple[Any, ...]) -> None:
        sock, address = args[0], args[1]
        family = _FAMILY.__get__(sock)
        if family == _AF_UNIX:
            return
        key = _inet_key(family, address)
        if key is not None and _is_loopback(key[0]):
            return
        self._notice("socket.bind", _describe_address(family, address))

    def _on_dlopen(self, args: tuple[Any, ...]) -> None:
        if args[0] is None:
            return  # CDLL(None): the process itself, nothing new is mapped
        self._check_native(args[0])

    def _on_sqlite_extension(self, args: tuple[Any, ...]) -> None:
        self._check_native(args[1])  # (connection, path)

    def _on_import(self, args: tuple[Any, ...]) -> None:
        name = self._text(args[0])
        probe = name
        while probe:
            if probe in self._deny_imports:
                self._notice("import.denied", name or "")
                return
            probe = probe.rpartition(".")[0]

    def _on_compile(self, args: tuple[Any, ...]) -> None:
        if args[0] is None:
            return
        site = _dynamic_code_site(sys._getframe(1))
        if site is None:
            return
        filename = args[1] if type(args[1]) is str else self._text(args[1])
        self._notice("code.dynamic", f"{filename or '<unknown>'} at {site}")

    # -- helpers that need the policy ----------------------------------------

    def _spawn_path(self, path: object, *, search: bool) -> None:
        name = self._text(path)
        if name is None:
            self._deny("process.spawn", "<unresolvable executable>")
            return
        base = _cwd()
        candidates = [os.path.join(base, name)]
        if search and "/" not in name:
            candidates += self._search_path(name, None, base)
        self._check_spawn(name, candidates)

    def _search_path(self, name: str, env: object, base: str) -> list[str]:
        """The first PATH hit, as subprocess and execvp would find it."""
        try:
            dirs = self._unguarded(os.get_exec_path, env)
        except Exception:
            return []  # an env we cannot read: nothing to vouch for, so refused
        for entry in dirs:
            candidate = os.path.join(base, os.fsdecode(entry), name)
            if os.path.isfile(candidate) and os.access(candidate, os.X_OK):
                return [candidate]
        return []

    def _check_spawn(self, name: str, candidates: list[str]) -> None:
        existing = [c for c in candidates if os.path.exists(c)]
        if not existing:
            self._deny("process.spawn", name)  # nothing we can vouch for
            return
        for candidate in existing:
            given = os.path.normpath(candidate)
            real = os.path.realpath(given)
            if real not in self._exec_ok:
                self._deny("process.spawn", _describe(given, real))
                return

    def _check_native(self, library: object) -> None:
        name = self._text(library)
        if name is None:
            self._deny("native.load", "<unresolvable library>")
            return
        if "/" not in name:
            # A bare soname goes through the loader's search path, which we do not
            # model; the runtime's own libraries were loaded before install.
            self._deny("native.load", name)
            return
        given = _absolute(name)
        real = os.path.realpath(given)
        if not _under(real, self._native):
            self._deny("native.load", _describe(given, real))

    def _text(self, obj: object) -> str | None:
        """``obj`` as the str the C code will see, without trusting its methods."""
        if type(obj) is str:
            return obj
        if isinstance(obj, str):
            return str.__str__(obj)  # an exact copy; a subclass's overrides never run
        if isinstance(obj, (bytes, bytearray)):
            return os.fsdecode(memoryview(obj).tobytes())
        if hasattr(type(obj), "__fspath__"):
            try:
                value = self._unguarded(os.fspath, obj)
            except Exception:
                return None
            if isinstance(value, str):
                return str.__str__(value)
            if isinstance(value, bytes):
                return os.fsdecode(memoryview(value).tobytes())
        return None

    def _unguarded(self, fn: Callable[..., Any], *args: Any) -> Any:
        """Call what may run user code (``__fspath__``, a mapping's ``get``) audited."""
        local = self._local
        local.busy = False
        try:
            return fn(*args)
        finally:
            local.busy = True

    # -- reporting ---------------------------------------------------------

    def _deny(self, rule: str, target: str) -> None:
        self._emit(rule, target, blocked=self._block)
        if self._block:
            raise RuntimeViolation(rule, _clip(target))

    def _notice(self, rule: str, target: str) -> None:
        self._emit(rule, target, blocked=False)

    def _emit(self, rule: str, target: str, *, blocked: bool) -> None:
        target = _clip(target)
        key = (rule, target)
        now = time.monotonic()
        with self._lock:
            if self._sent >= _MAX_REPORTS:
                return
            last = self._last_sent.get(key)
            if last is not None and now - last < _DEDUPE_SECONDS:
                return
            self._last_sent[key] = now
            self._sent += 1
        event = {"rule": rule, "target": target, "blocked": blocked, "mode": self._mode}
        try:
            self._report(event)
        except BaseException:  # the handler must never see the reporter fail
            self.report_errors += 1


# -- pure helpers ----------------------------------------------------------


def _roots(paths: tuple[str, ...]) -> tuple[tuple[str, str], ...]:
    """(root, root-with-slash) pairs, resolved once at install."""
    out = []
    for path in paths:
        real = os.path.realpath(path)
        out.append((real, real if real.endswith("/") else real + "/"))
    return tuple(out)


def _under(path: str, roots: tuple[tuple[str, str], ...]) -> bool:
    return any(path == root or path.startswith(prefix) for root, prefix in roots)


def _cwd() -> str:
    try:
        return os.getcwd()
    except OSError:  # the cwd was removed under us
        return "/"


def _absolute(path: str) -> str:
    return os.path.normpath(os.path.join(_cwd(), path))


def _describe(given: str, real: str) -> str:
    return given if given == real else f"{given} -> {real}"


def _clip(text: str) -> str:
    return text if len(text) <= _MAX_TARGET else text[: _MAX_TARGET - 3] + "..."


def _is_secret(path: str) -> bool:
    """Key material by name, or another process's (or our exec-time) environment/memory."""
    base = path.rpartition("/")[2]
    if base in _SECRET_NAMES or base.endswith(_SECRET_SUFFIXES):
        return True
    if "proc" not in path:
        return False
    parts = _absolute(path).split("/")  # "", "proc", pid, [task, tid,] name
    if len(parts) not in (4, 6) or parts[1] != "proc":
        return False
    if len(parts) == 6 and parts[3] != "task":
        return False
    name = parts[-1]
    if name in _PROC_SECRET_ANY_PID:
        return True  # /proc/self/environ still holds what was scrubbed from os.environ
    if name in _PROC_SECRET_OTHER_PID:
        return parts[2] not in ("self", "thread-self", str(os.getpid()))
    return False


def _is_bytecode_cache(path: str) -> bool:
    """``.../__pycache__/x.cpython-311.pyc`` or importlib's temporary ``.pyc.<id>``."""
    head, _, name = path.rpartition("/")
    if not head.endswith("/__pycache__"):
        return False
    stem, _, suffix = name.rpartition(".")
    return name.endswith(".pyc") or (suffix.isdigit() and stem.endswith(".pyc"))


def _host_key(host: str | bytes) -> bytes | str:
    """An IP literal as packed bytes (IPv4-mapped IPv6 as IPv4), else the lowercased name."""
    if isinstance(host, (bytes, bytearray)):
        host = memoryview(host).tobytes().decode("ascii", "replace")
    else:
        host = str.__str__(host)
    for family in (_socket.AF_INET, _socket.AF_INET6):
        try:
            packed = _socket.inet_pton(family, host)
        except (OSError, ValueError):
            continue
        if len(packed) == 16 and packed.startswith(_V4_MAPPED):
            return packed[12:]
        return packed
    return host.lower()


def _inet_key(family: int, address: object) -> tuple[bytes | str, int] | None:
    """(host key, port) for an AF_INET/AF_INET6 address, read as the C code reads it."""
    if family not in _INET_FAMILIES or not isinstance(address, tuple):
        return None
    if tuple.__len__(address) < 2:
        return None
    host, port = tuple.__getitem__(address, 0), tuple.__getitem__(address, 1)
    if not isinstance(host, (str, bytes, bytearray)) or not isinstance(port, int):
        return None
    return _host_key(host), int.__int__(port)


def _is_loopback(key: bytes | str) -> bool:
    if isinstance(key, str):
        return key == "localhost"
    return (len(key) == 4 and key[0] == 127) or key == b"\0" * 15 + b"\1"


def _describe_address(family: int, address: object) -> str:
    """A short, side-effect-free rendering (never calls a user object's ``__repr__``)."""
    if family in _INET_FAMILIES and isinstance(address, tuple) and tuple.__len__(address) >= 2:
        host, port = tuple.__getitem__(address, 0), tuple.__getitem__(address, 1)
        if isinstance(host, (str, bytes, bytearray)) and isinstance(port, int):
            host = (
                str.__str__(host)
                if isinstance(host, str)
                else memoryview(host).tobytes().decode("ascii", "replace")
            )
            shown = f"[{host}]" if ":" in host else host
            return f"{shown}:{int.__int__(port)}"
    return f"family {int(family)}"


def _dynamic_code_site(frame: Any) -> str | None:
    """Where a compile() came from, or None when it is import-time or stdlib codegen."""
    while frame is not None and frame.f_globals is _GLOBALS:
        frame = frame.f_back
    if frame is None:
        return "<no python caller>"
    caller = frame.f_code.co_filename
    if caller in _CODEGEN_FILES:
        return None
    site = f"{caller}:{frame.f_lineno}"
    while frame is not None:
        if frame.f_code.co_filename.startswith(_IMPORT_FRAMES):
            return None  # a module body running under import
        frame = frame.f_back
    return site
