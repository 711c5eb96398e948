"""Host side of the sandbox: what the node hands each zygote, and what it keeps.

``SandboxHost`` is the supervisor's one handle on runtime protection.  It
knows which layers the kernel allows (``layers.probe``), hands out a host uid
per function version from a reserved range (a root node only), builds the
sandbox part of each zygote's config, creates per-worker cgroups, runs the
egress gateway that every proxied connection of every sandbox goes through,
and turns what the sandbox reports (blocked spawns, denied egress) into
security events.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import os
import socket
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from ramparts.sandbox import cgroups, filesystem, jail
from ramparts.sandbox.egress import EgressPolicy, parse_rules
from ramparts.sandbox.forwarder import NODE_TAG, PROXY_PORT
from ramparts.sandbox.gateway import EgressGateway
from ramparts.sandbox.layers import SandboxReport

log = logging.getLogger("ramparts.sandbox")

# The hook rules that refuse in block mode (the others only report).
BLOCKING_RULES = frozenset({"process.spawn", "socket.connect", "native.load", "file.write"})

UID_BASE = 524288  # the range systemd-nspawn also keeps for containers
UID_COUNT = 65536

# (kind, function spec, request id or None, detail) -> None
EventSink = Callable[[str, Any, "str | None", dict[str, Any]], None]


def _lib_dynload() -> str:
    """The directory of the interpreter's own extension modules."""
    import _ctypes

    return str(Path(_ctypes.__file__).resolve().parent)


class SandboxHost:
    """Node-wide runtime protection state, shared by every function version."""

    def __init__(
        self,
        report: SandboxReport,
        *,
        node_id: str,
        hide: list[Path],
        forbidden: list[tuple[str, int]],
        on_event: EventSink,
        node_endpoint: tuple[str, int] | None = None,
    ) -> None:
        self.report = report
        self._node_id = node_id
        self._hide = [str(p.resolve()) for p in hide]
        self._forbidden = forbidden
        self._on_event = on_event
        # The node's public gateway: reachable from a sandbox at 127.0.0.1:port, whatever
        # egress says (it is the public face of the node, and the proxy's port is kept).
        self._node = (
            node_endpoint if node_endpoint and node_endpoint[1] not in (0, PROXY_PORT) else None
        )
        self._gateway = EgressGateway()
        # (host path, sandbox path) bound read-only into every function's sandbox; the
        # node adds node-wide runtime files here (the AWS SDK config, ramparts.aws).
        self.shared_ro: list[tuple[str, str]] = []
        self._egress_tasks: set[asyncio.Task[Any]] = set()
        self._root = os.geteuid() == 0
        per_uid = report.get("per_function_uid")
        self._per_uid = self._root and per_uid is not None and per_uid.available
        self._uids: dict[str, int] = {}
        cg = report.get("cgroups")
        self.cgroups = cgroups.open_controller(node_id) if cg is not None and cg.available else None
        self._runtime_pkg = str(Path(__file__).resolve().parent.parent)
        self._python = jail.python_roots()
        try:
            import pyseccomp

            self.pyseccomp: str | None = str(Path(pyseccomp.__file__).resolve())
        except ImportError:
            self.pyseccomp = None
        import ctypes.util

        self._libs = {name: ctypes.util.find_library(name) for name in ("c", "seccomp")}
        self._hide_all = self._hidden()
        self._lib_dynload = _lib_dynload()

    @property
    def libs(self) -> dict[str, str | None]:
        """libc's and libseccomp's names, looked up once on the host."""
        return dict(self._libs)

    # -- per version ----------------------------------------------------------------------
    def host_uid(self, key: str) -> int | None:
        """A stable host uid for this version (root nodes), distinct from live ones."""
        if not self._per_uid:
            return None
        uid = self._uids.get(key)
        if uid is None:
            digest = hashlib.sha256(f"{self._node_id}:{key}".encode()).digest()
            slot = int.from_bytes(digest[:4], "big") % UID_COUNT
            taken = set(self._uids.values())
            while UID_BASE + slot in taken:
                slot = (slot + 1) % UID_COUNT
            uid = self._uids[key] = UID_BASE + slot
        return uid

    def release(self, key: str) -> None:
        self._uids.pop(key, None)

    def _hidden(self) -> list[str]:
        """Paths under bound trees that a sandbox must not see (worked out once, at start)."""
        hide = list(self._hide)
        for root in self._python:
            for sp in Path(root).glob("lib/python3*/site-packages"):
                hide.append(str(sp))
        # A venv, when the node runs from one: never visible to a handler.
        if sys.prefix != sys.base_prefix:
            hide.append(str(Path(sys.prefix).resolve()))
        return hide

    def zygote_config(self, spec: Any, *, ctl_fd: int, egress_fd: int) -> dict[str, Any]:
        code_dir = Path(spec.code_dir).resolve()
        return {
            **self._common(ctl_fd, egress_fd, self.host_uid(spec.key)),
            "code_dir": str(code_dir),
            "deps_dir": str(Path(spec.deps_dir).resolve()) if spec.deps_dir else "",
            "tmp_mb": spec.tmp_mb,
            "limits": spec.limits,
            "rlimit_data": None if self.cgroups else spec.memory_mb * 1024 * 1024,
            "allow_exec": [f"{filesystem.TASK_ROOT}/{p}" for p in spec.allow_exec],
            "protection": spec.runtime_protection,
            "proxy_port": PROXY_PORT,
            "node_port": self._node[1] if self._node else None,
            # ctypes may load the function's own deps and Python's extension modules only
            "native_roots": [self._lib_dynload],
            "extra_ro": list(self.shared_ro),
        }

    def install_config(
        self,
        *,
        code_dir: str,
        ctl_fd: int,
        egress_fd: int,
        extra_ro: list[tuple[str, str]],
        writable: list[tuple[str, str]],
        tmp_mb: int,
        allow_exec: list[str] | None = None,
    ) -> dict[str, Any]:
        """The sandbox of a deploy-time install (see ``installer``): no hooks, no cgroup.

        ``allow_exec`` is empty unless the node allows source builds: then the
        interpreter itself, which pip starts to run a package's build backend.
        """
        return {
            **self._common(ctl_fd, egress_fd, self.host_uid("pip-install")),
            "code_dir": code_dir,
            "deps_dir": "",
            "tmp_mb": tmp_mb,
            "limits": {"processes": 256, "open_files": 4096},
            "rlimit_data": None,
            "allow_exec": list(allow_exec or []),
            "protection": "off",
            "extra_ro": extra_ro,
            "writable": writable,
        }

    def _common(self, ctl_fd: int, egress_fd: int, host_uid: int | None) -> dict[str, Any]:
        """What every sandbox of this node shares: paths, libraries, skipped layers."""
        return {
            "ctl_fd": ctl_fd,
            "egress_fd": egress_fd,
            "host_uid": host_uid,
            "runtime_pkg": self._runtime_pkg,
            "python": self._python,
            "read_only": self._python,
            "hide": self._hide_all,
            "libs": self._libs,
            # --allow-degraded-sandbox: layers the kernel refused are skipped, not faked
            "skip": [x.name for x in self.report.missing()],
        }

    @property
    def forbidden(self) -> list[tuple[str, int]]:
        return list(self._forbidden)

    def proxy_environment(self) -> dict[str, str]:
        proxy = f"http://127.0.0.1:{PROXY_PORT}"
        return {
            "HTTPS_PROXY": proxy,
            "HTTP_PROXY": proxy,
            "https_proxy": proxy,
            "http_proxy": proxy,
            "NO_PROXY": "localhost,127.0.0.1,::1",
            "no_proxy": "localhost,127.0.0.1,::1",
        }

    def environment(self, spec: Any) -> dict[str, str]:
        return {
            "LAMBDA_TASK_ROOT": filesystem.TASK_ROOT,
            "LAMBDA_RUNTIME_DIR": filesystem.RUNTIME_ROOT,
            "HOME": "/tmp",  # noqa: S108 - the sandbox's private /tmp
            "TMPDIR": "/tmp",  # noqa: S108
            **self.proxy_environment(),
        }

    def attach_egress(self, spec: Any, channel: socket.socket) -> None:
        policy = EgressPolicy(parse_rules(list(spec.egress)), forbidden=self._forbidden)

        def decided(host: str, port: int, allowed: bool, reason: str) -> None:
            self._on_event(
                "egress.allow" if allowed else "egress.deny",
                spec,
                None,
                {"destination": f"{host}:{port}", "reason": reason},
            )

        direct = {NODE_TAG: self._node} if self._node else None
        task = self._gateway.attach(channel, policy, decided, direct=direct)
        self._egress_tasks.add(task)
        task.add_done_callback(self._egress_tasks.discard)

    def worker_group(self, spec: Any, pid: int) -> cgroups.Group | None:
        if self.cgroups is None:
            return None
        group = self.cgroups.create(
            f"{spec.function[:40]}-{spec.version[:12]}-{pid}",
            memory_bytes=spec.memory_mb * 1024 * 1024,
            pids_max=int(spec.limits.get("processes", 1024)),
        )
        try:
            group.add(pid)
        except OSError:
            group.kill()
            group.remove()
            raise
        return group

    def enforced(
        self, kind: str, spec: Any, request_id: str | None, detail: dict[str, Any]
    ) -> None:
        """A limit the host enforced (an OOM kill, a timed-out tree): a security event."""
        self._on_event(kind, spec, request_id, detail)

    def violations(self, spec: Any, request_id: str | None, events: Any) -> None:
        """Report what runtime protection saw in the worker (both modes)."""
        if not isinstance(events, list):
            return
        for ev in events[:100]:
            if not isinstance(ev, dict):
                continue
            rule = str(ev.get("rule", ""))[:64]
            # The worker's word is evidence, not authority: whether the rule blocks
            # follows from the function's mode, which the host knows.
            detail = {
                "rule": rule,
                "target": str(ev.get("target", ""))[:512],
                "blocked": spec.runtime_protection == "block" and rule in BLOCKING_RULES,
                "mode": spec.runtime_protection,
            }
            rid = request_id
            if ev.get("outside_invocation"):  # a background thread or process, between calls
                rid, detail["outside_invocation"] = None, True
            self._on_event("runtime.violation", spec, rid, detail)

    async def close(self) -> None:
        await self._gateway.close()
        if self.cgroups is not None:
            await asyncio.to_thread(self.cgroups.close)
