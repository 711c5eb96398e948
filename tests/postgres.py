"""Throwaway state stores for tests: a SQLite file, or a fresh PostgreSQL database.

PostgreSQL runs on localhost on this machine kind; where it does not, tests that
need it skip with the reason instead of failing.  Each database is created for
one test and dropped after it, so tests never see each other's rows.
"""

from __future__ import annotations

import socket
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"


def reachable(port: int = 5432) -> bool:
    """Whether something listens on 127.0.0.1:``port``."""
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=0.5):
            return True
    except OSError:
        return False


@contextmanager
def temporary_database() -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database, dropped afterwards (skips if absent)."""
    if not reachable(5432):
        pytest.skip("PostgreSQL not reachable on 127.0.0.1:5432")
    import psycopg

    name = f"ramparts_test_{uuid.uuid4().hex[:10]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def state_url(kind: str, tmp_path: Path) -> Iterator[str]:
    """A state URL of ``kind`` ("sqlite" or "postgresql"/"postgres") for one test."""
    if kind == "sqlite":
        yield f"sqlite:///{tmp_path / 'state.db'}"
        return
    with temporary_database() as url:
        yield url
