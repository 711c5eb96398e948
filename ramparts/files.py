"""Owner-only files, written atomically: the node's keys, tokens and markers.

Every file the node writes under its data dir is private to its user (mode
0600, directories 0700), whatever the process umask.  Key and token files
are written through ``write_private``: a temporary file in the same
directory, fsynced, then renamed over the target, and the directory fsynced.
A crash or a full disk therefore leaves either the old file or the complete
new one, never a 0-byte or half-written key that would block the next start.

This module sits at the bottom of the import order (it needs only
``ramparts.errors``) so that config, crypto, TLS and the storage backends
can all use it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

from ramparts.errors import StorageError

__all__ = ["PRIVATE_DIR", "PRIVATE_FILE", "describe_os_error", "tighten", "write_private"]

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700


def describe_os_error(exc: OSError) -> str:
    """The OS's own words for ``exc`` ("No space left on device"), without a traceback."""
    return exc.strerror or str(exc) or type(exc).__name__


def write_private(path: Path, data: bytes, *, exclusive: bool = False) -> None:
    """Write ``data`` to ``path`` atomically with mode 0600, or leave ``path`` untouched.

    With ``exclusive`` the file must not exist yet (two processes creating the
    same key both succeeding would leave one of them holding a stale key).
    Raises ``StorageError`` naming the file and the OS's reason.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except FileExistsError:
        # A leftover of a crashed write by a process with our pid: never a live writer.
        tmp.unlink(missing_ok=True)
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC, PRIVATE_FILE)
    except OSError as exc:
        raise StorageError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            os.fsync(fd)
        finally:
            os.close(fd)
        if exclusive:
            os.link(tmp, path)  # fails if path exists: first writer wins, atomically
            tmp.unlink()
        else:
            os.replace(tmp, path)
    except FileExistsError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(
            f"cannot create {path}: it appeared meanwhile (another node starting on this data dir?)"
        ) from exc
    except OSError as exc:
        with contextlib.suppress(OSError):
            tmp.unlink()
        raise StorageError(f"cannot write {path}: {describe_os_error(exc)}") from exc
    _fsync_dir(path.parent)


def tighten(path: Path, mode: int = PRIVATE_FILE) -> None:
    """Take group and other bits off ``path`` if it exists (files an older version left)."""
    try:
        current = stat.S_IMODE(os.lstat(path).st_mode)
    except FileNotFoundError:
        return
    except OSError as exc:
        raise StorageError(f"cannot check {path}: {describe_os_error(exc)}") from exc
    if current & 0o077 and not stat.S_ISLNK(os.lstat(path).st_mode):
        try:
            os.chmod(path, current & mode)
        except OSError as exc:
            raise StorageError(f"cannot make {path} private: {describe_os_error(exc)}") from exc


def _fsync_dir(directory: Path) -> None:
    """Make a rename in ``directory`` durable (best effort where a filesystem refuses)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError:
        return
    try:
        with contextlib.suppress(OSError):
            os.fsync(fd)
    finally:
        os.close(fd)
