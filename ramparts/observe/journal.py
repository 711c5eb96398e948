"""The audit journal: what makes an audit record survive a kill -9 before ``emit`` returns.

``AuditLog.emit`` appends each record as one JSON line to the current segment
file under ``<data dir>/audit-journal/`` with a single ``os.write`` on an
``O_APPEND`` descriptor.  Once that call returns the bytes are in the kernel's
page cache, which a killed process cannot take back; the buffered writer then
ships the records to the store.  Records that must also survive a power loss
(denials and admin actions) ask for an ``fdatasync``; one background thread
does it for everything written so far, so a flood of denials costs one sync
per batch, not one per request.

Segments rotate when they grow past ``rotate_bytes``; the writer deletes a
rotated segment only after every record in it is stored.  At start the
segments left by a killed node are read back (``replay``) and their records
stored again, deduplicated by record id.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path
from typing import Any

import orjson

from ramparts.errors import StorageError
from ramparts.files import PRIVATE_DIR, PRIVATE_FILE, describe_os_error

__all__ = ["Journal"]

log = logging.getLogger("ramparts.observe")

_PREFIX = "seg-"
_SUFFIX = ".jsonl"


_TEXT_FIELDS = ("id", "node", "kind", "decision", "principal", "action", "resource")


def _well_formed(rec: Any) -> bool:
    """A line the writer can chain: one it wrote (a bad one would stall the writer)."""
    return (
        isinstance(rec, dict)
        and all(isinstance(rec.get(k), str) for k in _TEXT_FIELDS)
        and isinstance(rec.get("ts"), int | float)
        and isinstance(rec.get("detail"), dict)
        and (rec.get("request_id") is None or isinstance(rec.get("request_id"), str))
    )


class Journal:
    """Append-only segment files; thread-safe ``append``; rotation under the same lock."""

    def __init__(self, directory: Path, *, rotate_bytes: int = 1 << 20) -> None:
        self._dir = directory
        self._rotate_bytes = rotate_bytes
        self._lock = threading.Lock()
        try:
            directory.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            os.chmod(directory, PRIVATE_DIR)
        except OSError as exc:
            raise StorageError(
                f"cannot create the audit journal {directory}: {describe_os_error(exc)}"
            ) from exc
        self._old = sorted(self._dir.glob(f"{_PREFIX}*{_SUFFIX}"))  # left by the last run
        number = int(self._old[-1].name[len(_PREFIX):-len(_SUFFIX)]) + 1 if self._old else 1
        self._number = number
        self._fd = self._open(number)
        self._size = 0
        self._sync_wanted = threading.Event()
        # Held while a descriptor is being synced or closed: a sync never meets a closed fd.
        self._sync_lock = threading.Lock()
        self._dirty = False  # a record asked for a sync the syncer has not taken up yet
        self._retired: list[tuple[int, bool]] = []  # rotated-out fds: (fd, still dirty)
        self._closed = False
        self._syncer = threading.Thread(target=self._sync_loop, name="audit-journal-sync",
                                        daemon=True)
        self._syncer.start()

    def _path(self, number: int) -> Path:
        return self._dir / f"{_PREFIX}{number:012d}{_SUFFIX}"

    def _open(self, number: int) -> int:
        try:
            return os.open(
                self._path(number),
                os.O_WRONLY | os.O_CREAT | os.O_APPEND | os.O_CLOEXEC,
                PRIVATE_FILE,
            )
        except OSError as exc:
            raise StorageError(
                f"cannot open the audit journal: {describe_os_error(exc)}"
            ) from exc

    # -- the request path ------------------------------------------------------------------
    def append(self, record: dict[str, Any], *, sync: bool) -> None:
        """Write ``record`` as one line; ``sync`` also asks the syncer for an fdatasync."""
        line = orjson.dumps(record, option=orjson.OPT_NON_STR_KEYS, default=str) + b"\n"
        with self._lock:
            os.write(self._fd, line)  # one write on O_APPEND: the whole line or none of it
            self._size += len(line)
            if sync:
                self._dirty = True
        if sync:
            self._sync_wanted.set()

    def _sync_loop(self) -> None:
        while True:
            self._sync_wanted.wait()
            self._sync_wanted.clear()
            if self._closed:
                return
            with self._sync_lock:
                with self._lock:  # the fd and its dirty flag together (see rotate_if_large)
                    fd, dirty, self._dirty = self._fd, self._dirty, False
                if not dirty or fd < 0:
                    continue
                try:
                    os.fdatasync(fd)
                except OSError as exc:
                    log.error("audit journal sync failed: %s", exc)

    # -- the writer ------------------------------------------------------------------------
    def leftovers(self) -> list[dict[str, Any]]:
        """The records in segments a previous run left behind (its unstored tail, maybe)."""
        out: list[dict[str, Any]] = []
        for path in self._old:
            try:
                data = path.read_bytes()
            except OSError as exc:
                raise StorageError(
                    f"cannot read the audit journal {path.name}: {describe_os_error(exc)}"
                ) from exc
            for n, line in enumerate(data.split(b"\n"), 1):
                if not line.strip():
                    continue
                try:
                    rec = orjson.loads(line)
                except orjson.JSONDecodeError:
                    # Only a line cut by a crash mid-write can look like this (the last one).
                    log.warning("audit journal %s line %d is not a record; skipped", path.name, n)
                    continue
                if _well_formed(rec):
                    out.append(rec)
                else:
                    log.warning("audit journal %s line %d is not a record; skipped", path.name, n)
        return out

    def rotate_if_large(self, *, force: bool = False) -> list[Path]:
        """Start a new segment when the current one is big; returns segments now closed.

        The caller deletes them (``discard``) once every record they hold is stored.
        """
        closed: list[Path] = []
        with self._lock:
            if self._size == 0 or (self._size < self._rotate_bytes and not force):
                return closed
            old_fd, old_number = self._fd, self._number
            self._number += 1
            self._fd = self._open(self._number)
            self._size = 0
            # A sync asked for and not yet taken up by the syncer covers records in the old
            # segment: ``retire`` does it.  One the syncer took up finishes before ``retire``
            # closes the fd (the sync lock).  Otherwise the old segment's records are in the
            # batch being stored now and need no sync of their own.
            self._retired.append((old_fd, self._dirty))
            self._dirty = False
        closed.append(self._path(old_number))
        return closed

    def retire(self) -> None:
        """Sync (if asked) and close rotated-out segments: on the writer thread, never the loop."""
        with self._sync_lock:
            with self._lock:
                retired, self._retired = self._retired, []
            for fd, dirty in retired:
                if dirty:
                    try:
                        os.fdatasync(fd)
                    except OSError as exc:
                        log.error("audit journal sync at rotation failed: %s", exc)
                os.close(fd)

    def take_old(self) -> list[Path]:
        """The previous run's segments, handed over once (deleted after their replay is stored)."""
        old, self._old = self._old, []
        return old

    @staticmethod
    def discard(paths: list[Path]) -> None:
        for path in paths:
            try:
                path.unlink()
            except FileNotFoundError:
                pass
            except OSError as exc:  # kept: its records are deduplicated on the next replay
                log.warning("could not remove audit journal %s: %s", path.name, exc)

    def close(self, *, empty: bool) -> None:
        """Close the segment; ``empty`` (everything stored) also removes it."""
        self._closed = True
        self._sync_wanted.set()
        self.retire()
        with self._sync_lock, self._lock:
            try:
                os.fdatasync(self._fd)
            except OSError:
                pass
            os.close(self._fd)
            self._fd = -1
        if empty:
            self.discard([self._path(self._number)])
