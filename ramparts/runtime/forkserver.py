"""Host side of the zygote template (``template.py``): start it, ask it for zygotes.

``ForkServer.spawn`` returns a ``ForkedProcess`` that looks, to the
supervisor, like the ``asyncio.subprocess.Process`` a direct start gives:
``pid``, ``returncode``, ``kill()``, ``wait()`` and a ``stderr`` stream.  The
process is the template's child, not ours, so its end is watched through a
pidfd instead of ``waitpid``.  If the template cannot be started or dies,
``spawn`` raises ``ForkServerError`` and the supervisor starts the zygote
directly, as before.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import select
import signal
import socket
import sys
from typing import Any

from ramparts.runtime import ipc
from ramparts.runtime.template import BOOTSTRAP, config

_REPLY_TIMEOUT = 10.0


class ForkServerError(Exception):
    """The template is not available; start the zygote the slow way."""


class ForkedProcess:
    """A zygote forked by the template, watched through its pidfd."""

    def __init__(self, pid: int, pidfd: int, stderr: asyncio.StreamReader) -> None:
        self.pid = pid
        self._pidfd: int | None = pidfd
        self._code: int | None = None
        self.stderr = stderr

    @property
    def returncode(self) -> int | None:
        if self._code is None and self._pidfd is not None:
            readable, _, _ = select.select([self._pidfd], [], [], 0)
            if readable:
                self._code = -signal.SIGKILL  # not our child: the exact status is the template's
        return self._code

    def kill(self) -> None:
        if self._pidfd is not None and self._code is None:
            with contextlib.suppress(OSError):
                signal.pidfd_send_signal(self._pidfd, signal.SIGKILL)

    async def wait(self) -> int:
        if self._pidfd is None:
            return self._code if self._code is not None else -signal.SIGKILL
        if self.returncode is None:
            loop = asyncio.get_running_loop()
            done = loop.create_future()
            loop.add_reader(self._pidfd, lambda: done.done() or done.set_result(None))
            try:
                await done
            finally:
                loop.remove_reader(self._pidfd)
        self._code = -signal.SIGKILL if self._code is None else self._code
        os.close(self._pidfd)
        self._pidfd = None
        return self._code


class ForkServer:
    """One template per supervisor, started on first use."""

    def __init__(
        self,
        *,
        runtime_dir: str,
        sandbox: bool,
        pyseccomp: str | None,
        libs: dict[str, str | None],
    ) -> None:
        self._cfg = dict(runtime_dir=runtime_dir, sandbox=sandbox, pyseccomp=pyseccomp, libs=libs)
        self._proc: asyncio.subprocess.Process | None = None
        self._sock: socket.socket | None = None
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None
        self._lock = asyncio.Lock()
        self._failed = False

    async def _ensure(self) -> None:
        if (
            self._proc is not None
            and self._proc.returncode is None
            and self._reader is not None
            and not self._reader.at_eof()
        ):
            return
        await self._stop()
        parent, child = socket.socketpair(socket.AF_UNIX, socket.SOCK_STREAM)
        try:
            self._proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-I",
                "-S",
                "-c",
                BOOTSTRAP,
                config(sock_fd=child.fileno(), **self._cfg),  # type: ignore[arg-type]
                stdin=asyncio.subprocess.DEVNULL,
                stdout=asyncio.subprocess.DEVNULL,
                stderr=None,  # the node's own stderr: the template runs no user code
                pass_fds=(child.fileno(),),
                env={"PATH": "/usr/bin:/bin", "LANG": "C.UTF-8"},
                cwd="/",
                start_new_session=True,
            )
        except (OSError, ValueError) as exc:
            parent.close()
            raise ForkServerError(f"cannot start the zygote template: {exc}") from exc
        finally:
            child.close()
        self._sock = parent
        self._reader, self._writer = await asyncio.open_unix_connection(sock=parent)

    async def start(self) -> None:
        """Start the template now (a node does at boot), so no first call waits for it."""
        async with self._lock:
            try:
                await self._ensure()
            except ForkServerError as exc:
                self._failed = True
                raise exc

    async def spawn(
        self, cfg: dict[str, Any], *, env: dict[str, str], cwd: str, fds: tuple[int, int]
    ) -> ForkedProcess:
        """Fork a zygote with ``cfg`` (BOOTSTRAP's config), its environment and cwd.

        ``fds`` are the zygote's control socket and its egress channel (or -1);
        they are duplicated into the child, the caller keeps (and closes) its own.
        """
        if self._failed:
            raise ForkServerError("the zygote template failed before")
        err_r, err_w = os.pipe()
        devnull = os.open(os.devnull, os.O_RDWR) if fds[1] < 0 else -1
        try:
            async with self._lock:
                try:
                    await self._ensure()
                    assert self._sock is not None and self._reader is not None
                    msg = {"op": "spawn", "cfg": cfg, "env": env, "cwd": cwd}
                    send = [fds[0], fds[1] if fds[1] >= 0 else devnull, err_w]
                    ipc.send_fds_frame(self._sock, msg, send)
                    reply = await asyncio.wait_for(ipc.read_frame(self._reader), _REPLY_TIMEOUT)
                except (OSError, TimeoutError, ipc.FrameError) as exc:
                    self._failed = True
                    await self._stop()
                    raise ForkServerError(f"the zygote template failed: {exc}") from exc
            pid = reply.get("pid") if isinstance(reply, dict) else None
            if not isinstance(pid, int) or isinstance(pid, bool) or pid <= 1:
                raise ForkServerError("the zygote template sent no pid")
            pidfd = _pidfd_of(pid, self._proc.pid if self._proc else -1)
        finally:
            os.close(err_w)
            if devnull >= 0:
                os.close(devnull)
        loop = asyncio.get_running_loop()
        stderr = asyncio.StreamReader(limit=65536)
        await loop.connect_read_pipe(
            lambda: asyncio.StreamReaderProtocol(stderr), os.fdopen(err_r, "rb", 0)
        )
        return ForkedProcess(pid, pidfd, stderr)

    async def _stop(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._writer = self._reader = None
        self._sock = None
        if self._proc is not None:
            if self._proc.returncode is None:
                with contextlib.suppress(ProcessLookupError):
                    self._proc.kill()
            await self._proc.wait()
        self._proc = None

    async def close(self) -> None:
        async with self._lock:
            await self._stop()


def _pidfd_of(pid: int, template_pid: int) -> int:
    """A pidfd on the template's new child (checked: it must be the template's child)."""
    try:
        pidfd = os.pidfd_open(pid)
    except OSError as exc:
        raise ForkServerError("the forked zygote is gone") from exc
    try:
        with open(f"/proc/{pid}/stat", "rb") as f:
            ppid = int(f.read().rsplit(b")", 1)[1].split()[1])
    except (OSError, ValueError, IndexError) as exc:
        os.close(pidfd)
        raise ForkServerError("the forked zygote is gone") from exc
    if ppid != template_pid:
        os.close(pidfd)
        raise ForkServerError("the template reported a pid that is not its child")
    return pidfd
