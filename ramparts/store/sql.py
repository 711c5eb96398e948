"""SQL state store on SQLAlchemy Core: SQLite (embedded default) and PostgreSQL.

One implementation serves both URLs because SQLAlchemy already hides the
dialect; the few dialect differences (upserts, SQLite pragmas) are handled
here.  Methods are synchronous: the node calls them from worker threads
(``asyncio.to_thread``) so the event loop never waits on disk or network.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    Column,
    Float,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    and_,
    create_engine,
    delete,
    event,
    func,
    insert,
    inspect,
    select,
    text,
    update,
)
from sqlalchemy.engine import Connection, Engine, make_url
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ramparts.config import mask_url
from ramparts.errors import BackendError, ConfigError, NotFound
from ramparts.files import PRIVATE_FILE, describe_os_error, tighten
from ramparts.store.base import (
    AlertStore,
    BlockListStore,
    BlockRecord,
    BudgetStore,
    Collected,
    KvChange,
    KvRef,
    MultipartStore,
    ObjectRecord,
    OutboxEntry,
    PartRecord,
    Store,
    SupplyChainStore,
    UploadRecord,
    VersionCollector,
    VersionRecord,
)
from ramparts.store.rows import Counter, add_missing_columns, cause, transaction

_log = logging.getLogger("ramparts.store")

metadata = MetaData()

meta_t = Table(
    "meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("value", Integer, nullable=False),
)
artifacts_t = Table(
    "artifacts",
    metadata,
    Column("digest", String(64), primary_key=True),
    Column("size", Integer, nullable=False),
    Column("data", LargeBinary, nullable=False),
    Column("created_at", Float, nullable=False),
)
functions_t = Table(
    "functions",
    metadata,
    Column("name", String(63), primary_key=True),
    Column("app", String(63), nullable=False, index=True),
    Column("created_at", Float, nullable=False),
)
versions_t = Table(
    "versions",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("seq", Integer, nullable=False),
    Column("app", String(63), nullable=False),
    Column("artifact", String(64), nullable=False),
    Column("requirements", String(64)),
    Column("config", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("auth", Text),  # JSON of the app's auth section; NULL before signing existed
    Column("signature", Text),  # NULL: unsigned (a version from before signing)
    Column("app_config", Text),  # JSON of the app's waf/app_limits sections; NULL: defaults
    Column("sbom", String(64)),  # SHA-256 of its SBOM (version_sboms); NULL: made before SBOMs
)
# Each version's CycloneDX SBOM; its digest is in the (signed) version row.
version_sboms_t = Table(
    "version_sboms",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("document", LargeBinary, nullable=False),
)
# Advisories already reported against a version: one row per (version, advisory), so a
# daily re-check reports only what is new, once across the cluster.
advisory_hits_t = Table(
    "advisory_hits",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("advisory", String(128), primary_key=True),
    Column("package", String(256), primary_key=True),
    Column("at", Float, nullable=False),
)
# Columns added to tables of stores created by older releases (name -> SQL type).
_ADDED_COLUMNS = {
    "versions": {"auth": "TEXT", "signature": "TEXT", "app_config": "TEXT",
                 "sbom": "VARCHAR(64)"},
    "objects": {"metadata": "TEXT"},
    "audit_events": {
        "id": "VARCHAR(32)", "part": "VARCHAR(64)", "pseq": "BIGINT", "prev": "VARCHAR(64)",
        "hash": "VARCHAR(64)",
    },
}
# Unique: a replayed journal record is stored once; one record per seq of a partition.
_AUDIT_INDEXES = (
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_events_id ON audit_events (id)",
    "CREATE UNIQUE INDEX IF NOT EXISTS audit_events_chain ON audit_events (part, pseq)",
)
aliases_t = Table(
    "aliases",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("name", String(63), primary_key=True),
    Column("version", String(64), nullable=False),
    Column("updated_at", Float, nullable=False),
)
alias_history_t = Table(
    "alias_history",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("function", String(63), nullable=False, index=True),
    Column("name", String(63), nullable=False),
    Column("version", String(64), nullable=False),
    Column("at", Float, nullable=False),
)
version_releases_t = Table(
    "version_releases",  # when an alias last moved away from a version (garbage collection)
    metadata,
    Column("function", String(63), primary_key=True),
    Column("version", String(64), primary_key=True),
    Column("at", Float, nullable=False),
)
kv_t = Table(
    "kv_items",
    metadata,
    Column("app", String(63), primary_key=True),
    Column("tbl", String(128), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("value", LargeBinary, nullable=False),
    Column("updated_at", Float, nullable=False),
)
objects_t = Table(
    "objects",
    metadata,
    Column("app", String(63), primary_key=True),
    Column("bucket", String(128), primary_key=True),
    Column("key", String(1024), primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("size", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
    Column("updated_at", Float, nullable=False),
    Column("metadata", Text),  # JSON of user metadata (S3 x-amz-meta-*); NULL: none
)
# Multipart uploads in progress and their parts (S3); dropped on complete or abort.
uploads_t = Table(
    "object_uploads",
    metadata,
    Column("app", String(63), primary_key=True),
    Column("upload_id", String(64), primary_key=True),
    Column("bucket", String(128), nullable=False),
    Column("key", String(1024), nullable=False),
    Column("content_type", String(255), nullable=False),
    Column("metadata", Text, nullable=False),
    Column("created_at", Float, nullable=False),
)
parts_t = Table(
    "object_parts",
    metadata,
    Column("app", String(63), primary_key=True),
    Column("upload_id", String(64), primary_key=True),
    Column("number", Integer, primary_key=True),
    Column("data", LargeBinary, nullable=False),
    Column("size", Integer, nullable=False),
    Column("etag", String(64), nullable=False),
)
outbox_t = Table(
    "outbox",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("queue", String(200), nullable=False),
    Column("body", LargeBinary, nullable=False),
    Column("headers", Text, nullable=False),
    Column("message_id", String(64), nullable=False),
)
invocations_t = Table(
    "invocations",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("request_id", String(64), nullable=False),
    Column("function", String(63), nullable=False, index=True),
    Column("version", String(64), nullable=False),
    Column("trigger", String(32), nullable=False),
    Column("status", String(16), nullable=False),
    Column("started_at", Float, nullable=False),
    Column("duration_ms", Float, nullable=False),
    Column("cold", Integer, nullable=False),
    Column("error_type", String(200)),
    Column("error_message", Text),
    Column("logs", Text, nullable=False),
)
# Retention prunes by age and `ramparts logs --since/--until` filters on it: without an
# index both scan the whole table.  Made for stores an older release created as well.
invocations_started_ix = Index("ix_invocations_started_at", invocations_t.c.started_at)
_ADDED_INDEXES = (invocations_started_ix,)
audit_t = Table(
    "audit_events",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("ts", Float, nullable=False),
    Column("node", String(32), nullable=False),
    Column("kind", String(64), nullable=False),
    Column("decision", String(16), nullable=False),
    Column("principal", String(256), nullable=False),
    Column("action", String(128), nullable=False),
    Column("resource", String(1024), nullable=False),
    Column("request_id", String(64)),
    Column("detail", Text, nullable=False),
    # The hash chain (ramparts.observe.chain); NULL on rows from before it.
    Column("id", String(32)),
    Column("part", String(64)),
    Column("pseq", BigInteger),
    Column("prev", String(64)),
    Column("hash", String(64)),
)
dead_letters_t = Table(
    "dead_letters",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("at", Float, nullable=False),
    Column("function", String(63), nullable=False, index=True),
    Column("message_id", String(64), nullable=False),
    Column("attempts", Integer, nullable=False),
    Column("error", Text, nullable=False),
    Column("source", String(256), nullable=False),
)
schedule_ticks_t = Table(
    "schedule_ticks",
    metadata,
    Column("function", String(63), primary_key=True),
    Column("trigger", String(64), primary_key=True),
    Column("tick", Float, primary_key=True),
    Column("claimed_at", Float, nullable=False),
)

# Alerts raised by detection rules (ramparts.respond): one row per rule and group per
# suppression window; count, last_ts and evidence grow while the window is open.
alerts_t = Table(
    "alerts",
    metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(32), nullable=False, unique=True),
    Column("ts", Float, nullable=False, index=True),
    Column("last_ts", Float, nullable=False),
    Column("node", String(32), nullable=False),
    Column("rule", String(64), nullable=False),
    Column("title", String(200), nullable=False),
    Column("severity", String(16), nullable=False),
    Column("category", String(8), nullable=False),
    Column("group_key", String(1024), nullable=False),
    Column("count", Integer, nullable=False),
    Column("evidence", Text, nullable=False),  # JSON list of audit ids / invocation:<request id>
)

# The WAF's run-time block list (``ramparts waf block``): one row per network, canonical
# CIDR text as its key; its own generation counter in ``meta`` (nodes poll it).
waf_blocks_t = Table(
    "waf_blocks",
    metadata,
    Column("network", String(64), primary_key=True),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),  # NULL: until unblocked
    Column("reason", Text, nullable=False),
    Column("actor", String(200), nullable=False),
    Column("source_ip", String(64), nullable=False),
    Column("node", String(64), nullable=False),
)

# Invocation budgets (ramparts.budget): counters per scope and fixed UTC window, one mark
# per alert and window (so a warning is raised once across nodes), and admin overrides.
budget_usage_t = Table(
    "budget_usage",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("window", String(16), primary_key=True),
    Column("invocations", BigInteger, nullable=False),
    Column("compute_ms", BigInteger, nullable=False),
    Column("ends_at", Float, nullable=False),
)
budget_marks_t = Table(
    "budget_marks",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("window", String(16), primary_key=True),
    Column("what", String(64), primary_key=True),
    Column("ends_at", Float, nullable=False),
)
budget_overrides_t = Table(
    "budget_overrides",
    metadata,
    Column("scope", String(80), primary_key=True),
    Column("fields", Text, nullable=False),  # JSON: budget field -> value
    Column("updated_at", Float, nullable=False),
)

_GENERATION = "registry_generation"
_BLOCKS_GENERATION = "waf_blocks_generation"
_ATOMIC_ATTEMPTS = 5
_ORJSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS
_INVOCATION_COLUMNS = tuple(c.name for c in invocations_t.columns if c.name != "seq")
_AUDIT_COLUMNS = (
    "ts", "node", "kind", "decision", "principal", "action", "resource", "request_id", "detail",
)  # "detail" last
_CHAIN_COLUMNS = (
    "ts", "node", "kind", "decision", "principal", "action", "resource", "request_id", "detail",
    "id", "part", "pseq", "prev", "hash",
)


def _row(row: Any) -> dict[str, Any]:
    return {str(k): v for k, v in row._mapping.items()}


def _detail_json(detail: Any) -> str:
    """An audit event's detail as JSON text, keys sorted (orjson: a tenth of json's cost)."""
    try:
        return orjson.dumps(detail or {}, option=_ORJSON_OPTS).decode()
    except TypeError:  # a value orjson does not know: json's rules, as before
        return json.dumps(detail or {}, sort_keys=True)


def _etag(data: bytes) -> str:
    return hashlib.md5(data, usedforsecurity=False).hexdigest()


def _prepare_sqlite_file(url: str) -> None:
    """Create the database file owner-only before SQLite does, and tighten an old one.

    SQLite gives the ``-wal`` and ``-shm`` files the mode of the database file,
    so this keeps all three at 0600 whatever the umask.  Creating it here also
    turns SQLite's vague "unable to open database file" into the OS's reason.
    """
    path = make_url(url).database
    if not path or path == ":memory:" or path.startswith("file:"):
        return
    target = Path(path)
    try:
        os.close(os.open(target, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, PRIVATE_FILE))
    except OSError as exc:
        raise BackendError(
            f"cannot open state store {mask_url(url)}: {describe_os_error(exc)}"
        ) from exc
    for suffix in ("", "-wal", "-shm"):
        tighten(target.with_name(target.name + suffix))


class SQLStore(
    Store,
    VersionCollector,
    MultipartStore,
    AlertStore,
    BlockListStore,
    BudgetStore,
    SupplyChainStore,
):
    schemes = ("sqlite", "postgresql", "postgres")

    def __init__(self, url: str) -> None:
        self._url = url
        self._engine = self._make_engine(url)
        self._generation = Counter(meta_t, _GENERATION, "value")
        self._blocks_generation = Counter(meta_t, _BLOCKS_GENERATION, "value")
        try:
            metadata.create_all(self._engine)
            for table, columns in _ADDED_COLUMNS.items():
                add_missing_columns(self._engine, table, columns)
            self._add_indexes()
            self._generation.ensure(self._tx)
        except IntegrityError:
            pass  # another node created the tables meanwhile
        except SQLAlchemyError as exc:
            self._engine.dispose()
            raise BackendError(
                f"cannot open state store {mask_url(url)}: {cause(exc)}"
            ) from exc
        try:
            self._blocks_generation.ensure(self._tx)  # a store made earlier lacks it
        except BackendError:
            self._engine.dispose()
            raise

    def _add_indexes(self) -> None:
        """Create indexes a store made by an older release lacks (additive only)."""
        for index in _ADDED_INDEXES:
            table = index.table.name  # type: ignore[union-attr]
            have = {i["name"] for i in inspect(self._engine).get_indexes(table)}
            if index.name in have:
                continue
            try:
                index.create(self._engine, checkfirst=True)
            except SQLAlchemyError:
                # Another node created it meanwhile; anything else shows up below.
                have = {i["name"] for i in inspect(self._engine).get_indexes(table)}
                if index.name not in have:
                    raise
        for stmt in _AUDIT_INDEXES:
            try:
                with self._engine.begin() as conn:
                    conn.execute(text(stmt))
            except SQLAlchemyError:
                # Another node created it meanwhile (PostgreSQL's IF NOT EXISTS can race).
                names = {i["name"] for i in inspect(self._engine).get_indexes("audit_events")}
                if stmt.split()[5] not in names:
                    raise

    @staticmethod
    def _make_engine(url: str) -> Engine:
        scheme = url.split(":", 1)[0]
        if scheme == "sqlite":
            _prepare_sqlite_file(url)
            engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

            @event.listens_for(engine, "connect")
            def _pragmas(dbapi_conn: Any, _record: Any) -> None:
                cur = dbapi_conn.cursor()
                cur.execute("PRAGMA journal_mode=WAL")
                cur.execute("PRAGMA synchronous=NORMAL")
                cur.execute("PRAGMA busy_timeout=30000")
                cur.close()

            return engine
        if scheme in ("postgresql", "postgres"):
            try:
                import psycopg  # noqa: F401
            except ImportError as exc:
                raise ConfigError(
                    "the PostgreSQL state backend needs its driver: "
                    "pip install 'ramparts[postgres]'"
                ) from exc
            rest = url.split("://", 1)[1]
            return create_engine(f"postgresql+psycopg://{rest}", pool_pre_ping=True, pool_size=10)
        raise ConfigError(f"unknown state store scheme {scheme!r}")

    def _tx(self) -> AbstractContextManager[Connection]:
        # Callers see a fixed message (no paths or hosts); the operator sees the cause.
        return transaction(self._engine, passthrough=(NotFound, IntegrityError), log=_log)

    @property
    def engine(self) -> Engine:
        """For packages that keep their own tables in the same database (identity)."""
        return self._engine

    def close(self) -> None:
        self._engine.dispose()

    # registry --------------------------------------------------------------------------
    def _bump(self, conn: Connection) -> None:
        self._generation.bump(conn)

    def generation(self) -> int:
        return self._generation.read(self._tx)

    def put_artifact(self, digest: str, data: bytes) -> None:
        with self._tx() as conn:
            if conn.execute(
                select(artifacts_t.c.digest).where(artifacts_t.c.digest == digest)
            ).first():
                # Touched: a deploy reusing an archive keeps it from a concurrent collection.
                conn.execute(
                    update(artifacts_t)
                    .where(artifacts_t.c.digest == digest)
                    .values(created_at=time.time())
                )
                return
            conn.execute(
                insert(artifacts_t).values(
                    digest=digest, size=len(data), data=data, created_at=time.time()
                )
            )

    def get_artifact(self, digest: str) -> bytes:
        with self._tx() as conn:
            row = conn.execute(
                select(artifacts_t.c.data).where(artifacts_t.c.digest == digest)
            ).first()
        if row is None:
            raise NotFound(f"artifact {digest[:12]} not found")
        return bytes(row[0])

    @staticmethod
    def _version(row: Any) -> VersionRecord:
        return VersionRecord(
            row.function,
            row.version,
            row.seq,
            row.app,
            row.artifact,
            row.requirements,
            json.loads(row.config),
            row.created_at,
            json.loads(row.auth) if row.auth is not None else None,
            row.signature,
            json.loads(row.app_config) if row.app_config is not None else None,
            row.sbom,
        )

    def get_version(self, function: str, version: str) -> VersionRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(versions_t).where(
                    and_(versions_t.c.function == function, versions_t.c.version == version)
                )
            ).first()
        return self._version(row) if row else None

    def list_versions(self, function: str) -> list[VersionRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(versions_t)
                .where(versions_t.c.function == function)
                .order_by(versions_t.c.seq)
            ).all()
        return [self._version(r) for r in rows]

    def list_functions(self) -> list[dict[str, Any]]:
        with self._tx() as conn:
            fns = conn.execute(select(functions_t).order_by(functions_t.c.name)).all()
            counts = dict(
                conn.execute(
                    select(versions_t.c.function, func.count()).group_by(versions_t.c.function)
                ).all()
            )
            aliases = conn.execute(select(aliases_t)).all()
        by_fn: dict[str, dict[str, str]] = {}
        for a in aliases:
            by_fn.setdefault(a.function, {})[a.name] = a.version
        return [
            {
                "name": f.name,
                "app": f.app,
                "versions": int(counts.get(f.name, 0)),
                "aliases": by_fn.get(f.name, {}),
                "created_at": f.created_at,
            }
            for f in fns
        ]

    def list_apps(self) -> list[str]:
        with self._tx() as conn:
            return sorted({r[0] for r in conn.execute(select(functions_t.c.app)).all()})

    def commit_deploy(
        self,
        app: str,
        versions: list[VersionRecord],
        sboms: dict[tuple[str, str], bytes] | None = None,
    ) -> list[VersionRecord]:
        now = time.time()
        stored: list[VersionRecord] = []
        with self._tx() as conn:
            for v in versions:
                owner = conn.execute(
                    select(functions_t.c.app).where(functions_t.c.name == v.function)
                ).scalar()
                if owner is None:
                    conn.execute(
                        insert(functions_t).values(name=v.function, app=app, created_at=now)
                    )
                elif owner != app:
                    from ramparts.errors import Conflict

                    raise Conflict(f"function {v.function!r} belongs to app {owner!r}")
                existing = conn.execute(
                    select(versions_t).where(
                        and_(versions_t.c.function == v.function, versions_t.c.version == v.version)
                    )
                ).first()
                if existing is None:
                    seq = (
                        conn.execute(
                            select(func.max(versions_t.c.seq)).where(
                                versions_t.c.function == v.function
                            )
                        ).scalar()
                        or 0
                    ) + 1
                    conn.execute(
                        insert(versions_t).values(
                            function=v.function,
                            version=v.version,
                            seq=seq,
                            app=app,
                            artifact=v.artifact,
                            requirements=v.requirements,
                            config=json.dumps(v.config, sort_keys=True),
                            created_at=now,
                            auth=json.dumps(v.auth, sort_keys=True),
                            signature=v.signature,
                            app_config=(
                                json.dumps(v.app_config, sort_keys=True)
                                if v.app_config is not None
                                else None
                            ),
                            sbom=v.sbom,
                        )
                    )
                    self._put_sbom(conn, v, sboms)
                    existing = conn.execute(
                        select(versions_t).where(
                            and_(
                                versions_t.c.function == v.function,
                                versions_t.c.version == v.version,
                            )
                        )
                    ).first()
                elif existing.signature is None and v.signature is not None:
                    # An unsigned version (from before signing) deployed again: the
                    # deploy rebuilt it from the uploaded app, so it can be signed now.
                    if self._sign(conn, v.function, v.version, v.artifact, v.auth, v.signature):
                        conn.execute(
                            update(versions_t)
                            .where(
                                and_(
                                    versions_t.c.function == v.function,
                                    versions_t.c.version == v.version,
                                )
                            )
                            .values(sbom=v.sbom)
                        )
                        self._put_sbom(conn, v, sboms)
                    existing = conn.execute(
                        select(versions_t).where(
                            and_(
                                versions_t.c.function == v.function,
                                versions_t.c.version == v.version,
                            )
                        )
                    ).first()
                stored.append(self._version(existing))
                self._set_alias(conn, v.function, "live", v.version, now)
            self._bump(conn)
        return stored

    @staticmethod
    def _sign(
        conn: Connection,
        function: str,
        version: str,
        artifact: str,
        auth: dict[str, Any] | None,
        signature: str,
    ) -> bool:
        done = conn.execute(
            update(versions_t)
            .where(
                and_(
                    versions_t.c.function == function,
                    versions_t.c.version == version,
                    versions_t.c.signature.is_(None),
                )
            )
            .values(artifact=artifact, auth=json.dumps(auth, sort_keys=True), signature=signature)
        )
        return bool(done.rowcount)

    def sign_version(
        self,
        function: str,
        version: str,
        *,
        artifact: str,
        auth: dict[str, Any] | None,
        signature: str,
    ) -> bool:
        with self._tx() as conn:
            signed = self._sign(conn, function, version, artifact, auth, signature)
            if signed:
                self._bump(conn)
        return signed

    def has_signed_versions(self) -> bool:
        with self._tx() as conn:
            return (
                conn.execute(
                    select(versions_t.c.seq).where(versions_t.c.signature.isnot(None)).limit(1)
                ).first()
                is not None
            )

    def _set_alias(
        self, conn: Connection, function: str, name: str, version: str, now: float
    ) -> str | None:
        current = conn.execute(
            select(aliases_t.c.version).where(
                and_(aliases_t.c.function == function, aliases_t.c.name == name)
            )
        ).scalar()
        if current == version:
            return current
        if current is not None:
            self._released(conn, function, current, now)
        if current is None:
            conn.execute(
                insert(aliases_t).values(
                    function=function, name=name, version=version, updated_at=now
                )
            )
        else:
            conn.execute(
                update(aliases_t)
                .where(and_(aliases_t.c.function == function, aliases_t.c.name == name))
                .values(version=version, updated_at=now)
            )
        conn.execute(
            insert(alias_history_t).values(function=function, name=name, version=version, at=now)
        )
        return current

    @staticmethod
    def _released(conn: Connection, function: str, version: str, now: float) -> None:
        where = and_(
            version_releases_t.c.function == function, version_releases_t.c.version == version
        )
        conn.execute(delete(version_releases_t).where(where))
        conn.execute(insert(version_releases_t).values(function=function, version=version, at=now))

    def collect_versions(self, cutoff: float) -> Collected:
        with self._tx() as conn:
            aliased = {(r.function, r.version) for r in conn.execute(select(aliases_t)).all()}
            released = {
                (r.function, r.version): r.at
                for r in conn.execute(select(version_releases_t)).all()
            }
            rows = [self._version(r) for r in conn.execute(select(versions_t)).all()]
            gone = [
                v
                for v in rows
                if (v.function, v.version) not in aliased
                and max(v.created_at, released.get((v.function, v.version), 0.0)) < cutoff
            ]
            for v in gone:
                for table in (
                    versions_t,
                    alias_history_t,
                    version_releases_t,
                    version_sboms_t,
                    advisory_hits_t,
                ):
                    conn.execute(
                        delete(table).where(
                            and_(table.c.function == v.function, table.c.version == v.version)
                        )
                    )
            dropped = {(v.function, v.version) for v in gone}
            kept = [v for v in rows if (v.function, v.version) not in dropped]
            kept_artifacts = {v.artifact for v in kept}
            stale = [
                r.digest
                for r in conn.execute(select(artifacts_t.c.digest, artifacts_t.c.created_at))
                if r.digest not in kept_artifacts and r.created_at < cutoff
            ]
            for digest in stale:
                conn.execute(delete(artifacts_t).where(artifacts_t.c.digest == digest))
            if gone or stale:
                self._bump(conn)
        return Collected(
            gone, stale, kept_artifacts, {v.requirements for v in kept if v.requirements}
        )

    @staticmethod
    def _put_sbom(
        conn: Connection, v: VersionRecord, sboms: dict[tuple[str, str], bytes] | None
    ) -> None:
        document = (sboms or {}).get((v.function, v.version))
        if document is None:
            return
        where = and_(
            version_sboms_t.c.function == v.function, version_sboms_t.c.version == v.version
        )
        conn.execute(delete(version_sboms_t).where(where))  # a row an earlier version left
        conn.execute(
            insert(version_sboms_t).values(
                function=v.function, version=v.version, document=document
            )
        )

    def get_sbom(self, function: str, version: str) -> bytes | None:
        with self._tx() as conn:
            row = conn.execute(
                select(version_sboms_t.c.document).where(
                    and_(
                        version_sboms_t.c.function == function,
                        version_sboms_t.c.version == version,
                    )
                )
            ).first()
        return None if row is None else bytes(row[0])

    def advisory_hits_add(self, rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        new: list[dict[str, Any]] = []
        for row in rows:
            try:
                with self._tx() as conn:
                    conn.execute(insert(advisory_hits_t).values(**row))
            except IntegrityError:
                continue  # reported before (by this node or another)
            new.append(row)
        return new

    def get_alias(self, function: str, name: str) -> str | None:
        with self._tx() as conn:
            return conn.execute(
                select(aliases_t.c.version).where(
                    and_(aliases_t.c.function == function, aliases_t.c.name == name)
                )
            ).scalar()

    def list_aliases(self, function: str) -> dict[str, str]:
        with self._tx() as conn:
            rows = conn.execute(select(aliases_t).where(aliases_t.c.function == function)).all()
        return {r.name: r.version for r in rows}

    def set_alias(self, function: str, name: str, version: str) -> str | None:
        with self._tx() as conn:
            if (
                conn.execute(
                    select(versions_t.c.seq).where(
                        and_(versions_t.c.function == function, versions_t.c.version == version)
                    )
                ).first()
                is None
            ):
                raise NotFound(f"function {function!r} has no version {version[:12]}")
            previous = self._set_alias(conn, function, name, version, time.time())
            self._bump(conn)
        return previous

    @staticmethod
    def _rollback_target(conn: Connection, function: str, name: str) -> tuple[str, str]:
        current = conn.execute(
            select(aliases_t.c.version).where(
                and_(aliases_t.c.function == function, aliases_t.c.name == name)
            )
        ).scalar()
        if current is None:
            raise NotFound(f"function {function!r} has no alias {name!r}")
        history = (
            conn.execute(
                select(alias_history_t.c.version)
                .where(and_(alias_history_t.c.function == function, alias_history_t.c.name == name))
                .order_by(alias_history_t.c.id.desc())
            )
            .scalars()
            .all()
        )
        # The newest entry is the current target; walk back to the first different one.
        target = next((v for v in history[1:] if v != current), None)
        if target is None:
            raise NotFound(f"function {function!r} has no earlier version to roll back to")
        return current, target

    def rollback_target(self, function: str, name: str) -> tuple[str, str]:
        with self._tx() as conn:
            return self._rollback_target(conn, function, name)

    def rollback_alias(self, function: str, name: str) -> tuple[str, str]:
        with self._tx() as conn:
            if self._engine.dialect.name == "postgresql":
                # Serialise concurrent rollbacks of the same alias across nodes.
                conn.execute(
                    select(aliases_t.c.version)
                    .where(and_(aliases_t.c.function == function, aliases_t.c.name == name))
                    .with_for_update()
                )
            current, target = self._rollback_target(conn, function, name)
            # Drop the current entry so a second rollback goes one step further back.
            newest = conn.execute(
                select(alias_history_t.c.id)
                .where(and_(alias_history_t.c.function == function, alias_history_t.c.name == name))
                .order_by(alias_history_t.c.id.desc())
                .limit(1)
            ).scalar()
            conn.execute(delete(alias_history_t).where(alias_history_t.c.id == newest))
            self._released(conn, function, current, time.time())
            conn.execute(
                update(aliases_t)
                .where(and_(aliases_t.c.function == function, aliases_t.c.name == name))
                .values(version=target, updated_at=time.time())
            )
            self._bump(conn)
        return current, target

    # KV ------------------------------------------------------------------------------
    def _add_events(self, conn: Connection, events: list[OutboxEntry]) -> None:
        for e in events:
            conn.execute(
                insert(outbox_t).values(
                    queue=e.queue,
                    body=e.body,
                    headers=json.dumps(e.headers),
                    message_id=e.message_id,
                )
            )

    def add_outbox(self, events: list[OutboxEntry]) -> None:
        with self._tx() as conn:
            self._add_events(conn, events)

    def _kv_where(self, app: str, table: str, key: str) -> Any:
        return and_(kv_t.c.app == app, kv_t.c.tbl == table, kv_t.c.key == key)

    def kv_put(
        self, app: str, table: str, key: str, value: bytes, events: list[OutboxEntry]
    ) -> bytes | None:
        now = time.time()
        with self._tx() as conn:
            where = self._kv_where(app, table, key)
            if self._engine.dialect.name == "postgresql":
                old = conn.execute(select(kv_t.c.value).where(where).with_for_update()).scalar()
            else:
                old = conn.execute(select(kv_t.c.value).where(where)).scalar()
            if old is None:
                conn.execute(
                    insert(kv_t).values(app=app, tbl=table, key=key, value=value, updated_at=now)
                )
            else:
                conn.execute(update(kv_t).where(where).values(value=value, updated_at=now))
            self._add_events(conn, events)
        return bytes(old) if old is not None else None

    def kv_get(self, app: str, table: str, key: str) -> bytes | None:
        with self._tx() as conn:
            value = conn.execute(
                select(kv_t.c.value).where(self._kv_where(app, table, key))
            ).scalar()
        return bytes(value) if value is not None else None

    def kv_delete(self, app: str, table: str, key: str, events: list[OutboxEntry]) -> bytes | None:
        with self._tx() as conn:
            where = self._kv_where(app, table, key)
            old = conn.execute(select(kv_t.c.value).where(where)).scalar()
            if old is None:
                return None
            conn.execute(delete(kv_t).where(where))
            self._add_events(conn, events)
        return bytes(old)

    def kv_query(self, app: str, table: str, prefix: str, limit: int) -> list[tuple[str, bytes]]:
        with self._tx() as conn:
            stmt = select(kv_t.c.key, kv_t.c.value).where(
                and_(kv_t.c.app == app, kv_t.c.tbl == table)
            )
            if prefix:
                # Compare by range rather than LIKE so '%' and '_' in keys stay literal.
                stmt = stmt.where(and_(kv_t.c.key >= prefix, kv_t.c.key < prefix + "\U0010ffff"))
            rows = conn.execute(stmt.order_by(kv_t.c.key).limit(limit)).all()
        return [(r.key, bytes(r.value)) for r in rows if r.key.startswith(prefix)]

    def kv_atomic(
        self,
        app: str,
        refs: list[KvRef],
        step: Callable[[dict[KvRef, bytes | None]], KvChange],
    ) -> None:
        for attempt in range(_ATOMIC_ATTEMPTS):
            try:
                self._kv_atomic_once(app, refs, step)
                return
            except IntegrityError:
                # A plain kv_put inserted one of the rows meanwhile: decide again.
                if attempt == _ATOMIC_ATTEMPTS - 1:
                    raise BackendError("the state store failed") from None

    def _kv_atomic_once(
        self,
        app: str,
        refs: list[KvRef],
        step: Callable[[dict[KvRef, bytes | None]], KvChange],
    ) -> None:
        now = time.time()
        wanted = sorted(set(refs))
        with self._tx() as conn:
            if self._engine.dialect.name == "postgresql":
                # Transaction-scoped locks on the keys themselves (present or not), taken
                # in one order so two transactions over the same keys cannot deadlock.
                for table, key in wanted:
                    conn.execute(
                        text("SELECT pg_advisory_xact_lock(hashtextextended(:k, 0))"),
                        {"k": f"kv\x1f{app}\x1f{table}\x1f{key}"},
                    )
            else:
                # SQLite: a first statement that writes takes the database's write lock
                # (waiting up to busy_timeout), so the reads below see the latest commit
                # and no other writer commits before this transaction does.
                conn.execute(
                    update(meta_t)
                    .where(meta_t.c.key == _GENERATION)
                    .values(value=meta_t.c.value)
                )
            old: dict[KvRef, bytes | None] = {}
            for table, key in wanted:
                value = conn.execute(
                    select(kv_t.c.value).where(self._kv_where(app, table, key))
                ).scalar()
                old[(table, key)] = bytes(value) if value is not None else None
            change = step(dict(old))
            for ref, value in change.writes.items():
                if ref not in old:
                    raise ValueError("kv_atomic: a step may only write the keys it read")
                where = self._kv_where(app, ref[0], ref[1])
                if value is None:
                    if old[ref] is not None:
                        conn.execute(delete(kv_t).where(where))
                elif old[ref] is None:
                    conn.execute(
                        insert(kv_t).values(
                            app=app, tbl=ref[0], key=ref[1], value=value, updated_at=now
                        )
                    )
                else:
                    conn.execute(update(kv_t).where(where).values(value=value, updated_at=now))
            self._add_events(conn, change.events)

    # objects --------------------------------------------------------------------------
    def _obj_where(self, app: str, bucket: str, key: str) -> Any:
        return and_(objects_t.c.app == app, objects_t.c.bucket == bucket, objects_t.c.key == key)

    @staticmethod
    def _object(row: Any) -> ObjectRecord:
        meta = getattr(row, "metadata", None)
        return ObjectRecord(
            row.bucket,
            row.key,
            row.size,
            row.etag,
            row.content_type,
            row.updated_at,
            json.loads(meta) if meta else {},
        )

    def object_put(
        self,
        app: str,
        bucket: str,
        key: str,
        data: bytes,
        content_type: str,
        events: list[OutboxEntry],
        *,
        size: int | None = None,
        etag: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> ObjectRecord:
        now = time.time()
        # A sealed blob is larger than the object: the caller passes the plaintext's size and etag.
        values = dict(
            data=data,
            content_type=content_type,
            size=len(data) if size is None else size,
            etag=_etag(data) if etag is None else etag,
            updated_at=now,
            metadata=json.dumps(metadata, sort_keys=True) if metadata else None,
        )
        with self._tx() as conn:
            where = self._obj_where(app, bucket, key)
            if conn.execute(select(objects_t.c.size).where(where)).first() is None:
                conn.execute(insert(objects_t).values(app=app, bucket=bucket, key=key, **values))
            else:
                conn.execute(update(objects_t).where(where).values(**values))
            self._add_events(conn, events)
        return ObjectRecord(
            bucket, key, values["size"], values["etag"], content_type, now, dict(metadata or {})
        )

    def object_get(self, app: str, bucket: str, key: str) -> tuple[ObjectRecord, bytes] | None:
        with self._tx() as conn:
            row = conn.execute(select(objects_t).where(self._obj_where(app, bucket, key))).first()
        return (self._object(row), bytes(row.data)) if row else None

    def object_delete(
        self, app: str, bucket: str, key: str, events: list[OutboxEntry]
    ) -> ObjectRecord | None:
        with self._tx() as conn:
            where = self._obj_where(app, bucket, key)
            row = conn.execute(select(objects_t).where(where)).first()
            if row is None:
                return None
            conn.execute(delete(objects_t).where(where))
            self._add_events(conn, events)
        return self._object(row)

    def object_list(
        self, app: str, bucket: str, prefix: str, limit: int, *, after: str = ""
    ) -> list[ObjectRecord]:
        with self._tx() as conn:
            stmt = select(
                objects_t.c.bucket,
                objects_t.c.key,
                objects_t.c.size,
                objects_t.c.etag,
                objects_t.c.content_type,
                objects_t.c.updated_at,
            ).where(and_(objects_t.c.app == app, objects_t.c.bucket == bucket))
            if prefix:
                stmt = stmt.where(
                    and_(objects_t.c.key >= prefix, objects_t.c.key < prefix + "\U0010ffff")
                )
            if after:
                stmt = stmt.where(objects_t.c.key > after)
            rows = conn.execute(stmt.order_by(objects_t.c.key).limit(limit)).all()
        return [self._object(r) for r in rows if r.key.startswith(prefix)]

    # multipart uploads ---------------------------------------------------------------------
    def upload_create(self, app: str, upload: UploadRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                insert(uploads_t).values(
                    app=app,
                    upload_id=upload.upload_id,
                    bucket=upload.bucket,
                    key=upload.key,
                    content_type=upload.content_type,
                    metadata=json.dumps(upload.metadata, sort_keys=True),
                    created_at=upload.created_at,
                )
            )

    @staticmethod
    def _upload(row: Any) -> UploadRecord:
        return UploadRecord(
            row.upload_id,
            row.bucket,
            row.key,
            row.content_type,
            json.loads(row.metadata),
            row.created_at,
        )

    def upload_get(self, app: str, upload_id: str) -> UploadRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(uploads_t).where(
                    and_(uploads_t.c.app == app, uploads_t.c.upload_id == upload_id)
                )
            ).first()
        return self._upload(row) if row else None

    def upload_list(self, app: str, bucket: str, limit: int) -> list[UploadRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(uploads_t)
                .where(and_(uploads_t.c.app == app, uploads_t.c.bucket == bucket))
                .order_by(uploads_t.c.key, uploads_t.c.created_at)
                .limit(limit)
            ).all()
        return [self._upload(r) for r in rows]

    def upload_delete(self, app: str, upload_id: str) -> bool:
        with self._tx() as conn:
            conn.execute(
                delete(parts_t).where(and_(parts_t.c.app == app, parts_t.c.upload_id == upload_id))
            )
            gone = conn.execute(
                delete(uploads_t).where(
                    and_(uploads_t.c.app == app, uploads_t.c.upload_id == upload_id)
                )
            )
        return bool(gone.rowcount)

    def part_put(
        self, app: str, upload_id: str, number: int, data: bytes, *, size: int, etag: str
    ) -> None:
        where = and_(
            parts_t.c.app == app, parts_t.c.upload_id == upload_id, parts_t.c.number == number
        )
        with self._tx() as conn:
            conn.execute(delete(parts_t).where(where))
            conn.execute(
                insert(parts_t).values(
                    app=app, upload_id=upload_id, number=number, data=data, size=size, etag=etag
                )
            )

    def part_get(self, app: str, upload_id: str, number: int) -> bytes | None:
        with self._tx() as conn:
            data = conn.execute(
                select(parts_t.c.data).where(
                    and_(
                        parts_t.c.app == app,
                        parts_t.c.upload_id == upload_id,
                        parts_t.c.number == number,
                    )
                )
            ).scalar()
        return bytes(data) if data is not None else None

    def part_list(self, app: str, upload_id: str) -> list[PartRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(parts_t.c.number, parts_t.c.size, parts_t.c.etag)
                .where(and_(parts_t.c.app == app, parts_t.c.upload_id == upload_id))
                .order_by(parts_t.c.number)
            ).all()
        return [PartRecord(r.number, r.size, r.etag) for r in rows]

    # outbox ----------------------------------------------------------------------------
    def outbox_take(self, limit: int) -> list[OutboxEntry]:
        with self._tx() as conn:
            rows = conn.execute(select(outbox_t).order_by(outbox_t.c.seq).limit(limit)).all()
        return [
            OutboxEntry(r.seq, r.queue, bytes(r.body), json.loads(r.headers), r.message_id)
            for r in rows
        ]

    def outbox_delete(self, seqs: list[int]) -> None:
        if seqs:
            with self._tx() as conn:
                conn.execute(delete(outbox_t).where(outbox_t.c.seq.in_(seqs)))

    # records ---------------------------------------------------------------------------
    def _insert_many(
        self, table: Table, columns: tuple[str, ...], rows: list[tuple[Any, ...]]
    ) -> None:
        """One raw ``executemany`` in one transaction: the append-only tables' hot write.

        SQLAlchemy's compiled insert costs about as much per row as SQLite itself;
        the driver's own executemany with plain tuples halves the CPU per record.
        """
        marker = "?" if self._engine.dialect.paramstyle == "qmark" else "%s"
        quote = self._engine.dialect.identifier_preparer.quote
        names, markers = ", ".join(map(quote, columns)), ", ".join([marker] * len(columns))
        # Table and column names come from this module's schema, never from input.
        sql = f"INSERT INTO {quote(table.name)} ({names}) VALUES ({markers})"  # noqa: S608
        with self._tx() as conn:
            conn.exec_driver_sql(sql, rows)

    def add_invocations(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._insert_many(
                invocations_t,
                _INVOCATION_COLUMNS,
                [tuple(r.get(c) for c in _INVOCATION_COLUMNS) for r in rows],
            )

    def list_invocations(
        self,
        function: str,
        after: int,
        limit: int,
        *,
        request_id: str | None = None,
        since: float | None = None,
        until: float | None = None,
    ) -> list[dict[str, Any]]:
        t = invocations_t
        where = [t.c.function == function, t.c.seq > after]
        if request_id is not None:
            where.append(t.c.request_id == request_id)
        if since is not None:
            where.append(t.c.started_at >= since)
        if until is not None:
            where.append(t.c.started_at < until)
        with self._tx() as conn:
            rows = conn.execute(
                select(t).where(and_(*where)).order_by(t.c.seq).limit(limit)
            ).all()
        return [_row(r) for r in rows]

    def delete_invocations_before(self, cutoff: float, limit: int) -> int:
        # A bounded batch per transaction: a large backlog never holds the write lock
        # for long.  The subquery is walked on ix_invocations_started_at.
        t = invocations_t
        batch = select(t.c.seq).where(t.c.started_at < cutoff).limit(limit).scalar_subquery()
        with self._tx() as conn:
            return int(conn.execute(delete(t).where(t.c.seq.in_(batch))).rowcount or 0)

    def add_audit_events(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            self._insert_many(
                audit_t,
                _AUDIT_COLUMNS,
                [
                    (*(r.get(c) for c in _AUDIT_COLUMNS[:-1]), _detail_json(r.get("detail")))
                    for r in rows
                ],
            )

    def list_audit_events(self, after: int, limit: int) -> list[dict[str, Any]]:
        with self._tx() as conn:
            rows = conn.execute(
                select(audit_t).where(audit_t.c.seq > after).order_by(audit_t.c.seq).limit(limit)
            ).all()
        out = []
        for r in rows:
            row = _row(r)
            # ``seq`` stays the listing cursor; the chain position is ``chain_seq``.
            row["partition"] = row.pop("part")
            row["chain_seq"] = row.pop("pseq")
            row["detail"] = json.loads(r.detail)
            out.append(row)
        return out

    # audit chain (ramparts.observe.chain) ------------------------------------------------
    def append_audit_chain(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        values = [
            (*(r.get(c) for c in _CHAIN_COLUMNS[:9]), r["id"], r["partition"], r["seq"],
             r["prev"], r["hash"])
            for r in rows
        ]
        try:
            self._insert_many(audit_t, _CHAIN_COLUMNS, values)
        except IntegrityError as exc:
            # Another writer on this partition, or a replay raced: the chain refuses a fork.
            _log.error("audit chain insert refused: %s", cause(exc))
            raise BackendError("the audit chain refused a record (duplicate id or seq)") from exc

    def audit_head(self, partition: str) -> tuple[int, str] | None:
        with self._tx() as conn:
            row = conn.execute(
                select(audit_t.c.pseq, audit_t.c.hash)
                .where(audit_t.c.part == partition)
                .order_by(audit_t.c.pseq.desc())
                .limit(1)
            ).first()
        return (int(row.pseq), str(row.hash)) if row is not None else None

    def audit_last_signed(self, partition: str, limit: int = 2) -> list[tuple[int, str]]:
        with self._tx() as conn:
            rows = conn.execute(
                select(audit_t.c.pseq, audit_t.c.hash)
                .where(and_(audit_t.c.part == partition,
                            audit_t.c.kind.in_(("audit.checkpoint", "audit.anchor"))))
                .order_by(audit_t.c.pseq.desc())
                .limit(limit)
            ).all()
        return [(int(r.pseq), str(r.hash)) for r in rows]

    def audit_records_by_id(self, ids: list[str]) -> dict[str, dict[str, Any]]:
        found: dict[str, dict[str, Any]] = {}
        with self._tx() as conn:
            for i in range(0, len(ids), 500):
                rows = conn.execute(
                    select(audit_t).where(audit_t.c.id.in_(ids[i : i + 500]))
                ).all()
                found.update((r.id, self._chain_record(r)) for r in rows)
        return found

    @staticmethod
    def _chain_record(r: Any) -> dict[str, Any]:
        return {
            "id": r.id, "ts": r.ts, "node": r.node, "partition": r.part, "seq": r.pseq,
            "kind": r.kind, "decision": r.decision, "principal": r.principal,
            "action": r.action, "resource": r.resource, "request_id": r.request_id,
            "detail": r.detail, "prev": r.prev, "hash": r.hash,
        }

    def audit_partitions(self) -> list[str]:
        with self._tx() as conn:
            return sorted(
                str(p) for p in conn.execute(
                    select(audit_t.c.part).where(audit_t.c.part.is_not(None)).distinct()
                ).scalars()
            )

    def audit_unchained(self) -> int:
        with self._tx() as conn:
            return int(
                conn.execute(
                    select(func.count()).select_from(audit_t).where(audit_t.c.part.is_(None))
                ).scalar_one()
            )

    def audit_unchained_inserted(self, limit: int = 10) -> list[int]:
        with self._tx() as conn:
            first = conn.execute(
                select(func.min(audit_t.c.seq)).where(audit_t.c.part.is_not(None))
            ).scalar()
            if first is None:
                return []
            return [
                int(s) for s in conn.execute(
                    select(audit_t.c.seq)
                    .where(and_(audit_t.c.part.is_(None), audit_t.c.seq > first))
                    .order_by(audit_t.c.seq)
                    .limit(limit)
                ).scalars()
            ]

    def audit_chain_page(
        self, partition: str, after_seq: int, limit: int, *, through: int | None = None
    ) -> list[dict[str, Any]]:
        """Chain records in seq order, ``detail`` as its stored text (what was hashed)."""
        stmt = select(audit_t).where(and_(audit_t.c.part == partition, audit_t.c.pseq > after_seq))
        if through is not None:
            stmt = stmt.where(audit_t.c.pseq <= through)
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(audit_t.c.pseq).limit(limit)).all()
        return [self._chain_record(r) for r in rows]

    def audit_span(self, t_from: float, t_to: float) -> dict[str, tuple[int, int]]:
        with self._tx() as conn:
            rows = conn.execute(
                select(audit_t.c.part, func.min(audit_t.c.pseq), func.max(audit_t.c.pseq))
                .where(and_(audit_t.c.part.is_not(None), audit_t.c.ts >= t_from,
                            audit_t.c.ts <= t_to))
                .group_by(audit_t.c.part)
            ).all()
        return {str(r[0]): (int(r[1]), int(r[2])) for r in rows}

    def audit_prune_point(self, partition: str, cutoff: float) -> tuple[int, str] | None:
        where = audit_t.c.part == partition
        with self._tx() as conn:
            first = conn.execute(select(func.min(audit_t.c.pseq)).where(where)).scalar()
            young = conn.execute(
                select(func.min(audit_t.c.pseq)).where(and_(where, audit_t.c.ts >= cutoff))
            ).scalar()
            last = conn.execute(select(func.max(audit_t.c.pseq)).where(where)).scalar()
            if first is None:
                return None
            through = int(young) - 1 if young is not None else int(last)
            if through < int(first):
                return None
            hash_ = conn.execute(
                select(audit_t.c.hash).where(and_(where, audit_t.c.pseq == through))
            ).scalar()
        return (through, str(hash_)) if hash_ is not None else None

    def audit_delete_through(self, partition: str, through: int) -> int:
        with self._tx() as conn:
            result = conn.execute(
                delete(audit_t).where(and_(audit_t.c.part == partition,
                                           audit_t.c.pseq <= through))
            )
        return int(result.rowcount or 0)

    def add_dead_letter(self, row: dict[str, Any]) -> None:
        with self._tx() as conn:
            conn.execute(insert(dead_letters_t).values(**row))

    def list_dead_letters(self, function: str | None, limit: int) -> list[dict[str, Any]]:
        stmt = select(dead_letters_t)
        if function:
            stmt = stmt.where(dead_letters_t.c.function == function)
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(dead_letters_t.c.seq.desc()).limit(limit)).all()
        return [_row(r) for r in rows]

    def claim_schedule_tick(self, function: str, trigger: str, tick: float) -> bool:
        try:
            with self._tx() as conn:
                conn.execute(
                    insert(schedule_ticks_t).values(
                        function=function, trigger=trigger, tick=tick, claimed_at=time.time()
                    )
                )
            return True
        except IntegrityError:
            return False  # claimed already (by another node)

    # alerts (ramparts.respond) ------------------------------------------------------------
    def add_alerts(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self._tx() as conn:
                conn.execute(
                    insert(alerts_t),
                    [{**r, "evidence": json.dumps(list(r["evidence"]))} for r in rows],
                )

    def update_alerts(self, rows: list[dict[str, Any]]) -> None:
        if rows:
            with self._tx() as conn:
                for r in rows:
                    conn.execute(
                        update(alerts_t)
                        .where(alerts_t.c.id == r["id"])
                        .values(
                            count=r["count"],
                            last_ts=r["last_ts"],
                            evidence=json.dumps(list(r["evidence"])),
                        )
                    )

    def list_alerts(
        self, since: float, severities: list[str] | None, limit: int
    ) -> list[dict[str, Any]]:
        stmt = select(alerts_t).where(alerts_t.c.ts >= since)
        if severities is not None:
            stmt = stmt.where(alerts_t.c.severity.in_(severities))
        with self._tx() as conn:
            rows = conn.execute(stmt.order_by(alerts_t.c.seq.desc()).limit(limit)).all()
        return [{**_row(r), "evidence": json.loads(r.evidence)} for r in rows]

    # the WAF's run-time block list (ramparts.gateway.blocklist) --------------------------
    @staticmethod
    def _block(row: Any) -> BlockRecord:
        return BlockRecord(
            network=row.network,
            created_at=row.created_at,
            expires_at=row.expires_at,
            reason=row.reason,
            actor=row.actor,
            source_ip=row.source_ip,
            node=row.node,
        )

    def _bump_blocks(self, conn: Connection) -> None:
        self._blocks_generation.bump(conn)

    def block_put(self, record: BlockRecord) -> bool:
        values = {
            "network": record.network,
            "created_at": record.created_at,
            "expires_at": record.expires_at,
            "reason": record.reason,
            "actor": record.actor,
            "source_ip": record.source_ip,
            "node": record.node,
        }
        for attempt in range(_ATOMIC_ATTEMPTS):
            try:
                with self._tx() as conn:
                    gone = conn.execute(
                        delete(waf_blocks_t).where(waf_blocks_t.c.network == record.network)
                    ).rowcount
                    conn.execute(insert(waf_blocks_t).values(**values))
                    self._bump_blocks(conn)
                return bool(gone)
            except IntegrityError:
                # Another node inserted the same network between our delete and insert.
                if attempt == _ATOMIC_ATTEMPTS - 1:
                    raise BackendError("the state store failed") from None
        raise AssertionError("unreachable")  # pragma: no cover

    def block_delete(self, network: str, now: float) -> BlockRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(waf_blocks_t).where(waf_blocks_t.c.network == network)
            ).first()
            if row is None:
                return None
            conn.execute(delete(waf_blocks_t).where(waf_blocks_t.c.network == network))
            self._bump_blocks(conn)
        record = self._block(row)
        return record if record.expires_at is None or record.expires_at > now else None

    def block_list(self) -> list[BlockRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(waf_blocks_t).order_by(
                    waf_blocks_t.c.created_at, waf_blocks_t.c.network
                )
            ).all()
        return [self._block(r) for r in rows]

    def block_count(self, now: float) -> int:
        live = (waf_blocks_t.c.expires_at.is_(None)) | (waf_blocks_t.c.expires_at > now)
        with self._tx() as conn:
            return int(
                conn.execute(select(func.count()).select_from(waf_blocks_t).where(live))
                .scalar_one()
            )

    def block_prune(self, now: float) -> list[BlockRecord]:
        # RETURNING: of nodes pruning at once, each reports only the rows it deleted.
        stmt = (
            delete(waf_blocks_t)
            .where(waf_blocks_t.c.expires_at <= now)
            .returning(*waf_blocks_t.c)
        )
        with self._tx() as conn:
            rows = conn.execute(stmt).all()
            if rows:
                self._bump_blocks(conn)
        return sorted((self._block(r) for r in rows), key=lambda r: r.network)

    def block_generation(self) -> int:
        return self._blocks_generation.read(self._tx)

    # invocation budgets (ramparts.budget) -------------------------------------------------
    def budget_add(self, rows: list[dict[str, Any]]) -> None:
        if not rows:
            return
        with self._tx() as conn:
            if conn.dialect.name == "postgresql":
                from sqlalchemy.dialects.postgresql import insert as upsert
            else:
                from sqlalchemy.dialects.sqlite import insert as upsert
            stmt = upsert(budget_usage_t)
            stmt = stmt.on_conflict_do_update(
                index_elements=["scope", "window"],
                set_={
                    "invocations": budget_usage_t.c.invocations + stmt.excluded.invocations,
                    "compute_ms": budget_usage_t.c.compute_ms + stmt.excluded.compute_ms,
                },
            )
            # One order for every node: two flushes never wait on each other's rows crosswise.
            conn.execute(stmt, sorted(rows, key=lambda r: (r["scope"], r["window"])))

    def budget_usage(self, windows: list[str]) -> dict[tuple[str, str], tuple[int, int]]:
        stmt = select(
            budget_usage_t.c.scope,
            budget_usage_t.c.window,
            budget_usage_t.c.invocations,
            budget_usage_t.c.compute_ms,
        ).where(budget_usage_t.c.window.in_(windows))
        with self._tx() as conn:
            return {(r[0], r[1]): (int(r[2]), int(r[3])) for r in conn.execute(stmt)}

    def budget_mark(self, scope: str, window: str, what: str, ends_at: float = 0.0) -> bool:
        try:
            with self._tx() as conn:
                conn.execute(
                    insert(budget_marks_t).values(
                        scope=scope, window=window, what=what, ends_at=ends_at
                    )
                )
            return True
        except IntegrityError:
            return False  # claimed already (by another node)

    def budget_overrides(self) -> dict[str, dict[str, int]]:
        with self._tx() as conn:
            rows = conn.execute(
                select(budget_overrides_t.c.scope, budget_overrides_t.c.fields)
            ).all()
        return {r[0]: json.loads(r[1]) for r in rows}

    def budget_set_override(self, scope: str, fields: dict[str, int] | None) -> None:
        with self._tx() as conn:
            conn.execute(delete(budget_overrides_t).where(budget_overrides_t.c.scope == scope))
            if fields:
                conn.execute(
                    insert(budget_overrides_t).values(
                        scope=scope,
                        fields=json.dumps(fields, sort_keys=True),
                        updated_at=time.time(),
                    )
                )

    def budget_prune(self, before: float) -> None:
        with self._tx() as conn:
            conn.execute(delete(budget_usage_t).where(budget_usage_t.c.ends_at < before))
            conn.execute(delete(budget_marks_t).where(budget_marks_t.c.ends_at < before))
