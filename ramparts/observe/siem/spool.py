"""A destination's bounded on-disk queue of records not yet delivered.

One SQLite file per destination under ``<data dir>/siem/`` (named after the
URL, so a restart finds its backlog).  Rows are taken oldest first and
deleted only after the destination accepted them: a crash between sending
and deleting sends them again (receivers dedup on the record id).

The bound is on the stored record bytes.  When a new batch would pass it,
the oldest rows are dropped until it fits, and the caller is told how many
went, and how many of those were the exporter's own ``siem.*`` reports (it
counts them all, and audits the loss of the others: a report of a lost
report would feed on itself): a long outage keeps the newest records, never
blocks the audit writer and never fills the disk.
"""

from __future__ import annotations

import os
import sqlite3
import threading
from pathlib import Path

from ramparts.errors import StorageError

_OLDEST = (
    "SELECT seq, length(body), CASE WHEN json_valid(CAST(body AS TEXT))"
    " THEN COALESCE(json_extract(CAST(body AS TEXT), '$.kind'), '') LIKE 'siem.%' END"
    " FROM spool ORDER BY seq LIMIT 512"
)


class Spool:
    def __init__(self, path: Path, limit_bytes: int) -> None:
        self.path = path
        self.limit = limit_bytes
        self._lock = threading.Lock()
        try:
            fd = os.open(path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
            os.close(fd)
            self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # WAL: survives a process crash
            self._db.execute(
                "CREATE TABLE IF NOT EXISTS spool (seq INTEGER PRIMARY KEY AUTOINCREMENT,"
                " body BLOB NOT NULL)"
            )
            row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM spool")
            self.count, self.bytes = row.fetchone()
        except (OSError, sqlite3.Error) as exc:
            raise StorageError(f"cannot open the SIEM spool {path}: {exc}") from exc

    def put(self, bodies: list[bytes]) -> tuple[int, int]:
        """Append ``bodies``; returns how many of the oldest rows were dropped to fit, and
        how many of those were ``siem.*`` records."""
        with self._lock:
            db = self._db
            db.execute("BEGIN IMMEDIATE")
            try:
                db.executemany("INSERT INTO spool (body) VALUES (?)", [(b,) for b in bodies])
                # Counted in locals and published after the commit: a status read in the
                # middle never shows the spool over its limit.
                count = self.count + len(bodies)
                nbytes = self.bytes + sum(len(b) for b in bodies)
                dropped = reports = 0
                while nbytes > self.limit and count:
                    rows = db.execute(_OLDEST).fetchall()
                    last = None
                    for seq, size, report in rows:
                        if nbytes <= self.limit:
                            break
                        last = seq
                        nbytes -= size
                        count -= 1
                        dropped += 1
                        reports += bool(report)
                    if last is not None:
                        db.execute("DELETE FROM spool WHERE seq <= ?", (last,))
                db.execute("COMMIT")
                self.count, self.bytes = count, nbytes
            except BaseException:
                db.execute("ROLLBACK")
                self._recount()
                raise
            return dropped, reports

    def size(self) -> tuple[int, int]:
        """(rows, bytes) as of the last finished write, read together."""
        with self._lock:
            return self.count, self.bytes

    def peek(self, limit: int) -> list[tuple[int, bytes]]:
        """Up to ``limit`` of the oldest rows, (seq, body), left in place."""
        with self._lock:
            return self._db.execute(
                "SELECT seq, body FROM spool ORDER BY seq LIMIT ?", (limit,)
            ).fetchall()

    def ack(self, last_seq: int) -> None:
        """The destination took every row up to ``last_seq``: delete them."""
        with self._lock:
            self._db.execute("DELETE FROM spool WHERE seq <= ?", (last_seq,))
            self._recount()

    def remove(self, seqs: list[int]) -> None:
        """The destination took (or refused for good) these rows, not others: delete them."""
        if not seqs:
            return
        with self._lock:
            self._db.executemany("DELETE FROM spool WHERE seq = ?", [(s,) for s in seqs])
            self._recount()

    def _recount(self) -> None:
        row = self._db.execute("SELECT COUNT(*), COALESCE(SUM(length(body)), 0) FROM spool")
        self.count, self.bytes = row.fetchone()

    def close(self) -> None:
        with self._lock:
            self._db.close()
