"""The secret store: encrypted, versioned secrets in the state store.

Each version of a secret is a sealed record (AAD ``secret\\0name\\0version``)
in ``secret_versions``; ``secret_names`` tracks the current version and the
deletion state.  Deleting starts a recovery window: the secret stops being
readable at once, can be restored until the window ends, and is purged
(every version's row removed) after it.  Names are checked strictly (no
path separators, no control characters, no leading dot) and values are
limited to 64 KiB, like AWS Secrets Manager.

Every value this store reveals or stores is registered with the node's
redactor, so it is masked if it ever shows up in a log line.
"""

from __future__ import annotations

import re
import time
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    and_,
    delete,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine

from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import InvalidRequest, NotFound
from ramparts.observe.redact import redactor
from ramparts.secrets import SecretSource, SecretValue

MAX_SECRET_BYTES = 64 * 1024
DEFAULT_RECOVERY_DAYS = 7
MAX_RECOVERY_DAYS = 30
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")

secrets_metadata = MetaData()
secret_names_t = Table(
    "secret_names",
    secrets_metadata,
    Column("name", String(128), primary_key=True),
    Column("current", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("deleted_at", Float),
    Column("purge_at", Float),
)
secret_versions_t = Table(
    "secret_versions",
    secrets_metadata,
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("source", String(16), nullable=False),  # set | rotate | hook | generate
    Column("created_at", Float, nullable=False),
)


def check_name(name: Any) -> str:
    """A secret name, or ``InvalidRequest`` naming what is wrong with it."""
    if not isinstance(name, str) or not NAME_RE.match(name) or ".." in name:
        raise InvalidRequest(
            "secret names are 1 to 128 letters, digits, '.', '_' or '-', starting with a "
            "letter or digit (no '/', '..' or control characters)",
            code="invalid_secret_name",
        )
    return name


def check_value(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest("a secret value must be non-empty text", code="invalid_secret_value")
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise InvalidRequest(
            f"a secret value is at most {MAX_SECRET_BYTES // 1024} KiB", code="secret_too_large"
        )
    return value


def _context(name: str, version: int) -> bytes:
    return aad("secret", name, str(version))


class SecretStore(SecretSource):
    """Versioned secrets sealed by ``sealer`` in the store behind ``engine``."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        secrets_metadata.create_all(engine)

    # -- the SecretSource contract ----------------------------------------------------------
    def get(self, name: str) -> SecretValue | None:
        try:
            check_name(name)
        except InvalidRequest:
            return None
        self._purge_expired()
        with self._engine.begin() as conn:
            row = conn.execute(
                select(secret_names_t.c.current, secret_names_t.c.deleted_at).where(
                    secret_names_t.c.name == name
                )
            ).first()
            if row is None or row.deleted_at is not None:
                return None
            blob = conn.execute(
                select(secret_versions_t.c.value).where(
                    and_(
                        secret_versions_t.c.name == name,
                        secret_versions_t.c.version == row.current,
                    )
                )
            ).scalar()
        if blob is None:
            return None
        value = self._sealer.open(bytes(blob), _context(name, row.current)).decode()
        redactor.add_secret(value)
        return SecretValue(value)

    # -- administration -----------------------------------------------------------------------
    def put(self, name: str, value: str, *, source: str = "set") -> int:
        """Store a new version and make it current; returns its number."""
        check_name(name)
        check_value(value)
        now = time.time()
        with self._engine.begin() as conn:
            row = conn.execute(select(secret_names_t).where(secret_names_t.c.name == name)).first()
            if row is not None and row.deleted_at is not None:
                raise InvalidRequest(
                    f"secret {name!r} is scheduled for deletion; restore it first",
                    code="secret_deleted",
                )
            latest = conn.execute(
                select(secret_versions_t.c.version)
                .where(secret_versions_t.c.name == name)
                .order_by(secret_versions_t.c.version.desc())
                .limit(1)
            ).scalar()
            version = (latest or 0) + 1
            conn.execute(
                insert(secret_versions_t).values(
                    name=name,
                    version=version,
                    value=self._sealer.seal(value.encode(), _context(name, version)),
                    source=source,
                    created_at=now,
                )
            )
            if row is None:
                conn.execute(
                    insert(secret_names_t).values(
                        name=name, current=version, created_at=now, updated_at=now
                    )
                )
            else:
                conn.execute(
                    update(secret_names_t)
                    .where(secret_names_t.c.name == name)
                    .values(current=version, updated_at=now)
                )
        redactor.add_secret(value)
        return version

    def describe(self, name: str) -> dict[str, Any]:
        check_name(name)
        self._purge_expired()
        with self._engine.begin() as conn:
            row = conn.execute(select(secret_names_t).where(secret_names_t.c.name == name)).first()
            if row is None:
                raise NotFound(f"secret {name!r} not found", code="secret_not_found")
            count = len(
                conn.execute(
                    select(secret_versions_t.c.version).where(secret_versions_t.c.name == name)
                ).all()
            )
        return self._row(row, count)

    @staticmethod
    def _row(row: Any, versions: int) -> dict[str, Any]:
        return {
            "name": row.name,
            "current_version": row.current,
            "versions": versions,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "state": "pending_deletion" if row.deleted_at is not None else "active",
            "purge_at": row.purge_at,
        }

    def list(self) -> list[dict[str, Any]]:
        """Names, versions and dates; never values."""
        self._purge_expired()
        with self._engine.begin() as conn:
            names = conn.execute(select(secret_names_t).order_by(secret_names_t.c.name)).all()
            counts: dict[str, int] = {}
            for (n,) in conn.execute(select(secret_versions_t.c.name)).all():
                counts[n] = counts.get(n, 0) + 1
        return [self._row(r, counts.get(r.name, 0)) for r in names]

    def versions(self, name: str) -> list[dict[str, Any]]:
        info = self.describe(name)
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(
                    secret_versions_t.c.version,
                    secret_versions_t.c.source,
                    secret_versions_t.c.created_at,
                )
                .where(secret_versions_t.c.name == name)
                .order_by(secret_versions_t.c.version)
            ).all()
        return [
            {
                "version": r.version,
                "source": r.source,
                "created_at": r.created_at,
                "current": r.version == info["current_version"],
            }
            for r in rows
        ]

    def delete(
        self, name: str, *, recovery_days: int = DEFAULT_RECOVERY_DAYS, force: bool = False
    ) -> dict[str, Any]:
        """Schedule deletion after a recovery window, or purge now with ``force``."""
        check_name(name)
        if not force and not 1 <= recovery_days <= MAX_RECOVERY_DAYS:
            raise InvalidRequest(
                f"the recovery window is 1 to {MAX_RECOVERY_DAYS} days", code="invalid_argument"
            )
        self.describe(name)
        now = time.time()
        if force:
            self._purge(name)
            return {"name": name, "state": "deleted", "purge_at": now}
        purge_at = now + recovery_days * 86400
        with self._engine.begin() as conn:
            conn.execute(
                update(secret_names_t)
                .where(secret_names_t.c.name == name)
                .values(deleted_at=now, purge_at=purge_at, updated_at=now)
            )
        return {"name": name, "state": "pending_deletion", "purge_at": purge_at}

    def restore(self, name: str) -> dict[str, Any]:
        info = self.describe(name)
        if info["state"] != "pending_deletion":
            raise InvalidRequest(
                f"secret {name!r} is not scheduled for deletion", code="not_deleted"
            )
        with self._engine.begin() as conn:
            conn.execute(
                update(secret_names_t)
                .where(secret_names_t.c.name == name)
                .values(deleted_at=None, purge_at=None, updated_at=time.time())
            )
        return self.describe(name)

    def _purge(self, name: str) -> None:
        with self._engine.begin() as conn:
            conn.execute(delete(secret_versions_t).where(secret_versions_t.c.name == name))
            conn.execute(delete(secret_names_t).where(secret_names_t.c.name == name))

    def _purge_expired(self) -> None:
        with self._engine.begin() as conn:
            expired = (
                conn.execute(
                    select(secret_names_t.c.name).where(
                        and_(
                            secret_names_t.c.purge_at.is_not(None),
                            secret_names_t.c.purge_at <= time.time(),
                        )
                    )
                )
                .scalars()
                .all()
            )
        for name in expired:
            self._purge(name)
