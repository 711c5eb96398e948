"""Background re-wrap: move every stored record's data key to the current KEK.

After ``ramparts encryption rotate`` new records are sealed under the new
KEK at once; this job walks every table holding sealed records in primary
key order and re-wraps each record's 48-byte data key (the data itself is
not re-encrypted).  Each row is updated on its own with a compare-and-swap
(``WHERE pk = ... AND value = <what we read>``), so a concurrent write is
never overwritten and a row is always either wholly old or wholly new: a
node killed at any moment leaves no unreadable record.  The job's cursor
and counters are saved after every batch in ``crypto_rewrap_jobs``, so a
restarted node resumes where it stopped.

Bus messages are not re-wrapped (queues are transient and the backends
offer no in-place update); retiring a KEK therefore also waits for the
queues to drain (see the control API).
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Table, and_, func, insert, select, tuple_, update
from sqlalchemy.engine import Engine

from ramparts.aio import wait_event
from ramparts.crypto.appkeys import appkeys_metadata, kms_app_keys_t
from ramparts.crypto.envelope import Sealer, text_record
from ramparts.crypto.keyring import Keyring, rewrap_jobs_t
from ramparts.crypto.signing import signing_keys_t as version_signing_keys_t
from ramparts.crypto.signing import signing_metadata
from ramparts.errors import DecryptionError
from ramparts.identity.records import identity_meta_t, signing_keys_t
from ramparts.secrets.store import secret_versions_t
from ramparts.store.sql import dead_letters_t, invocations_t, kv_t, objects_t, outbox_t

log = logging.getLogger("ramparts.crypto.rewrap")


@dataclass(frozen=True)
class Target:
    table: Table
    column: str
    keys: tuple[str, ...]
    text: bool = False  # base64 "enc1:" text column (invocation logs)

    @property
    def name(self) -> str:
        return f"{self.table.name}.{self.column}"

    def sealed(self) -> Any:
        """The rows that hold a sealed record.  A text column also holds ``""`` where there
        was nothing to seal (an invocation without logs): that is not a record to re-wrap,
        and counting it as one made every job report it as failed."""
        col = self.table.c[self.column]
        return and_(col.is_not(None), col != "") if self.text else col.is_not(None)


TARGETS: tuple[Target, ...] = (
    Target(kv_t, "value", ("app", "tbl", "key")),
    Target(objects_t, "data", ("app", "bucket", "key")),
    Target(outbox_t, "body", ("seq",)),
    Target(secret_versions_t, "value", ("app", "name", "version")),
    Target(invocations_t, "logs", ("seq",), text=True),
    Target(invocations_t, "error_message", ("seq",), text=True),
    Target(dead_letters_t, "error", ("seq",), text=True),
    Target(signing_keys_t, "private_pem", ("kid",), text=True),
    Target(identity_meta_t, "text", ("key",), text=True),
    Target(kms_app_keys_t, "material", ("app", "key_id")),
    # the version-signing key: without it a node cannot start once its KEK is retired
    Target(version_signing_keys_t, "sealed", ("purpose",)),
)


def _int_env(name: str, default: int) -> int:
    try:
        return max(1, int(os.environ.get(name, default)))
    except ValueError:
        return default


def _float_env(name: str, default: float) -> float:
    try:
        return max(0.0, float(os.environ.get(name, default)))
    except ValueError:
        return default


class Rewrapper:
    """Runs re-wrap jobs in the background of a node; one batch per transaction."""

    def __init__(self, engine: Engine, keyring: Keyring, sealer: Sealer) -> None:
        self._engine = engine
        self._keyring = keyring
        self._sealer = sealer
        # Tables that are targets before their first row (the signer's is made after the vault).
        appkeys_metadata.create_all(engine)
        signing_metadata.create_all(engine)
        # Operators can slow the job down on a busy node (rows per batch, pause between batches).
        self.batch = _int_env("RAMPARTS_REWRAP_BATCH", 200)
        self.pause = _float_env("RAMPARTS_REWRAP_PAUSE", 0.0)
        # How often this node reloads the KEKs (another node may have rotated) and looks
        # for a job.  An old KEK is retired only after every node has had time to load
        # its successor, so the grace period follows from it.  Use one value cluster-wide.
        self.interval = max(0.05, _float_env("RAMPARTS_KEYRING_REFRESH", 2.0))
        self.retire_grace = 2.5 * self.interval
        self._task: asyncio.Task[None] | None = None
        self._wake = asyncio.Event()

    # -- jobs ------------------------------------------------------------------------------
    def start_job(self, target: str) -> dict[str, Any]:
        """Record a new job moving everything to KEK ``target`` (supersedes a running one)."""
        with self._engine.begin() as conn:
            total = 0
            for t in TARGETS:
                total += conn.execute(
                    select(func.count()).select_from(t.table).where(t.sealed())
                ).scalar_one()
            conn.execute(
                update(rewrap_jobs_t)
                .where(rewrap_jobs_t.c.state == "running")
                .values(state="superseded", finished_at=time.time())
            )
            conn.execute(
                insert(rewrap_jobs_t).values(
                    target=target,
                    state="running",
                    phase=0,
                    cursor=None,
                    processed=0,
                    rewrapped=0,
                    failed=0,
                    total=total,
                    started_at=time.time(),
                )
            )
        self._wake.set()
        return self.status() or {}

    def status(self) -> dict[str, Any] | None:
        with self._engine.begin() as conn:
            row = conn.execute(
                select(rewrap_jobs_t).order_by(rewrap_jobs_t.c.id.desc()).limit(1)
            ).first()
        if row is None:
            return None
        return {
            "id": row.id,
            "target": row.target,
            "state": row.state,
            "phase": TARGETS[row.phase].name if row.phase < len(TARGETS) else "done",
            "processed": row.processed,
            "rewrapped": row.rewrapped,
            "failed": row.failed,
            "total": row.total,
            "started_at": row.started_at,
            "finished_at": row.finished_at,
        }

    def _running(self) -> Any:
        with self._engine.begin() as conn:
            return conn.execute(
                select(rewrap_jobs_t)
                .where(rewrap_jobs_t.c.state == "running")
                .order_by(rewrap_jobs_t.c.id.desc())
                .limit(1)
            ).first()

    def step(self) -> bool:
        """Do one batch of the running job; False when there is nothing left to do."""
        job = self._running()
        if job is None:
            return False
        if job.phase >= len(TARGETS):
            self._save(job.id, phase=job.phase, state="done", finished_at=time.time())
            return False
        target = TARGETS[job.phase]
        keys = [target.table.c[k] for k in target.keys]
        col = target.table.c[target.column]
        stmt = select(*keys, col).where(target.sealed())
        cursor = json.loads(job.cursor) if job.cursor else None
        if cursor is not None:
            stmt = stmt.where(tuple_(*keys) > tuple_(*cursor))
        with self._engine.begin() as conn:
            rows = conn.execute(stmt.order_by(*keys).limit(self.batch)).all()
        if not rows:
            self._save(job.id, phase=job.phase + 1, cursor=None)
            return True
        rewrapped = failed = 0
        for row in rows:
            pk = tuple(row[: len(keys)])
            value = row[len(keys)]
            try:
                new = self._rewrap(value, job.target, target.text)
            except DecryptionError as exc:
                failed += 1
                log.error("re-wrap: %s %s cannot be opened (%s)", target.name, pk, exc.code)
                continue
            if new is None:
                continue
            where = and_(*(k == v for k, v in zip(keys, pk, strict=True)), col == value)
            with self._engine.begin() as conn:
                # Compare-and-swap: a row rewritten meanwhile is already under the new KEK.
                rewrapped += conn.execute(
                    update(target.table).where(where).values({target.column: new})
                ).rowcount
        last = [v for v in rows[-1][: len(keys)]]
        self._save(
            job.id,
            phase=job.phase,
            cursor=json.dumps(last),
            processed=job.processed + len(rows),
            rewrapped=job.rewrapped + rewrapped,
            failed=job.failed + failed,
        )
        return True

    def _rewrap(self, value: Any, kek: str, text: bool) -> Any:
        if text:
            import base64

            new = self._sealer.rewrap(text_record(value), kek)
            return None if new is None else "enc1:" + base64.b64encode(new).decode()
        return self._sealer.rewrap(bytes(value), kek)

    def _save(self, job_id: int, **values: Any) -> None:
        with self._engine.begin() as conn:
            conn.execute(
                update(rewrap_jobs_t)
                .where(and_(rewrap_jobs_t.c.id == job_id, rewrap_jobs_t.c.state == "running"))
                .values(**values)
            )

    def remaining(self, kek_id: str) -> int:
        """Records still sealed under ``kek_id`` (a full scan of headers; used before retiring)."""
        count = 0
        for t in TARGETS:
            col = t.table.c[t.column]
            with self._engine.begin() as conn:
                for (value,) in conn.execute(select(col).where(t.sealed())):
                    try:
                        record = text_record(value) if t.text else bytes(value)
                        if Sealer.kek_of(record) == kek_id:
                            count += 1
                    except DecryptionError:
                        continue
        return count

    # -- the background task -----------------------------------------------------------------
    def start(self) -> None:
        self._task = asyncio.get_running_loop().create_task(self._run(), name="kek-rewrap")

    def kick(self) -> None:
        self._wake.set()

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.to_thread(self._keyring.refresh)  # KEKs rotated by other nodes
                while await asyncio.to_thread(self.step):
                    if self.pause:
                        await asyncio.sleep(self.pause)
            except asyncio.CancelledError:
                raise
            except Exception:
                log.exception("re-wrap failed; will retry")
            await wait_event(self._wake, self.interval)
            self._wake.clear()

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
