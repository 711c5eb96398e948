"""The secret store: encrypted, versioned secrets in the state store, owned by apps.

A secret belongs to one app: it is ``(app, name)``, its ARN is
``arn:ramparts:secrets:APP:secret/NAME``, and app X's ``payments-key`` is a
different secret from app Y's.  A function reads a secret of its own app,
or one whose owner shared it with that app explicitly (``share``); its
role still decides, so a share grants nothing by itself.  Names are looked
up in the reader's own app first, then among the secrets shared with it; a
reader never sees two shared secrets under one name (``share`` refuses).

Each version is a sealed record (AAD ``secret\\0app\\0name\\0version``) in
``app_secret_versions``, so a ciphertext copied to another app's row does
not open; ``app_secrets`` tracks the current version and the deletion state.
Deleting starts a recovery window: the secret stops being readable at once,
can be restored until the window ends, and is purged (every version's row
and every share removed) after it.  Names are checked strictly (no path
separators, no control characters, no leading dot) and values are limited
to 64 KiB, like AWS Secrets Manager.

``UNASSIGNED`` is the reserved owner of secrets left over from before
secrets were per app that no app referenced (see ``ramparts.secrets.legacy``):
no function reads them, nothing can be added under it, and ``move`` hands
one to an app.

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
from sqlalchemy.engine import Connection, Engine

from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import Conflict, InvalidRequest, NotFound
from ramparts.manifest import NAME_RE as APP_NAME_RE
from ramparts.manifest import UNASSIGNED_APP as UNASSIGNED
from ramparts.observe.redact import redactor
from ramparts.secrets import SecretSource, SecretValue

MAX_SECRET_BYTES = 64 * 1024
DEFAULT_RECOVERY_DAYS = 7
MAX_RECOVERY_DAYS = 30
NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")

secrets_metadata = MetaData()
secrets_t = Table(
    "app_secrets",
    secrets_metadata,
    Column("app", String(63), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("current", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("deleted_at", Float),
    Column("purge_at", Float),
)
secret_versions_t = Table(
    "app_secret_versions",
    secrets_metadata,
    Column("app", String(63), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("source", String(16), nullable=False),  # set | rotate | hook | generate | move
    Column("created_at", Float, nullable=False),
)
secret_shares_t = Table(
    "secret_shares",
    secrets_metadata,
    Column("owner", String(63), primary_key=True),
    Column("name", String(128), primary_key=True),
    Column("reader", String(63), primary_key=True, index=True),
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


def check_app(app: Any, *, reserved: bool = False) -> str:
    """An app name that may own secrets (``reserved``: ``UNASSIGNED`` too)."""
    if reserved and app == UNASSIGNED:
        return app
    if app == UNASSIGNED:
        raise InvalidRequest(
            f"{UNASSIGNED!r} is reserved for secrets that belong to no app; "
            "'ramparts secrets move' gives one to an app",
            code="reserved_app",
        )
    if not isinstance(app, str) or not APP_NAME_RE.match(app):
        raise InvalidRequest(
            "app names use lowercase letters, digits and '-' (at most 63 characters)",
            code="invalid_app_name",
        )
    return app


def check_value(value: Any) -> str:
    if not isinstance(value, str) or not value:
        raise InvalidRequest("a secret value must be non-empty text", code="invalid_secret_value")
    if len(value.encode()) > MAX_SECRET_BYTES:
        raise InvalidRequest(
            f"a secret value is at most {MAX_SECRET_BYTES // 1024} KiB", code="secret_too_large"
        )
    return value


def seal_context(app: str, name: str, version: int) -> bytes:
    """The AAD of one version: bound to its owner, name and number."""
    return aad("secret", app, name, str(version))


def _key(app: str, name: str) -> Any:
    return and_(secrets_t.c.app == app, secrets_t.c.name == name)


def _vkey(app: str, name: str) -> Any:
    return and_(secret_versions_t.c.app == app, secret_versions_t.c.name == name)


def _not_found(app: str, name: str) -> NotFound:
    return NotFound(f"app {app!r} has no secret {name!r}", code="secret_not_found")


class SecretStore(SecretSource):
    """Versioned, app-owned secrets sealed by ``sealer`` in the store behind ``engine``."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        secrets_metadata.create_all(engine)

    # -- the SecretSource contract ----------------------------------------------------------
    def get(self, name: str, *, app: str) -> SecretValue | None:
        owner = self.resolve(name, app=app)
        return None if owner is None else self._open_current(owner, name)

    def resolve(self, name: str, *, app: str) -> str | None:
        """The app that owns the secret ``name`` as ``app`` sees it, or None.

        This is what ``get`` (so every function's read) opens: the one owner
        ``readers_view`` names, or nothing when it names none or several.
        """
        owners = self.readers_view(name, app=app)
        return owners[0] if len(owners) == 1 else None

    def readers_view(self, name: str, *, app: str) -> list[str]:
        """The owners of the secrets ``name`` that ``app`` could read, in the order
        ``resolve`` decides between them: ``[app]`` when ``app`` has an active secret
        ``name`` of its own (its own always wins, even over one shared with it), else
        the owners of the active secrets ``name`` shared with it.  More than one owner
        is ambiguous (``share`` refuses it, but nothing else does) and ``resolve``
        then reads none of them.  ``UNASSIGNED`` is nobody's reader: always empty.
        """
        try:
            check_name(name)
            check_app(app)
        except InvalidRequest:
            return []
        self._purge_expired()
        with self._engine.begin() as conn:
            if self._active(conn, app, name):
                return [app]
            owners = (
                conn.execute(
                    select(secret_shares_t.c.owner).where(
                        and_(secret_shares_t.c.name == name, secret_shares_t.c.reader == app)
                    )
                )
                .scalars()
                .all()
            )
            return sorted(o for o in owners if self._active(conn, o, name))

    def owned_elsewhere(self, name: str, *, app: str) -> bool:
        """Whether an app other than ``app`` holds a secret ``name`` that ``app`` cannot read."""
        try:
            check_name(name)
        except InvalidRequest:
            return False
        with self._engine.begin() as conn:
            owners = (
                conn.execute(
                    select(secrets_t.c.app).where(
                        and_(secrets_t.c.name == name, secrets_t.c.app != app)
                    )
                )
                .scalars()
                .all()
            )
        return bool(owners)

    def value(self, app: str, name: str) -> tuple[int, SecretValue]:
        """The current version and value of ``app``'s own secret (the admin's read)."""
        check_app(app, reserved=True)
        info = self.describe(app, name)
        if info["state"] != "active":
            raise _not_found(app, name)
        found = self._open_current(app, name)
        if found is None:
            raise _not_found(app, name)
        return info["current_version"], found

    def remember_values(self) -> int:
        """Teach the node's redactor every stored value; returns how many.

        The redactor otherwise learns a value only when this process stores or
        opens it: after a restart, a secret no function has read yet would pass
        unmasked through a handler's error text, logs or dead letters.  Every
        kept version counts, since a rotated-out value is still a secret.
        """
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(
                    secret_versions_t.c.app,
                    secret_versions_t.c.name,
                    secret_versions_t.c.version,
                    secret_versions_t.c.value,
                )
            ).all()
        for row in rows:
            value = self._sealer.open(
                bytes(row.value), seal_context(row.app, row.name, row.version)
            ).decode()
            redactor.add_secret(value)
        return len(rows)

    @staticmethod
    def _active(conn: Connection, app: str, name: str) -> bool:
        row = conn.execute(select(secrets_t.c.deleted_at).where(_key(app, name))).first()
        return row is not None and row.deleted_at is None

    def _open_current(self, app: str, name: str) -> SecretValue | None:
        with self._engine.begin() as conn:
            row = conn.execute(
                select(secrets_t.c.current, secrets_t.c.deleted_at).where(_key(app, name))
            ).first()
            if row is None or row.deleted_at is not None:
                return None
            blob = conn.execute(
                select(secret_versions_t.c.value).where(
                    and_(_vkey(app, name), secret_versions_t.c.version == row.current)
                )
            ).scalar()
        if blob is None:
            return None
        value = self._sealer.open(bytes(blob), seal_context(app, name, row.current)).decode()
        redactor.add_secret(value)
        return SecretValue(value)

    # -- administration -----------------------------------------------------------------------
    def put(self, app: str, name: str, value: str, *, source: str = "set") -> int:
        """Store a new version of ``app``'s secret and make it current; returns its number."""
        check_app(app)
        check_name(name)
        check_value(value)
        now = time.time()
        with self._engine.begin() as conn:
            row = conn.execute(select(secrets_t).where(_key(app, name))).first()
            if row is not None and row.deleted_at is not None:
                raise InvalidRequest(
                    f"secret {name!r} of app {app!r} is scheduled for deletion; restore it first",
                    code="secret_deleted",
                )
            latest = conn.execute(
                select(secret_versions_t.c.version)
                .where(_vkey(app, name))
                .order_by(secret_versions_t.c.version.desc())
                .limit(1)
            ).scalar()
            version = (latest or 0) + 1
            conn.execute(
                insert(secret_versions_t).values(
                    app=app,
                    name=name,
                    version=version,
                    value=self._sealer.seal(value.encode(), seal_context(app, name, version)),
                    source=source,
                    created_at=now,
                )
            )
            if row is None:
                conn.execute(
                    insert(secrets_t).values(
                        app=app, name=name, current=version, created_at=now, updated_at=now
                    )
                )
            else:
                conn.execute(
                    update(secrets_t).where(_key(app, name)).values(current=version, updated_at=now)
                )
        redactor.add_secret(value)
        return version

    def describe(self, app: str, name: str) -> dict[str, Any]:
        check_app(app, reserved=True)
        check_name(name)
        self._purge_expired()
        with self._engine.begin() as conn:
            row = conn.execute(select(secrets_t).where(_key(app, name))).first()
            if row is None:
                raise _not_found(app, name)
            count = len(
                conn.execute(select(secret_versions_t.c.version).where(_vkey(app, name))).all()
            )
            readers = self._readers(conn, app, name)
        return self._row(row, count, readers)

    @staticmethod
    def _readers(conn: Connection, app: str, name: str) -> list[str]:
        return sorted(
            conn.execute(
                select(secret_shares_t.c.reader).where(
                    and_(secret_shares_t.c.owner == app, secret_shares_t.c.name == name)
                )
            )
            .scalars()
            .all()
        )

    @staticmethod
    def _row(row: Any, versions: int, readers: list[str]) -> dict[str, Any]:
        return {
            "app": row.app,
            "name": row.name,
            "arn": f"arn:ramparts:secrets:{row.app}:secret/{row.name}",
            "current_version": row.current,
            "versions": versions,
            "shared_with": readers,
            "created_at": row.created_at,
            "updated_at": row.updated_at,
            "state": "pending_deletion" if row.deleted_at is not None else "active",
            "purge_at": row.purge_at,
        }

    def list(self, app: str | None = None) -> list[dict[str, Any]]:
        """Owner, name, versions, shares and dates of each secret (or ``app``'s); never values."""
        if app is not None:
            check_app(app, reserved=True)
        self._purge_expired()
        stmt = select(secrets_t).order_by(secrets_t.c.app, secrets_t.c.name)
        if app is not None:
            stmt = stmt.where(secrets_t.c.app == app)
        with self._engine.begin() as conn:
            rows = conn.execute(stmt).all()
            counts: dict[tuple[str, str], int] = {}
            for a, n in conn.execute(
                select(secret_versions_t.c.app, secret_versions_t.c.name)
            ).all():
                counts[(a, n)] = counts.get((a, n), 0) + 1
            shares: dict[tuple[str, str], list[str]] = {}
            for o, n, r in conn.execute(
                select(secret_shares_t.c.owner, secret_shares_t.c.name, secret_shares_t.c.reader)
            ).all():
                shares.setdefault((o, n), []).append(r)
        return [
            self._row(r, counts.get((r.app, r.name), 0), sorted(shares.get((r.app, r.name), [])))
            for r in rows
        ]

    def versions(self, app: str, name: str) -> list[dict[str, Any]]:
        info = self.describe(app, name)
        with self._engine.begin() as conn:
            rows = conn.execute(
                select(
                    secret_versions_t.c.version,
                    secret_versions_t.c.source,
                    secret_versions_t.c.created_at,
                )
                .where(_vkey(app, name))
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
        self,
        app: str,
        name: str,
        *,
        recovery_days: int = DEFAULT_RECOVERY_DAYS,
        force: bool = False,
    ) -> dict[str, Any]:
        """Schedule deletion after a recovery window, or purge now with ``force``."""
        check_name(name)
        if not force and not 1 <= recovery_days <= MAX_RECOVERY_DAYS:
            raise InvalidRequest(
                f"the recovery window is 1 to {MAX_RECOVERY_DAYS} days", code="invalid_argument"
            )
        self.describe(app, name)
        now = time.time()
        if force:
            self._purge(app, name)
            return {"app": app, "name": name, "state": "deleted", "purge_at": now}
        purge_at = now + recovery_days * 86400
        with self._engine.begin() as conn:
            conn.execute(
                update(secrets_t)
                .where(_key(app, name))
                .values(deleted_at=now, purge_at=purge_at, updated_at=now)
            )
        return {"app": app, "name": name, "state": "pending_deletion", "purge_at": purge_at}

    def restore(self, app: str, name: str) -> dict[str, Any]:
        info = self.describe(app, name)
        if info["state"] != "pending_deletion":
            raise InvalidRequest(
                f"secret {name!r} of app {app!r} is not scheduled for deletion", code="not_deleted"
            )
        with self._engine.begin() as conn:
            conn.execute(
                update(secrets_t)
                .where(_key(app, name))
                .values(deleted_at=None, purge_at=None, updated_at=time.time())
            )
        return self.describe(app, name)

    # -- ownership ----------------------------------------------------------------------------
    def share(self, app: str, name: str, reader: str) -> dict[str, Any]:
        """Let ``reader``'s functions read ``app``'s secret (their roles still decide)."""
        check_app(app)
        check_app(reader)
        if reader == app:
            raise InvalidRequest(
                f"app {app!r} owns secret {name!r} already", code="invalid_argument"
            )
        self.describe(app, name)
        with self._engine.begin() as conn:
            if conn.execute(select(secrets_t.c.app).where(_key(reader, name))).first():
                raise Conflict(
                    f"app {reader!r} has its own secret {name!r}; it would never read the "
                    "shared one",
                    code="secret_name_taken",
                )
            others = (
                conn.execute(
                    select(secret_shares_t.c.owner).where(
                        and_(secret_shares_t.c.name == name, secret_shares_t.c.reader == reader)
                    )
                )
                .scalars()
                .all()
            )
            if app in others:
                return self._share_info(conn, app, name)
            if others:
                raise Conflict(
                    f"app {others[0]!r} already shares a secret {name!r} with app {reader!r}",
                    code="secret_name_taken",
                )
            conn.execute(
                insert(secret_shares_t).values(
                    owner=app, name=name, reader=reader, created_at=time.time()
                )
            )
            return self._share_info(conn, app, name)

    def unshare(self, app: str, name: str, reader: str) -> dict[str, Any]:
        check_app(app)
        check_app(reader)
        self.describe(app, name)
        with self._engine.begin() as conn:
            removed = conn.execute(
                delete(secret_shares_t).where(
                    and_(
                        secret_shares_t.c.owner == app,
                        secret_shares_t.c.name == name,
                        secret_shares_t.c.reader == reader,
                    )
                )
            ).rowcount
            if not removed:
                raise NotFound(
                    f"secret {name!r} of app {app!r} is not shared with app {reader!r}",
                    code="share_not_found",
                )
            return self._share_info(conn, app, name)

    def _share_info(self, conn: Connection, app: str, name: str) -> dict[str, Any]:
        return {"app": app, "name": name, "shared_with": self._readers(conn, app, name)}

    def move(self, app: str, name: str, to: str) -> dict[str, Any]:
        """Give ``app``'s secret, every version re-sealed, to ``to``; its shares are dropped."""
        check_app(app, reserved=True)
        check_app(to)
        check_name(name)
        if to == app:
            raise InvalidRequest(
                f"app {app!r} owns secret {name!r} already", code="invalid_argument"
            )
        with self._engine.begin() as conn:
            row = conn.execute(select(secrets_t).where(_key(app, name))).first()
            if row is None:
                raise _not_found(app, name)
            if conn.execute(select(secrets_t.c.app).where(_key(to, name))).first():
                raise Conflict(f"app {to!r} has a secret {name!r} already", code="secret_exists")
            shared = conn.execute(
                select(secret_shares_t.c.owner).where(
                    and_(
                        secret_shares_t.c.name == name,
                        secret_shares_t.c.reader == to,
                        secret_shares_t.c.owner != app,
                    )
                )
            ).scalar()
            if shared is not None:
                raise Conflict(
                    f"app {shared!r} shares a secret {name!r} with app {to!r}; unshare it first",
                    code="secret_name_taken",
                )
            versions = conn.execute(select(secret_versions_t).where(_vkey(app, name))).all()
            for v in versions:
                plain = self._sealer.open(bytes(v.value), seal_context(app, name, v.version))
                conn.execute(
                    insert(secret_versions_t).values(
                        app=to,
                        name=name,
                        version=v.version,
                        value=self._sealer.seal(plain, seal_context(to, name, v.version)),
                        source=v.source,
                        created_at=v.created_at,
                    )
                )
            conn.execute(
                insert(secrets_t).values(
                    app=to,
                    name=name,
                    current=row.current,
                    created_at=row.created_at,
                    updated_at=time.time(),
                    deleted_at=row.deleted_at,
                    purge_at=row.purge_at,
                )
            )
            dropped = self._readers(conn, app, name)
            self._remove(conn, app, name)
        return {"app": to, "name": name, "from": app, "unshared": dropped}

    # -- purging -------------------------------------------------------------------------------
    @staticmethod
    def _remove(conn: Connection, app: str, name: str) -> None:
        conn.execute(delete(secret_versions_t).where(_vkey(app, name)))
        conn.execute(delete(secrets_t).where(_key(app, name)))
        conn.execute(
            delete(secret_shares_t).where(
                and_(secret_shares_t.c.owner == app, secret_shares_t.c.name == name)
            )
        )

    def _purge(self, app: str, name: str) -> None:
        with self._engine.begin() as conn:
            self._remove(conn, app, name)

    def _purge_expired(self) -> None:
        with self._engine.begin() as conn:
            expired = conn.execute(
                select(secrets_t.c.app, secrets_t.c.name).where(
                    and_(
                        secrets_t.c.purge_at.is_not(None),
                        secrets_t.c.purge_at <= time.time(),
                    )
                )
            ).all()
        for app, name in expired:
            self._purge(app, name)
