"""Where incident response keeps its state: quarantines, playbooks and incidents.

The tables sit in the node's state store (SQLite or PostgreSQL, the engine the
registry uses), so every node of a cluster sees the same quarantines and the
same incidents.  Quarantine changes bump ``quarantine_generation`` in the same
transaction; nodes poll that one row and reload the (small) list when it moved.

Playbooks are stored as the YAML text an operator applied (validated before it
is stored); incidents as one JSON document each (state, owner, timeline, steps),
with the columns a listing filters on beside it.
"""

from __future__ import annotations

import json
import time
from contextlib import AbstractContextManager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError

from ramparts.store.rows import Counter, transaction

metadata = MetaData()

respond_meta_t = Table(
    "respond_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("num", Integer, nullable=False, default=0),
)
quarantines_t = Table(
    "quarantines",
    metadata,
    Column("function", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("incident", String(32), nullable=False, default=""),
)
# Run-time limits lowered during an incident (``lower_rate`` / ``lower_concurrency``).
function_limits_t = Table(
    "function_limits",
    metadata,
    Column("function", String(64), primary_key=True),
    Column("rate", String(32)),  # NULL: the manifest's rate only
    Column("concurrency", Integer),  # NULL: the manifest's cap only
    Column("created_at", Float, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("incident", String(32), nullable=False, default=""),
)
playbooks_t = Table(
    "playbooks",
    metadata,
    Column("name", String(64), primary_key=True),
    Column("source", Text, nullable=False),  # the YAML text as applied
    Column("file", String(300), nullable=False),
    Column("updated_at", Float, nullable=False),
)
incidents_t = Table(
    "incidents",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("opened_at", Float, nullable=False, index=True),
    Column("state", String(16), nullable=False),
    Column("join_key", String(400), nullable=False, index=True),  # rule + function
    Column("doc", Text, nullable=False),
)

_GENERATION = "quarantine_generation"


@dataclass(frozen=True)
class QuarantineRecord:
    function: str
    created_at: float
    reason: str
    actor: str
    incident: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "created_at": self.created_at,
            "reason": self.reason,
            "actor": self.actor,
            "incident": self.incident or None,
        }


@dataclass(frozen=True)
class LimitRecord:
    """A function's lowered limits: ``rate`` (``10/minute``) and/or ``concurrency``."""

    function: str
    rate: str | None
    concurrency: int | None
    created_at: float
    actor: str
    incident: str

    def to_dict(self) -> dict[str, Any]:
        return {
            "function": self.function,
            "rate": self.rate,
            "concurrency": self.concurrency,
            "created_at": self.created_at,
            "actor": self.actor,
            "incident": self.incident or None,
        }


class ResponseRecords:
    """Synchronous access to the response tables; callers run it in a worker thread."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._generation = Counter(respond_meta_t, _GENERATION)
        try:
            metadata.create_all(engine)
            self._generation.ensure(self._tx)
        except IntegrityError:
            pass  # another node created the tables meanwhile

    def _tx(self) -> AbstractContextManager[Connection]:
        return transaction(self._engine)

    # -- quarantines ----------------------------------------------------------------------------
    def quarantine_generation(self) -> int:
        return self._generation.read(self._tx)

    def quarantine_put(self, record: QuarantineRecord) -> bool:
        """Quarantine a function; False if it already was (the first reason stays)."""
        try:
            with self._tx() as conn:
                conn.execute(
                    insert(quarantines_t).values(
                        function=record.function,
                        created_at=record.created_at,
                        reason=record.reason,
                        actor=record.actor,
                        incident=record.incident,
                    )
                )
                self._generation.bump(conn)
        except IntegrityError:
            return False
        return True

    def quarantine_delete(self, function: str) -> QuarantineRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(quarantines_t).where(quarantines_t.c.function == function)
            ).first()
            if row is None:
                return None
            conn.execute(delete(quarantines_t).where(quarantines_t.c.function == function))
            self._generation.bump(conn)
        return _quarantine(row)

    def quarantine_list(self) -> list[QuarantineRecord]:
        with self._tx() as conn:
            rows = conn.execute(select(quarantines_t).order_by(quarantines_t.c.created_at)).all()
        return [_quarantine(r) for r in rows]

    # -- lowered limits (same generation counter: nodes reload both lists together) -----------
    def limit_put(self, record: LimitRecord) -> LimitRecord:
        """Lower a function's limits; a field left None keeps what an earlier lowering set."""
        with self._tx() as conn:
            row = conn.execute(
                select(function_limits_t).where(function_limits_t.c.function == record.function)
            ).first()
            merged = LimitRecord(
                function=record.function,
                rate=record.rate or (row.rate if row is not None else None),
                concurrency=record.concurrency
                if record.concurrency is not None
                else (row.concurrency if row is not None else None),
                created_at=record.created_at,
                actor=record.actor,
                incident=record.incident,
            )
            conn.execute(
                delete(function_limits_t).where(function_limits_t.c.function == record.function)
            )
            conn.execute(
                insert(function_limits_t).values(
                    function=merged.function,
                    rate=merged.rate,
                    concurrency=merged.concurrency,
                    created_at=merged.created_at,
                    actor=merged.actor,
                    incident=merged.incident,
                )
            )
            self._generation.bump(conn)
        return merged

    def limit_delete(self, function: str) -> LimitRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(function_limits_t).where(function_limits_t.c.function == function)
            ).first()
            if row is None:
                return None
            conn.execute(delete(function_limits_t).where(function_limits_t.c.function == function))
            self._generation.bump(conn)
        return _limit(row)

    def limit_list(self) -> list[LimitRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(function_limits_t).order_by(function_limits_t.c.created_at)
            ).all()
        return [_limit(r) for r in rows]

    # -- playbooks ------------------------------------------------------------------------------
    def playbook_put(self, name: str, source: str, file: str) -> bool:
        """Store (or replace) a playbook's YAML; True if one of that name was replaced."""
        with self._tx() as conn:
            gone = conn.execute(delete(playbooks_t).where(playbooks_t.c.name == name)).rowcount
            conn.execute(
                insert(playbooks_t).values(
                    name=name, source=source, file=file[:300], updated_at=time.time()
                )
            )
        return bool(gone)

    def playbook_delete(self, name: str) -> bool:
        with self._tx() as conn:
            return bool(
                conn.execute(delete(playbooks_t).where(playbooks_t.c.name == name)).rowcount
            )

    def playbook_list(self) -> list[tuple[str, str, str, float]]:
        """(name, source, file, updated_at) of every playbook, by name."""
        with self._tx() as conn:
            rows = conn.execute(select(playbooks_t).order_by(playbooks_t.c.name)).all()
        return [(r.name, r.source, r.file, r.updated_at) for r in rows]

    # -- incidents ------------------------------------------------------------------------------
    def incident_put(self, doc: dict[str, Any]) -> None:
        """Insert or replace one incident document (keyed by its ``id``)."""
        values = {
            "state": doc["state"],
            "join_key": doc["join_key"][:400],
            "doc": json.dumps(doc, sort_keys=True, default=str),
        }
        with self._tx() as conn:
            done = conn.execute(
                update(incidents_t).where(incidents_t.c.id == doc["id"]).values(**values)
            ).rowcount
            if not done:
                conn.execute(
                    insert(incidents_t).values(id=doc["id"], opened_at=doc["opened_at"], **values)
                )

    def incident_get(self, incident_id: str) -> dict[str, Any] | None:
        with self._tx() as conn:
            row = conn.execute(
                select(incidents_t.c.doc).where(incidents_t.c.id == incident_id)
            ).first()
        return None if row is None else dict(json.loads(row.doc))

    def incident_open_for(self, join_key: str) -> dict[str, Any] | None:
        """The newest incident for this rule and function that is not resolved."""
        with self._tx() as conn:
            row = conn.execute(
                select(incidents_t.c.doc)
                .where(incidents_t.c.join_key == join_key[:400])
                .where(incidents_t.c.state != "resolved")
                .order_by(incidents_t.c.seq.desc())
                .limit(1)
            ).first()
        return None if row is None else dict(json.loads(row.doc))

    def incident_list(self, state: str | None, limit: int) -> list[dict[str, Any]]:
        stmt = select(incidents_t.c.doc)
        if state is not None:
            stmt = stmt.where(incidents_t.c.state == state)
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(incidents_t.c.seq.desc()).limit(limit)).all()
        return [dict(json.loads(r.doc)) for r in rows]


def _limit(row: Any) -> LimitRecord:
    return LimitRecord(
        function=row.function,
        rate=row.rate,
        concurrency=row.concurrency,
        created_at=row.created_at,
        actor=row.actor,
        incident=row.incident or "",
    )


def _quarantine(row: Any) -> QuarantineRecord:
    return QuarantineRecord(
        function=row.function,
        created_at=row.created_at,
        reason=row.reason,
        actor=row.actor,
        incident=row.incident or "",
    )
