"""The embedded durable queue: the default bus of a single node, on SQLite.

URL: ``embedded:///absolute/path/bus.db``.  ``ramparts up`` puts it under the
data dir; topic publishes are fanned out into it and the dispatcher leases
from it, so it is what "an accepted event survives a crash" rests on when no
Redis or NATS is configured.

How the guarantees of ``ramparts.bus.base`` are met:

* Durability, step by step (WAL journal throughout):

  - ``enqueue``/``enqueue_many`` commit with ``synchronous=FULL``: the
    transaction is fsynced before the call returns, so an accepted publish
    survives ``kill -9`` of the process and a power cut.
  - ``receive`` (the lease), ``ack``/``ack_many``, ``extend`` and ``retry``
    commit with ``synchronous=NORMAL``: written to the WAL (the operating
    system's cache) before the call returns, so they survive ``kill -9`` of
    the process, but not fsynced.  The next enqueue's fsync (or a checkpoint)
    makes them durable too, since the WAL is one sequential file.  A power
    cut or kernel crash can therefore undo only the last acks and leases
    since then, and what that costs is what at-least-once already allows:
    a handled message delivered again, or a receive count one lower.  It can
    never drop an accepted message: deleting one is the only way to lose it,
    and an undone ack puts it back.  This takes one fsync per delivered batch
    off the dispatcher's path, which was the delivery rate's limit.
* The event loop never waits on disk: every SQLite call runs on one dedicated
  thread that owns the connection (a single-thread executor), which also
  serialises all access to it.
* Leases: ``receive`` leases with a single ``UPDATE ... RETURNING``; a row is
  visible when ``available_at`` has passed and it holds no live lease.
* Single node by definition: an exclusive ``flock`` on ``<db>.lock`` keeps a
  second process out, which is what makes it safe for ``open`` to release
  every lease a previous (crashed) process left, so those messages are
  redelivered at once instead of after their lease.
* ``attempt`` counts deliveries: it is bumped when a message is leased, so a
  redelivery after an expired lease or a crash counts too (like SQS's receive
  count); ``retry`` leaves it alone and the next delivery shows ``attempt + 1``.
* Lost messages are counted, not silently dropped: SQLite discards every WAL
  frame after a damaged one when it recovers, so a few corrupted bytes can
  erase committed transactions without an error.  The database counts the
  messages it accepted (``bus_meta.accepted``, in the same transaction as the
  insert) and, once that commit is durable, the same count is written and
  fdatasynced to a sidecar file outside SQLite (``<db>.accepted``) before
  ``enqueue`` returns.  A sidecar ahead of the database means accepted
  messages were lost; ``inspect_file`` tells by how many, and ``open``
  refuses such a file until the loss is accepted (``accept_loss``).  The
  sidecar costs one small write and fdatasync per enqueue batch.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
import struct
import time
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import quote, unquote, urlsplit

from ramparts.aio import wait_event
from ramparts.bus._common import (
    check_consumer,
    check_delay,
    check_outgoing,
    check_queue,
    check_receive_args,
    dump_headers,
    load_headers,
)
from ramparts.bus.base import Bus, Message, OutgoingMessage
from ramparts.errors import BackendError, ConfigError, InvalidRequest
from ramparts.files import PRIVATE_FILE, tighten

log = logging.getLogger(__name__)

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS messages (
    seq          INTEGER PRIMARY KEY,      -- insertion order: FIFO within a queue
    id           TEXT    NOT NULL,
    queue        TEXT    NOT NULL,
    body         BLOB    NOT NULL,
    headers      TEXT    NOT NULL,         -- JSON object of str -> str
    attempt      INTEGER NOT NULL DEFAULT 0,  -- deliveries so far
    available_at REAL    NOT NULL,         -- not visible before (delay, retry backoff)
    lease_until  REAL,                     -- NULL when not leased
    enqueued_at  REAL    NOT NULL,
    UNIQUE (queue, id)                     -- a given id is enqueued once: idempotent
);
CREATE INDEX IF NOT EXISTS messages_queue_seq ON messages (queue, seq);
CREATE TABLE IF NOT EXISTS bus_meta (
    key   TEXT    PRIMARY KEY,
    value INTEGER NOT NULL
);
INSERT OR IGNORE INTO bus_meta (key, value) VALUES ('accepted', 0);
"""

_ACCEPTED_SUFFIX = ".accepted"  # the sidecar: <db>.accepted
_MARK_MAGIC = b"RPBUSAC1"
_MARK = struct.Struct(">8sQI")  # magic, accepted count, crc32 of the two


@dataclass(frozen=True)
class AcceptedStatus:
    """What the database holds against what the sidecar says was accepted.

    ``recorded`` is the sidecar's count (None: no sidecar), ``present`` the
    database's own count.  ``missing`` is how many accepted messages the file
    lost: those accepted after the last transaction that survived (any that
    were handled before the crash are among them, their acks lost too).
    """

    recorded: int | None
    present: int
    mark_damaged: bool = False

    @property
    def missing(self) -> int:
        if self.recorded is None:
            return 0
        return max(self.recorded - self.present, 0)

    @property
    def unverifiable(self) -> bool:
        """No usable sidecar for a file that has accepted messages: a loss cannot be ruled out."""
        return self.mark_damaged or (self.recorded is None and self.present > 0)

_LEASE = """
UPDATE messages SET attempt = attempt + 1, lease_until = :until
WHERE seq IN (
    SELECT seq FROM messages
    WHERE queue = :queue AND available_at <= :now
      AND (lease_until IS NULL OR lease_until <= :now)
    ORDER BY seq LIMIT :limit
)
RETURNING seq, id, body, headers, attempt, enqueued_at
"""

_NEXT_VISIBLE = """
SELECT MIN(MAX(available_at, COALESCE(lease_until, 0))) FROM messages WHERE queue = ?
"""

_INSERT = """
INSERT INTO messages (id, queue, body, headers, attempt, available_at, lease_until, enqueued_at)
VALUES (?, ?, ?, ?, 0, ?, NULL, ?)
ON CONFLICT (queue, id) DO NOTHING
"""

# Upper bound on one sleep of a waiting receive.  In-process enqueues and
# retries wake receivers at once and the next delay/lease expiry is computed
# exactly, so this only guards against wall-clock jumps.
_MAX_SLEEP = 0.5


def file_for(url: str) -> Path:
    """The database file an ``embedded://`` URL names (raises ``ConfigError`` if malformed)."""
    return _path_from_url(url)


def _path_from_url(url: str) -> Path:
    parts = urlsplit(url)
    if parts.scheme != "embedded" or parts.netloc or parts.query or parts.fragment:
        raise ConfigError(
            "embedded bus URL must look like embedded:///absolute/path/bus.db"
            " (no host, query or fragment)"
        )
    path = unquote(parts.path)
    if not path.startswith("/") or path.endswith("/"):
        raise ConfigError(
            "embedded bus URL needs an absolute file path: embedded:///absolute/path/bus.db"
        )
    return Path(path)


class EmbeddedBus(Bus):
    """Durable queues in one SQLite file, for a single node."""

    schemes = ("embedded",)
    reclaims_leases_at_start = True

    def __init__(self, url: str, *, consumer: str | None = None) -> None:
        # One process by its file lock: every lease found at open is a dead one,
        # whoever held it, so the consumer identity is not needed here.
        check_consumer(consumer)
        self._path = _path_from_url(url)
        self._executor: ThreadPoolExecutor | None = None
        # Both are touched only on the executor thread.
        self._conn: sqlite3.Connection | None = None
        self._lock_fd: int | None = None
        self._mark_fd: int | None = None
        self._sync = "FULL"  # the connection's current synchronous setting
        # Acks waiting for the next group commit, and the task that commits them.
        self._acks: list[tuple[list[int], asyncio.Future[None]]] = []
        self._flusher: asyncio.Task[None] | None = None
        self._wakeups: dict[str, asyncio.Event] = {}

    # -- lifecycle --------------------------------------------------------

    async def open(self) -> None:
        if self._executor is not None:
            return
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="ramparts-bus")
        try:
            released = await self._run(self._open_sync)
        except BaseException:
            executor, self._executor = self._executor, None
            executor.shutdown(wait=False)
            raise
        if released:
            log.warning("embedded bus: released %d lease(s) left by a previous process", released)

    async def close(self) -> None:
        executor = self._executor
        if executor is None:
            return
        if self._flusher is not None and not self._flusher.done():
            with contextlib.suppress(Exception):
                await self._flusher  # pending acks commit before the file closes
        try:
            await self._run(self._close_sync)
        finally:
            self._executor = None
            executor.shutdown(wait=True)

    # -- contract ---------------------------------------------------------

    async def enqueue_many(self, messages: list[OutgoingMessage]) -> list[str]:
        now = time.time()
        rows = []
        for message in messages:
            message_id, body, headers, delay = check_outgoing(message)
            rows.append((message_id, message.queue, body, dump_headers(headers), now + delay, now))
        if rows:
            await self._run(self._insert_sync, rows)
            for queue in {row[1] for row in rows}:
                self._wake(queue)
        return [row[0] for row in rows]

    async def receive(
        self, queue: str, *, max_messages: int = 10, lease: float = 30.0, wait: float = 1.0
    ) -> list[Message]:
        check_queue(queue)
        check_receive_args(max_messages, lease, wait)
        loop = asyncio.get_running_loop()
        deadline = loop.time() + wait
        wakeup = self._wakeups.setdefault(queue, asyncio.Event())
        while True:
            # Cleared before looking, so an enqueue that lands while we look still wakes us.
            wakeup.clear()
            now = time.time()
            rows, next_visible = await self._run(
                self._lease_sync, queue, max_messages, lease, now
            )
            if rows:
                return [
                    Message(
                        id=row[1],
                        queue=queue,
                        body=bytes(row[2]),
                        attempt=row[4],
                        headers=load_headers(row[3]),
                        enqueued_at=row[5],
                        receipt=(row[0], row[4]),
                    )
                    for row in sorted(rows, key=lambda r: r[0])
                ]
            remaining = deadline - loop.time()
            if remaining <= 0:
                return []
            pause = min(remaining, _MAX_SLEEP)
            if next_visible is not None:
                pause = min(pause, max(next_visible - time.time(), 0.0) + 0.001)
            await wait_event(wakeup, pause)

    async def extend(self, message: Message, *, lease: float) -> bool:
        seq, attempt = _receipt(message)
        check_receive_args(1, lease, 0.0)
        return await self._run(self._extend_sync, seq, attempt, time.time() + lease)

    async def ack(self, message: Message) -> None:
        await self.ack_many([message])

    async def ack_many(self, messages: list[Message]) -> None:
        """Delete the messages; returns once the transaction holding them committed.

        Group commit: acks that arrive while a commit is under way wait and go
        out together in the next transaction, so concurrent deliveries share
        one commit (and its WAL write) instead of queueing one each.
        """
        seqs = [_receipt(m)[0] for m in messages]
        if not seqs:
            return
        if self._executor is None:
            raise BackendError("embedded bus is not open")
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._acks.append((seqs, done))
        if self._flusher is None or self._flusher.done():
            self._flusher = asyncio.get_running_loop().create_task(self._flush_acks())
        await done

    async def _flush_acks(self) -> None:
        while self._acks:
            group, self._acks = self._acks, []
            try:
                await self._run(self._ack_many_sync, [s for seqs, _ in group for s in seqs])
            except asyncio.CancelledError:
                for _, done in group:
                    done.cancel()
                raise
            except Exception as exc:  # every waiter of this group gets the error
                for _, done in group:
                    if not done.done():
                        done.set_exception(exc)
            else:
                for _, done in group:
                    if not done.done():
                        done.set_result(None)

    async def retry(self, message: Message, *, delay: float) -> None:
        seq, attempt = _receipt(message)
        applied = await self._run(self._retry_sync, seq, attempt, time.time() + check_delay(delay))
        if applied:
            self._wake(message.queue)
        else:
            # The lease ran out and the message was delivered again: the newer
            # delivery owns it now, so this stale retry must not disturb it.
            log.debug("embedded bus: stale retry of %s ignored", message.id)

    async def depth(self, queue: str) -> int:
        check_queue(queue)
        return await self._run(self._depth_sync, queue)

    # -- plumbing ---------------------------------------------------------

    async def _run(self, fn: Callable[..., T], *args: Any) -> T:
        if self._executor is None:
            raise BackendError("embedded bus is not open")
        loop = asyncio.get_running_loop()
        try:
            return await loop.run_in_executor(self._executor, fn, *args)
        except sqlite3.Error as exc:
            # No path in the message: errors may travel to API callers.
            raise BackendError(f"embedded bus: {exc}") from exc
        except OSError as exc:
            raise BackendError(f"embedded bus: {exc.strerror or exc}") from exc

    def _wake(self, queue: str) -> None:
        event = self._wakeups.get(queue)
        if event is not None:
            event.set()

    # Everything below runs on the executor thread only.

    def _db(self) -> sqlite3.Connection:
        if self._conn is None:
            raise BackendError("embedded bus is not open")
        return self._conn

    def _open_sync(self) -> int:
        self._path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
        lock_fd = _lock(self._path)
        mark_fd: int | None = None
        try:
            # Create the file owner-only before SQLite does: it gives the WAL and
            # shared-memory files the same mode, and queued payloads are private.
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, PRIVATE_FILE))
            for suffix in ("", "-wal", "-shm"):
                tighten(self._path.with_name(self._path.name + suffix))
            status = _status(self._path)  # before SQLite writes anything
            if status.missing or status.unverifiable:
                raise BackendError(
                    "embedded bus: " + _describe(status)
                    + "; run 'ramparts doctor' (or start with --accept-data-loss)"
                )
            conn = _connect(self._path)
            try:
                mark_fd = os.open(
                    _mark_path(self._path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE
                )
                accepted = _accepted(conn)
                if status.recorded != accepted:
                    # No sidecar yet, or the last commit beat its sidecar write to a crash.
                    _write_mark(mark_fd, accepted)
                # The lock proves no other process holds a lease, so every lease
                # in the file belongs to a dead process: hand them out again now.
                released = conn.execute(
                    "UPDATE messages SET lease_until = NULL WHERE lease_until IS NOT NULL"
                ).rowcount
            except BaseException:
                conn.close()
                raise
        except BaseException:
            if mark_fd is not None:
                os.close(mark_fd)
            os.close(lock_fd)
            raise
        self._conn, self._lock_fd, self._mark_fd = conn, lock_fd, mark_fd
        self._sync = "FULL"  # as _connect leaves it
        return released

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        lock_fd, self._lock_fd = self._lock_fd, None
        mark_fd, self._mark_fd = self._mark_fd, None
        try:
            if conn is not None:
                conn.close()
        finally:
            if mark_fd is not None:
                os.close(mark_fd)
            if lock_fd is not None:
                os.close(lock_fd)  # closing the descriptor drops the flock

    def _insert_sync(self, rows: list[tuple[str, str, bytes, str, float, float]]) -> None:
        conn = self._db()
        if self._sync != "FULL":
            # An accepted publish is fsynced before enqueue returns, always.
            conn.execute("PRAGMA synchronous=FULL")
            self._sync = "FULL"
        # One transaction: the whole batch becomes durable with one fsync, or none of it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            before = conn.total_changes
            conn.executemany(_INSERT, rows)
            inserted = conn.total_changes - before  # duplicates of queued ids are not counted
            accepted = (
                conn.execute(
                    "UPDATE bus_meta SET value = value + ? WHERE key = 'accepted' RETURNING value",
                    (inserted,),
                ).fetchone()[0]
                if inserted
                else None
            )
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")
        if accepted is not None and self._mark_fd is not None:
            # Only after the commit is durable: a sidecar ahead of the file means loss.
            _write_mark(self._mark_fd, accepted)

    def _relaxed(self) -> sqlite3.Connection:
        """The connection, set to commit without an fsync (see "Durability" above).

        Called before leases, acks, extends and retries; ``_insert_sync``
        sets ``FULL`` again before every enqueue.  Both pragmas are no-ops when
        the setting is already right, and they run between transactions only.
        """
        conn = self._db()
        if self._sync != "NORMAL":
            conn.execute("PRAGMA synchronous=NORMAL")
            self._sync = "NORMAL"
        return conn

    def _lease_sync(
        self, queue: str, limit: int, lease: float, now: float
    ) -> tuple[list[tuple[Any, ...]], float | None]:
        conn = self._relaxed()
        rows = conn.execute(
            _LEASE, {"queue": queue, "now": now, "until": now + lease, "limit": limit}
        ).fetchall()
        if rows:
            return rows, None
        return [], conn.execute(_NEXT_VISIBLE, (queue,)).fetchone()[0]

    def _extend_sync(self, seq: int, attempt: int, until: float) -> bool:
        # Only the live delivery (same attempt, still leased) may extend its lease.
        cursor = self._relaxed().execute(
            "UPDATE messages SET lease_until = ?"
            " WHERE seq = ? AND attempt = ? AND lease_until IS NOT NULL",
            (until, seq, attempt),
        )
        return cursor.rowcount == 1

    def _ack_many_sync(self, seqs: list[int]) -> None:
        # Deleted even if the lease expired meanwhile: the message *was* handled.
        conn = self._relaxed()
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany("DELETE FROM messages WHERE seq = ?", [(s,) for s in seqs])
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _retry_sync(self, seq: int, attempt: int, available_at: float) -> bool:
        cursor = self._relaxed().execute(
            "UPDATE messages SET available_at = ?, lease_until = NULL"
            " WHERE seq = ? AND attempt = ?",
            (available_at, seq, attempt),
        )
        return cursor.rowcount == 1

    def _depth_sync(self, queue: str) -> int:
        return self._db().execute(
            "SELECT COUNT(*) FROM messages WHERE queue = ?", (queue,)
        ).fetchone()[0]


# -- the accepted-count sidecar, and checks that run without opening the bus ----------------


def inspect_file(path: Path) -> AcceptedStatus:
    """Compare a bus file with its sidecar, read-only (safe while a node runs on it).

    Raises ``sqlite3.Error`` when the database cannot be read at all.
    """
    return _status(path)


def accept_loss(path: Path) -> AcceptedStatus:
    """Make the sidecar agree with the file again, after an operator accepted the loss.

    Returns what was accepted.  Takes the bus lock, so it fails while a node runs.
    """
    lock_fd = _lock(path)
    try:
        status = _status(path)
        conn = _connect(path)
        try:
            accepted = _accepted(conn)
            if status.recorded is not None and status.recorded > accepted:
                # Keep the count monotonic: numbers already handed out stay used.
                conn.execute(
                    "UPDATE bus_meta SET value = ? WHERE key = 'accepted'", (status.recorded,)
                )
                accepted = status.recorded
        finally:
            conn.close()
        fd = os.open(_mark_path(path), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
        try:
            _write_mark(fd, accepted)
        finally:
            os.close(fd)
        return status
    finally:
        os.close(lock_fd)


def describe_status(status: AcceptedStatus) -> str:
    """One sentence for an operator: what is wrong with a bus file's accepted count."""
    return _describe(status)


def _describe(status: AcceptedStatus) -> str:
    if status.mark_damaged:
        return "its accepted-message count file is damaged, so lost messages cannot be counted"
    if status.recorded is None and status.present > 0:
        return (
            f"its accepted-message count file is missing ({status.present} messages were "
            "accepted), so lost messages cannot be counted"
        )
    return (
        f"{status.missing} accepted messages are missing (accepted, then lost from the file; "
        "any handled before the crash count too)"
    )


def _lock(path: Path) -> int:
    lock_fd = os.open(f"{path}.lock", os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE)
    try:
        fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError as exc:
        os.close(lock_fd)
        raise BackendError(
            "embedded bus database is in use by another process;"
            " only one node may open it (use Redis or NATS for several nodes)"
        ) from exc
    return lock_fd


def _connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, timeout=10.0)
    try:
        mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
        if str(mode).lower() != "wal":
            raise BackendError(f"embedded bus: could not enable WAL (got {mode!r})")
        conn.execute("PRAGMA synchronous=FULL")
        conn.executescript(_SCHEMA)
    except BaseException:
        conn.close()
        raise
    return conn


def _accepted(conn: sqlite3.Connection) -> int:
    has_meta = conn.execute(
        "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'bus_meta'"
    ).fetchone()
    if not has_meta:
        return 0  # a file from before the count existed, or one that lost its schema
    row = conn.execute("SELECT value FROM bus_meta WHERE key = 'accepted'").fetchone()
    return int(row[0]) if row else 0


def _status(path: Path) -> AcceptedStatus:
    # The sidecar first: it is written after each commit, so reading it before the
    # database can only make the database look ahead (fine), never behind.
    recorded: int | None
    damaged = False
    try:
        raw = _mark_path(path).read_bytes()
    except FileNotFoundError:
        recorded = None
    else:
        recorded = _parse_mark(raw)
        damaged = recorded is None and bool(raw)  # an empty sidecar was never written to
    if not path.exists() or path.stat().st_size == 0 and not Path(f"{path}-wal").exists():
        return AcceptedStatus(recorded, 0, damaged)
    conn = sqlite3.connect(f"file:{quote(str(path))}?mode=ro", uri=True, timeout=10.0)
    try:
        present = _accepted(conn)
    finally:
        conn.close()
    return AcceptedStatus(recorded, present, damaged)


def _mark_path(path: Path) -> Path:
    return path.with_name(path.name + _ACCEPTED_SUFFIX)


def _parse_mark(raw: bytes) -> int | None:
    if len(raw) != _MARK.size:
        return None
    magic, value, crc = _MARK.unpack(raw)
    if magic != _MARK_MAGIC or zlib.crc32(raw[:16]) != crc:
        return None
    return int(value)


def _write_mark(fd: int, value: int) -> None:
    head = struct.pack(">8sQ", _MARK_MAGIC, value)
    record = head + struct.pack(">I", zlib.crc32(head))
    # One write of 20 bytes at offset 0: well inside one sector, so it lands whole.
    os.pwrite(fd, record, 0)
    os.fdatasync(fd)


def _receipt(message: Message) -> tuple[int, int]:
    receipt = message.receipt
    if (
        not isinstance(receipt, tuple)
        or len(receipt) != 2
        or not all(isinstance(x, int) for x in receipt)
    ):
        raise InvalidRequest("message was not received from an embedded bus")
    return receipt

