"""Host side: one cgroup per worker for its memory and process limits, where writable.

``memory: 128Mi`` is enforced by the kernel's memory controller: a worker
that allocates past it is OOM-killed inside its own group, and the call
answers ``Runtime.OutOfMemory``.  The pids controller caps the processes one
invocation may fork, and killing every task in the group is the second way
(besides the subreaper tree walk) that nothing of a timed-out invocation
survives.

Both cgroup v2 (a writable unified hierarchy with the memory and pids
controllers enabled for us) and v1 (writable ``memory`` and ``pids``
hierarchies, as on these machines for a root node) are supported behind one
small class.  Where neither is writable, ``open_controller`` returns None
and the sandbox stands in with RLIMIT_DATA, RLIMIT_NPROC and the host's RSS
watchdog.
"""

from __future__ import annotations

import contextlib
import os
import signal
import time
from pathlib import Path

V1_ROOT = Path("/sys/fs/cgroup")


class Group:
    """One worker's cgroup (a directory per hierarchy)."""

    def __init__(self, dirs: list[Path], memory_dir: Path | None, v2: bool) -> None:
        self._dirs = dirs
        self._memory = memory_dir
        self._v2 = v2

    def add(self, pid: int) -> None:
        for d in self._dirs:
            (d / "cgroup.procs").write_text(str(pid))

    def oom_killed(self) -> bool:
        """Whether the kernel killed something in this group for memory."""
        if self._memory is None:
            return False
        name = "memory.events" if self._v2 else "memory.oom_control"
        try:
            text = (self._memory / name).read_text()
        except OSError:
            return False
        for line in text.splitlines():
            key, _, value = line.partition(" ")
            if key == "oom_kill" and value.strip().isdigit() and int(value) > 0:
                return True
        return False

    def contains(self, pid: int) -> bool:
        """Whether ``pid`` is in this group in every hierarchy."""
        for d in self._dirs:
            try:
                if str(pid) not in (d / "cgroup.procs").read_text().split():
                    return False
            except OSError:
                return False
        return True

    def pids(self) -> list[int]:
        out: set[int] = set()
        for d in self._dirs:
            with contextlib.suppress(OSError):
                out.update(int(x) for x in (d / "cgroup.procs").read_text().split())
        return sorted(out)

    def kill(self, owner: int | None = None) -> int:
        """SIGKILL every task in the group, until it is empty (or a bounded number of
        rounds); returns how many distinct tasks were signalled besides ``owner``."""
        signalled: set[int] = set()
        if self._v2 and self._dirs:
            signalled.update(self.pids())
            with contextlib.suppress(OSError):
                (self._dirs[0] / "cgroup.kill").write_text("1")
        for _ in range(100):
            pids = self.pids()
            if not pids:
                break
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
                    signalled.add(pid)
            time.sleep(0.002)
        signalled.discard(owner or 0)
        return len(signalled)

    def remove(self) -> None:
        for d in self._dirs:
            for _ in range(50):
                try:
                    d.rmdir()
                    break
                except FileNotFoundError:
                    break
                except OSError:
                    # tasks still exiting: the kernel frees the group once they are reaped
                    time.sleep(0.01)


class Controller:
    """Creates per-worker groups under one node-owned parent in each hierarchy."""

    def __init__(self, parents: dict[str, Path], v2: bool) -> None:
        self._parents = parents  # controller name -> parent dir
        self.v2 = v2
        self.kind = "cgroup v2" if v2 else "cgroup v1 (memory, pids)"

    def create(self, name: str, *, memory_bytes: int, pids_max: int) -> Group:
        dirs: list[Path] = []
        memory_dir: Path | None = None
        try:
            if self.v2:
                d = self._parents["unified"] / name
                d.mkdir(exist_ok=True)
                dirs.append(d)
                (d / "memory.max").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (d / "memory.swap.max").write_text("0")
                (d / "pids.max").write_text(str(pids_max))
                memory_dir = d
            else:
                mem = self._parents["memory"] / name
                mem.mkdir(exist_ok=True)
                dirs.append(mem)
                (mem / "memory.limit_in_bytes").write_text(str(memory_bytes))
                with contextlib.suppress(OSError):
                    (mem / "memory.memsw.limit_in_bytes").write_text(str(memory_bytes))
                memory_dir = mem
                pids = self._parents["pids"] / name
                pids.mkdir(exist_ok=True)
                dirs.append(pids)
                (pids / "pids.max").write_text(str(pids_max))
        except OSError:
            Group(dirs, None, self.v2).remove()
            raise
        return Group(dirs, memory_dir, self.v2)

    def close(self) -> None:
        for parent in self._parents.values():
            with contextlib.suppress(OSError):
                for child in parent.iterdir():
                    if child.is_dir():
                        Group([child], None, self.v2).kill()
                        Group([child], None, self.v2).remove()
                parent.rmdir()


def open_controller(node_id: str) -> Controller | None:
    """A controller for this node's workers, or None where no hierarchy is writable."""
    name = f"ramparts-{node_id}"
    v1 = {c: V1_ROOT / c for c in ("memory", "pids")}
    if all((p / "cgroup.procs").exists() and os.access(p, os.W_OK) for p in v1.values()):
        parents: dict[str, Path] = {}
        try:
            for c, p in v1.items():
                parents[c] = p / name
                parents[c].mkdir(exist_ok=True)
            return Controller(parents, v2=False)
        except OSError:
            for p in parents.values():
                with contextlib.suppress(OSError):
                    p.rmdir()
    unified = _unified_root()
    if unified is not None:
        own = _own_v2_group(unified)
        if own is not None and os.access(own, os.W_OK):
            try:
                enabled = (own / "cgroup.subtree_control").read_text().split()
                if "memory" in enabled and "pids" in enabled:
                    parent = own / name
                    parent.mkdir(exist_ok=True)
                    (parent / "cgroup.subtree_control").write_text("+memory +pids")
                    return Controller({"unified": parent}, v2=True)
            except OSError:
                return None
    return None


def _unified_root() -> Path | None:
    for candidate in (V1_ROOT, V1_ROOT / "unified"):
        if (candidate / "cgroup.controllers").exists():
            return candidate
    return None


def _own_v2_group(root: Path) -> Path | None:
    try:
        for line in Path("/proc/self/cgroup").read_text().splitlines():
            if line.startswith("0::"):
                return root / line[3:].lstrip("/")
    except OSError:
        return None
    return None
