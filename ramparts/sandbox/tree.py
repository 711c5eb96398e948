"""Host side: kill a worker together with everything it spawned.

A sandboxed worker is a child subreaper that cannot unset that (seccomp), and
cannot clone with CLONE_PARENT or new namespaces: whatever it starts, and
however that double-forks and calls ``setsid``, stays a descendant of the
worker while the worker lives.  So the host freezes the worker with SIGSTOP,
kills every descendant it finds, repeats until a scan finds none (a process
forked mid-scan is still a descendant and is caught by the next round), and
only then kills the worker.  No ``setsid`` escape, with or without cgroups.
"""

from __future__ import annotations

import contextlib
import os
import signal


def _ppids() -> dict[int, int]:
    """pid -> ppid for every live process on the host (a racy snapshot; callers loop)."""
    out: dict[int, int] = {}
    for name in os.listdir("/proc"):
        if not name.isdigit():
            continue
        try:
            with open(f"/proc/{name}/stat", "rb") as f:
                data = f.read()
            fields = data.rsplit(b")", 1)[1].split()
            if fields[0] in (b"Z", b"X"):
                continue  # already dead, waiting to be reaped: it forks nothing more
            out[int(name)] = int(fields[1])
        except (OSError, ValueError, IndexError):
            continue
    return out


def children_map() -> dict[int, list[int]]:
    """ppid -> live children, from one scan of /proc (reuse it for many trees)."""
    children: dict[int, list[int]] = {}
    for child, parent in _ppids().items():
        children.setdefault(parent, []).append(child)
    return children


def descendants(pid: int, children: dict[int, list[int]] | None = None) -> list[int]:
    """Every live descendant of ``pid`` (not ``pid`` itself)."""
    if children is None:
        children = children_map()
    out: list[int] = []
    stack = list(children.get(pid, ()))
    while stack:
        p = stack.pop()
        out.append(p)
        stack.extend(children.get(p, ()))
    return out


def kill_tree(pid: int, pidfd: int | None = None, *, rounds: int = 2000) -> int:
    """SIGKILL ``pid``'s descendants until none is left, then ``pid``; returns how many died.

    ``pidfd`` pins the worker's identity so a recycled pid is never signalled.
    """

    def signal_root(sig: int) -> None:
        with contextlib.suppress(OSError):
            if pidfd is not None:
                signal.pidfd_send_signal(pidfd, sig)
            else:
                os.kill(pid, sig)

    signal_root(signal.SIGSTOP)
    killed = 0
    for _ in range(rounds):
        found = descendants(pid)
        if not found:
            break
        for p in found:
            with contextlib.suppress(OSError):
                os.kill(p, signal.SIGKILL)
                killed += 1
    signal_root(signal.SIGKILL)
    return killed
