"""Row helpers shared by every package that keeps its own tables in the state store.

The registry (``ramparts.store.sql``), identity and incident response each keep
tables in the node's state store.  They run transactions the same way (library
errors become one fixed ``BackendError``, so callers never see paths or hosts),
keep generation counters the same way (one numbered row of a meta table, bumped
in the transaction that made the change, so other nodes can poll one row) and
bring a store made by an older release up to date the same way (additive
``ALTER TABLE``, tolerant of another node doing it first).  This module is that
one way, so a fix to it reaches all three.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager

from sqlalchemy import Table, insert, inspect, select, text, update
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ramparts.errors import BackendError

__all__ = ["Counter", "add_missing_columns", "cause", "transaction"]

Transaction = Callable[[], AbstractContextManager[Connection]]


def cause(exc: SQLAlchemyError) -> str:
    """The driver's own reason ("database disk image is malformed"), first line only."""
    orig = getattr(exc, "orig", None)
    lines = str(orig if orig is not None else exc).strip().splitlines()
    return lines[0] if lines else type(exc).__name__


@contextmanager
def transaction(
    engine: Engine,
    *,
    passthrough: tuple[type[BaseException], ...] = (IntegrityError,),
    log: logging.Logger | None = None,
) -> Iterator[Connection]:
    """One transaction; a library failure becomes ``BackendError("the state store failed")``.

    Exceptions in ``passthrough`` (a unique-key clash by default) reach the
    caller unchanged because callers act on them (a race lost to another
    node).  With ``log`` the operator sees the driver's reason, which callers
    never do.
    """
    try:
        with engine.begin() as conn:
            yield conn
    except passthrough:
        raise
    except SQLAlchemyError as exc:
        if log is not None:
            log.error("state store operation failed: %s", cause(exc))
        raise BackendError("the state store failed") from exc


class Counter:
    """A generation counter: the row ``key`` of a meta table with a ``key`` column.

    A change bumps it in its own transaction; other nodes read this one row to
    learn whether what they cached is still current.
    """

    def __init__(self, table: Table, key: str, column: str = "num") -> None:
        self._key_col = table.c.key
        self._num_col = table.c[column]
        self._table = table
        self._column = column
        self.key = key

    def ensure(self, tx: Transaction) -> None:
        """Create the row at 0 if the store lacks it (a new store, or one made earlier)."""
        try:
            with tx() as conn:
                found = conn.execute(select(self._num_col).where(self._key_col == self.key))
                if found.first() is None:
                    conn.execute(insert(self._table).values({"key": self.key, self._column: 0}))
        except IntegrityError:
            pass  # another node created the row between our check and insert

    def bump(self, conn: Connection) -> None:
        conn.execute(
            update(self._table)
            .where(self._key_col == self.key)
            .values({self._column: self._num_col + 1})
        )

    def read(self, tx: Transaction) -> int:
        with tx() as conn:
            return int(
                conn.execute(select(self._num_col).where(self._key_col == self.key)).scalar_one()
            )


def add_missing_columns(engine: Engine, table: str, columns: dict[str, str]) -> None:
    """Add the ``columns`` (name -> SQL type) a table made by an older release lacks.

    Additive only, so an older node sharing the store keeps working.  Names
    and types come from our own schemas, never from input.
    """
    have = {c["name"] for c in inspect(engine).get_columns(table)}
    for name, sql_type in columns.items():
        if name in have:
            continue
        try:
            with engine.begin() as conn:
                conn.execute(text(f"ALTER TABLE {table} ADD COLUMN {name} {sql_type}"))
        except SQLAlchemyError:
            # Another node added it meanwhile; anything else shows up below.
            have = {c["name"] for c in inspect(engine).get_columns(table)}
            if name not in have:
                raise
