"""The embedded durable queue: the default bus of a single node, on SQLite.

URL: ``embedded:///absolute/path/bus.db``.  ``ramparts up`` puts it under the
data dir; topic publishes are fanned out into it and the dispatcher leases
from it, so it is what "an accepted event survives a crash" rests on when no
Redis or NATS is configured.

How the guarantees of ``ramparts.bus.base`` are met:

* Durability: WAL journal with ``synchronous=FULL``, so every committed
  transaction is fsynced before ``enqueue`` returns; an enqueue that returned
  survives ``kill -9`` of the process (and a power cut).
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
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import logging
import os
import sqlite3
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar
from urllib.parse import unquote, urlsplit

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
"""

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
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(wakeup.wait(), pause)

    async def extend(self, message: Message, *, lease: float) -> bool:
        seq, attempt = _receipt(message)
        check_receive_args(1, lease, 0.0)
        return await self._run(self._extend_sync, seq, attempt, time.time() + lease)

    async def ack(self, message: Message) -> None:
        seq, _attempt = _receipt(message)
        await self._run(self._ack_sync, seq)

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
        lock_fd = os.open(f"{self._path}.lock", os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            os.close(lock_fd)
            raise BackendError(
                "embedded bus database is in use by another process;"
                " only one node may open it (use Redis or NATS for several nodes)"
            ) from exc
        try:
            # Create the file owner-only before SQLite does: it gives the WAL and
            # shared-memory files the same mode, and queued payloads are private.
            os.close(os.open(self._path, os.O_RDWR | os.O_CREAT, 0o600))
            conn = sqlite3.connect(self._path, isolation_level=None, timeout=10.0)
            try:
                mode = conn.execute("PRAGMA journal_mode=WAL").fetchone()[0]
                if str(mode).lower() != "wal":
                    raise BackendError(f"embedded bus: could not enable WAL (got {mode!r})")
                conn.execute("PRAGMA synchronous=FULL")
                conn.executescript(_SCHEMA)
                # The lock proves no other process holds a lease, so every lease
                # in the file belongs to a dead process: hand them out again now.
                released = conn.execute(
                    "UPDATE messages SET lease_until = NULL WHERE lease_until IS NOT NULL"
                ).rowcount
            except BaseException:
                conn.close()
                raise
        except BaseException:
            os.close(lock_fd)
            raise
        self._conn, self._lock_fd = conn, lock_fd
        return released

    def _close_sync(self) -> None:
        conn, self._conn = self._conn, None
        lock_fd, self._lock_fd = self._lock_fd, None
        try:
            if conn is not None:
                conn.close()
        finally:
            if lock_fd is not None:
                os.close(lock_fd)  # closing the descriptor drops the flock

    def _insert_sync(self, rows: list[tuple[str, str, bytes, str, float, float]]) -> None:
        conn = self._db()
        # One transaction: the whole batch becomes durable with one fsync, or none of it.
        conn.execute("BEGIN IMMEDIATE")
        try:
            conn.executemany(_INSERT, rows)
        except BaseException:
            conn.execute("ROLLBACK")
            raise
        conn.execute("COMMIT")

    def _lease_sync(
        self, queue: str, limit: int, lease: float, now: float
    ) -> tuple[list[tuple[Any, ...]], float | None]:
        conn = self._db()
        rows = conn.execute(
            _LEASE, {"queue": queue, "now": now, "until": now + lease, "limit": limit}
        ).fetchall()
        if rows:
            return rows, None
        return [], conn.execute(_NEXT_VISIBLE, (queue,)).fetchone()[0]

    def _extend_sync(self, seq: int, attempt: int, until: float) -> bool:
        # Only the live delivery (same attempt, still leased) may extend its lease.
        cursor = self._db().execute(
            "UPDATE messages SET lease_until = ?"
            " WHERE seq = ? AND attempt = ? AND lease_until IS NOT NULL",
            (until, seq, attempt),
        )
        return cursor.rowcount == 1

    def _ack_sync(self, seq: int) -> None:
        # Deleted even if the lease expired meanwhile: the message *was* handled.
        self._db().execute("DELETE FROM messages WHERE seq = ?", (seq,))

    def _retry_sync(self, seq: int, attempt: int, available_at: float) -> bool:
        cursor = self._db().execute(
            "UPDATE messages SET available_at = ?, lease_until = NULL"
            " WHERE seq = ? AND attempt = ?",
            (available_at, seq, attempt),
        )
        return cursor.rowcount == 1

    def _depth_sync(self, queue: str) -> int:
        return self._db().execute(
            "SELECT COUNT(*) FROM messages WHERE queue = ?", (queue,)
        ).fetchone()[0]


def _receipt(message: Message) -> tuple[int, int]:
    receipt = message.receipt
    if (
        not isinstance(receipt, tuple)
        or len(receipt) != 2
        or not all(isinstance(x, int) for x in receipt)
    ):
        raise InvalidRequest("message was not received from an embedded bus")
    return receipt

