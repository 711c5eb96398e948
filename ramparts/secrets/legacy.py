"""Moving secrets from the old global store into their apps, once, at node start.

Before secrets were per app, ``secret_names`` / ``secret_versions`` held one
global namespace (AAD ``secret\\0name\\0version``), and any app whose role
named a secret read it.  ``migrate`` moves every such secret to an owner
without losing a version: a secret that one app references goes to that
app; one that several reference goes to the first of them (the app deployed
earliest) and is shared with the others; one that no app references goes to
the reserved owner ``UNASSIGNED``, where no function reads it until
``ramparts secrets move`` gives it to an app.  Each version is opened under
its old AAD and sealed again under the owner-bound one.  It all happens in
one transaction, and the old tables are dropped in it, so a crash leaves
either the old store or the new one, never half of each.

References are what the node's live versions name (``secrets:``,
``rotates:``, webhook ``secret:``, and the app's ``auth:`` secrets); the node
collects them (``references_of``) because the registry sits beside, not
below, this package.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    insert,
    inspect,
    select,
    text,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import SQLAlchemyError

from ramparts.crypto.envelope import Sealer, aad
from ramparts.manifest import AuthConfig, FunctionConfig
from ramparts.secrets.store import (
    UNASSIGNED,
    seal_context,
    secret_shares_t,
    secret_versions_t,
    secrets_t,
)

_legacy = MetaData()
legacy_names_t = Table(
    "secret_names",
    _legacy,
    Column("name", String(128), primary_key=True),
    Column("current", Integer, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("deleted_at", Float),
    Column("purge_at", Float),
)
legacy_versions_t = Table(
    "secret_versions",
    _legacy,
    Column("name", String(128), primary_key=True),
    Column("version", Integer, primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("source", String(16), nullable=False),
    Column("created_at", Float, nullable=False),
)


def legacy_context(name: str, version: int) -> bytes:
    """The AAD the global store bound a version to."""
    return aad("secret", name, str(version))


def references_of(config: FunctionConfig | AuthConfig | None) -> set[str]:
    """The secret names one function's config, or an app's ``auth:``, refers to."""
    if config is None:
        return set()
    if isinstance(config, AuthConfig):
        names = {i.secret for i in config.jwt if i.secret}
        if config.introspection is not None:
            names.add(config.introspection.client_secret)
        return names
    names = set(config.secrets) | set(config.rotates)
    names.update(trig.webhook.secret for trig in config.triggers if trig.webhook is not None)
    return names


def pending(engine: Engine) -> bool:
    """Whether the old global tables are still there (a migration is due)."""
    return inspect(engine).has_table(legacy_names_t.name)


def migrate(
    engine: Engine, sealer: Sealer, references: Iterable[tuple[str, set[str]]]
) -> dict[str, Any] | None:
    """Move the global secrets to their owners; ``references`` lists apps, earliest first.

    Returns what was done (owner per secret, shares, the unassigned ones), or
    None when there was nothing to migrate (or another node did it first).
    """
    if not pending(engine):
        return None
    by_name: dict[str, list[str]] = {}
    for app, names in references:
        for name in sorted(names):
            by_name.setdefault(name, []).append(app)
    try:
        with engine.begin() as conn:
            if engine.dialect.name == "postgresql":
                # One node migrates; another starting at once waits here, then finds no table.
                conn.execute(text('LOCK TABLE "secret_names" IN ACCESS EXCLUSIVE MODE'))
            report = _move_all(conn, sealer, by_name)
            _legacy.drop_all(conn)
    except SQLAlchemyError:
        if not pending(engine):
            return None  # another node migrated and dropped the tables while we tried
        raise
    return report


def _move_all(conn: Any, sealer: Sealer, by_name: dict[str, list[str]]) -> dict[str, Any]:
    owners: dict[str, str] = {}
    shared: dict[str, list[str]] = {}
    now = time.time()
    for row in conn.execute(select(legacy_names_t).order_by(legacy_names_t.c.name)).all():
        apps = by_name.get(row.name) or [UNASSIGNED]
        owner, readers = apps[0], apps[1:]
        versions = conn.execute(
            select(legacy_versions_t).where(legacy_versions_t.c.name == row.name)
        ).all()
        for v in versions:
            plain = sealer.open(bytes(v.value), legacy_context(row.name, v.version))
            conn.execute(
                insert(secret_versions_t).values(
                    app=owner,
                    name=row.name,
                    version=v.version,
                    value=sealer.seal(plain, seal_context(owner, row.name, v.version)),
                    source=v.source,
                    created_at=v.created_at,
                )
            )
        conn.execute(
            insert(secrets_t).values(
                app=owner,
                name=row.name,
                current=row.current,
                created_at=row.created_at,
                updated_at=row.updated_at,
                deleted_at=row.deleted_at,
                purge_at=row.purge_at,
            )
        )
        for reader in readers:
            conn.execute(
                insert(secret_shares_t).values(
                    owner=owner, name=row.name, reader=reader, created_at=now
                )
            )
        owners[row.name] = owner
        if readers:
            shared[row.name] = readers
    return {
        "owners": owners,
        "shared": shared,
        "unassigned": sorted(n for n, o in owners.items() if o == UNASSIGNED),
    }
