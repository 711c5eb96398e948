"""Where identity lives durably: API keys, OAuth2 clients, signing keys, a generation counter.

Tables sit in the node's state store (SQLite or PostgreSQL, the same engine
the registry uses) so every node of a cluster sees one truth.  Every change
that can take a credential away (revoke, delete, rotate) bumps
``identity_generation`` in the same transaction; nodes cache what they read
and re-validate their cache against that counter, read fresh for each request
(see ``GenerationReader``), so a revocation is effective on the next request on
every node.

Only hashes of API keys and client secrets are stored.  The OAuth2 signing
private keys and the HMAC server secret are envelope-encrypted with the
node's ``Sealer`` (AAD binds each to its row), so a copy of the database
alone neither mints tokens nor checks guessed keys offline; the background
re-wrap moves them to a new key-encryption key like user data.
"""

from __future__ import annotations

import asyncio
import json
import logging
import secrets
import sqlite3
import time
from collections.abc import Callable
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Connection, Engine
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from ramparts.crypto.envelope import Sealer, aad
from ramparts.errors import BackendError
from ramparts.store.rows import Counter, add_missing_columns, transaction

log = logging.getLogger("ramparts.identity")

metadata = MetaData()

identity_meta_t = Table(
    "identity_meta",
    metadata,
    Column("key", String(64), primary_key=True),
    Column("num", Integer, nullable=False, default=0),
    Column("text", Text),
)
api_keys_t = Table(
    "api_keys",
    metadata,
    Column("id", String(32), primary_key=True),  # the lookup prefix, shown by `keys list`
    Column("name", String(128), nullable=False),
    Column("hash", String(64), nullable=False),  # hex HMAC-SHA256(server secret, key)
    Column("scopes", Text, nullable=False),  # JSON list
    Column("app", String(63)),
    Column("created_at", Float, nullable=False),
    Column("expires_at", Float),
    Column("revoked_at", Float),
    Column("last_used_at", Float),
    Column("rate", Text),  # JSON list of limits ("50/second"); NULL: none (ramparts.ratelimit)
)
oauth_clients_t = Table(
    "oauth_clients",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("name", String(128), nullable=False),
    Column("secret_hash", String(64), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("app", String(63)),
    Column("created_at", Float, nullable=False),
    Column("deleted_at", Float),
    Column("rate", Text),  # JSON list of limits, as api_keys.rate
)
signing_keys_t = Table(
    "signing_keys",
    metadata,
    Column("kid", String(64), primary_key=True),
    Column("alg", String(16), nullable=False),
    Column("private_pem", Text, nullable=False),
    Column("public_jwk", Text, nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),  # None: the active key
)

_GENERATION = "identity_generation"
_SERVER_SECRET = "apikey_hmac_secret"  # noqa: S105 - a row name, not a secret


@dataclass(frozen=True)
class ApiKeyRecord:
    id: str
    name: str
    hash: str
    scopes: tuple[str, ...]
    app: str | None
    created_at: float
    expires_at: float | None
    revoked_at: float | None
    last_used_at: float | None
    rate: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "prefix": f"rk_{self.id}",
            "name": self.name,
            "scopes": list(self.scopes),
            "app": self.app,
            "created_at": self.created_at,
            "expires_at": self.expires_at,
            "revoked_at": self.revoked_at,
            "last_used_at": self.last_used_at,
            "rate": list(self.rate),
        }


@dataclass(frozen=True)
class ClientRecord:
    id: str
    name: str
    secret_hash: str
    scopes: tuple[str, ...]
    app: str | None
    created_at: float
    deleted_at: float | None
    rate: tuple[str, ...] = ()

    def public(self) -> dict[str, Any]:
        return {
            "client_id": self.id,
            "name": self.name,
            "scopes": list(self.scopes),
            "app": self.app,
            "created_at": self.created_at,
            "rate": list(self.rate),
        }


@dataclass(frozen=True)
class SigningKeyRecord:
    kid: str
    alg: str
    private_pem: str = field(repr=False)
    public_jwk: dict[str, Any] = field(default_factory=dict)
    created_at: float = 0.0
    retired_at: float | None = None


class IdentityRecords:
    """Synchronous access to the identity tables; callers run it in a worker thread."""

    def __init__(self, engine: Engine, sealer: Sealer) -> None:
        self._engine = engine
        self._sealer = sealer
        self._generation = Counter(identity_meta_t, _GENERATION)
        try:
            metadata.create_all(engine)
            for table in (api_keys_t, oauth_clients_t):
                # Stores made before per-key limits existed (NULL: no limit).
                add_missing_columns(engine, table.name, {"rate": "TEXT"})
            self._generation.ensure(self._tx)
        except IntegrityError:
            pass  # another node created the tables meanwhile

    def _tx(self) -> AbstractContextManager[Connection]:
        return transaction(self._engine)

    def generation_reader(self) -> GenerationReader:
        """The cheap, always-fresh read of ``generation`` for the request path."""
        return GenerationReader(self._engine)

    def generation(self) -> int:
        return self._generation.read(self._tx)

    def server_secret(self) -> bytes:
        """The cluster-wide HMAC key for API-key and client-secret hashes, made on first use."""
        with self._tx() as conn:
            row = conn.execute(
                select(identity_meta_t.c.text).where(identity_meta_t.c.key == _SERVER_SECRET)
            ).first()
        context = aad("identity", "meta", _SERVER_SECRET)
        if row is not None and row[0]:
            return bytes.fromhex(self._sealer.open_text(row[0], context))
        value = secrets.token_bytes(32)
        sealed = self._sealer.seal_text(value.hex(), context)
        try:
            with self._tx() as conn:
                conn.execute(insert(identity_meta_t).values(key=_SERVER_SECRET, num=0, text=sealed))
        except IntegrityError:
            return self.server_secret()  # another node won the race: use its secret
        return value

    # -- API keys ------------------------------------------------------------------------
    @staticmethod
    def _key(row: Any) -> ApiKeyRecord:
        return ApiKeyRecord(
            row.id,
            row.name,
            row.hash,
            tuple(json.loads(row.scopes)),
            row.app,
            row.created_at,
            row.expires_at,
            row.revoked_at,
            row.last_used_at,
            _rates(row.rate),
        )

    def add_api_key(self, rec: ApiKeyRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                insert(api_keys_t).values(
                    id=rec.id,
                    name=rec.name,
                    hash=rec.hash,
                    scopes=json.dumps(list(rec.scopes)),
                    app=rec.app,
                    created_at=rec.created_at,
                    expires_at=rec.expires_at,
                    rate=json.dumps(list(rec.rate)) if rec.rate else None,
                )
            )
            self._generation.bump(conn)  # drops any cached "no such key" answer on every node

    def get_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._tx() as conn:
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.id == key_id)).first()
        return self._key(row) if row else None

    def list_api_keys(self) -> list[ApiKeyRecord]:
        with self._tx() as conn:
            rows = conn.execute(select(api_keys_t).order_by(api_keys_t.c.created_at)).all()
        return [self._key(r) for r in rows]

    def revoke_api_key(self, key_id: str) -> ApiKeyRecord | None:
        with self._tx() as conn:
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.id == key_id)).first()
            if row is None:
                return None
            if row.revoked_at is None:
                conn.execute(
                    update(api_keys_t)
                    .where(api_keys_t.c.id == key_id)
                    .values(revoked_at=time.time())
                )
                self._generation.bump(conn)
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.id == key_id)).first()
        return self._key(row)

    def set_api_key_rate(self, key_id: str, rate: tuple[str, ...]) -> ApiKeyRecord | None:
        """Replace a key's own limits (empty: none); every node sees it on its next request."""
        with self._tx() as conn:
            result = conn.execute(
                update(api_keys_t)
                .where(api_keys_t.c.id == key_id)
                .values(rate=json.dumps(list(rate)) if rate else None)
            )
            if not result.rowcount:
                return None
            self._generation.bump(conn)  # cached keys (and their principals) are read again
            row = conn.execute(select(api_keys_t).where(api_keys_t.c.id == key_id)).first()
        return self._key(row)

    def touch_api_keys(self, used: dict[str, float]) -> None:
        """Record last use; batched by the caller so the hot path never writes."""
        if not used:
            return
        with self._tx() as conn:
            for key_id, at in used.items():
                conn.execute(
                    update(api_keys_t).where(api_keys_t.c.id == key_id).values(last_used_at=at)
                )

    # -- OAuth2 clients ------------------------------------------------------------------
    @staticmethod
    def _client(row: Any) -> ClientRecord:
        return ClientRecord(
            row.id,
            row.name,
            row.secret_hash,
            tuple(json.loads(row.scopes)),
            row.app,
            row.created_at,
            row.deleted_at,
            _rates(row.rate),
        )

    def add_client(self, rec: ClientRecord) -> None:
        with self._tx() as conn:
            conn.execute(
                insert(oauth_clients_t).values(
                    id=rec.id,
                    name=rec.name,
                    secret_hash=rec.secret_hash,
                    scopes=json.dumps(list(rec.scopes)),
                    app=rec.app,
                    created_at=rec.created_at,
                    rate=json.dumps(list(rec.rate)) if rec.rate else None,
                )
            )
            self._generation.bump(conn)

    def get_client(self, client_id: str) -> ClientRecord | None:
        with self._tx() as conn:
            row = conn.execute(
                select(oauth_clients_t).where(oauth_clients_t.c.id == client_id)
            ).first()
        return self._client(row) if row else None

    def list_clients(self) -> list[ClientRecord]:
        with self._tx() as conn:
            rows = conn.execute(
                select(oauth_clients_t)
                .where(oauth_clients_t.c.deleted_at.is_(None))
                .order_by(oauth_clients_t.c.created_at)
            ).all()
        return [self._client(r) for r in rows]

    def delete_client(self, client_id: str) -> bool:
        with self._tx() as conn:
            result = conn.execute(
                update(oauth_clients_t)
                .where((oauth_clients_t.c.id == client_id) & oauth_clients_t.c.deleted_at.is_(None))
                .values(deleted_at=time.time())
            )
            if result.rowcount:
                self._generation.bump(conn)
        return bool(result.rowcount)

    def set_client_rate(self, client_id: str, rate: tuple[str, ...]) -> ClientRecord | None:
        """Replace a client's own limits (empty: none), as ``set_api_key_rate``."""
        with self._tx() as conn:
            result = conn.execute(
                update(oauth_clients_t)
                .where((oauth_clients_t.c.id == client_id) & oauth_clients_t.c.deleted_at.is_(None))
                .values(rate=json.dumps(list(rate)) if rate else None)
            )
            if not result.rowcount:
                return None
            self._generation.bump(conn)
            row = conn.execute(
                select(oauth_clients_t).where(oauth_clients_t.c.id == client_id)
            ).first()
        return self._client(row)

    # -- signing keys --------------------------------------------------------------------
    def _signing(self, row: Any) -> SigningKeyRecord:
        return SigningKeyRecord(
            row.kid,
            row.alg,
            self._sealer.open_text(row.private_pem, aad("identity", "signing_key", row.kid)),
            json.loads(row.public_jwk),
            row.created_at,
            row.retired_at,
        )

    def signing_keys(self) -> list[SigningKeyRecord]:
        with self._tx() as conn:
            rows = conn.execute(select(signing_keys_t).order_by(signing_keys_t.c.created_at)).all()
        return [self._signing(r) for r in rows]

    def add_signing_key(self, rec: SigningKeyRecord, *, retire_others: bool) -> None:
        """Insert a key; with ``retire_others`` it becomes the only active key, atomically."""
        now = time.time()
        with self._tx() as conn:
            if retire_others:
                conn.execute(
                    update(signing_keys_t)
                    .where(signing_keys_t.c.retired_at.is_(None))
                    .values(retired_at=now)
                )
            conn.execute(
                insert(signing_keys_t).values(
                    kid=rec.kid,
                    alg=rec.alg,
                    private_pem=self._sealer.seal_text(
                        rec.private_pem, aad("identity", "signing_key", rec.kid)
                    ),
                    public_jwk=json.dumps(rec.public_jwk),
                    created_at=rec.created_at or now,
                )
            )
            self._generation.bump(conn)


def _rates(raw: str | None) -> tuple[str, ...]:
    if not raw:
        return ()
    value = json.loads(raw)
    return tuple(str(v) for v in value) if isinstance(value, list) else ()


class FreshCounter:
    """Reads a store counter so that every caller gets a value read *after* it asked.

    Concurrent callers share reads: a caller that arrives while a read is in
    flight waits for the next one (which starts after it arrived), so the
    answer is never older than the call, yet under load one store read serves
    many requests.  This is what makes a revocation effective on the next
    request on every node without one store round trip per request.
    """

    def __init__(self, read: Callable[[], int]) -> None:
        self._read = read
        self._pending: asyncio.Future[int] | None = None
        self._running = False

    async def get(self) -> int:
        if self._pending is None:
            self._pending = asyncio.get_running_loop().create_future()
            if not self._running:
                self._running = True
                asyncio.get_running_loop().create_task(self._drain())
        return await asyncio.shield(self._pending)

    async def _drain(self) -> None:
        try:
            while self._pending is not None:
                fut, self._pending = self._pending, None
                try:
                    value = await asyncio.to_thread(self._read)
                except Exception as exc:  # delivered to every waiter: they fail closed
                    if not fut.done():
                        fut.set_exception(exc)
                        fut.exception()  # mark retrieved; waiters re-raise it
                else:
                    if not fut.done():
                        fut.set_result(value)
        finally:
            self._running = False


_GENERATION_SQL = "SELECT num FROM identity_meta WHERE key = ?"


class GenerationReader:
    """The identity generation, read from the store *after* each caller asked for it.

    This is the read on the API-key hot path, so it is as cheap as a read of
    shared state can be while staying exact:

    * SQLite (a file): one primary-key lookup on a dedicated read-only
      connection, run inline on the event loop.  In WAL mode a reader never
      waits for a writer, so this costs microseconds, less than handing the
      read to a thread.  Each statement is its own read transaction, so it sees
      every transaction committed before it started, by any process.  If the
      database is momentarily busy (WAL recovery, a checkpoint restart) the
      inline read gives up at once and the read is retried in a thread with
      the store's normal busy timeout: never an older answer, only a slower one.
    * Any other backend (PostgreSQL): a ``FreshCounter`` over a raw statement
      on a pooled connection (psycopg prepares it server-side after a few
      uses): one network round trip, shared by the requests that arrived
      while the previous one was in flight, never older than the call.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._conn: sqlite3.Connection | None = None
        self._counter = FreshCounter(self._read_pooled)
        path = engine.url.database if engine.dialect.name == "sqlite" else None
        if path and path != ":memory:" and not path.startswith("file:"):
            conn = sqlite3.connect(path, timeout=0, isolation_level=None, check_same_thread=False)
            conn.execute("PRAGMA query_only = 1")
            self._conn = conn

    async def get(self) -> int:
        if self._conn is not None:
            try:
                row = self._conn.execute(_GENERATION_SQL, (_GENERATION,)).fetchone()
            except sqlite3.OperationalError:  # busy right now: wait for it in a thread
                return await asyncio.to_thread(self._read_pooled)
            if row is None:
                raise BackendError("the identity generation row is missing")
            return int(row[0])
        return await self._counter.get()

    def _read_pooled(self) -> int:
        sql = _GENERATION_SQL
        if self._engine.dialect.paramstyle != "qmark":
            sql = sql.replace("?", "%s")
        try:
            raw = self._engine.raw_connection()
        except SQLAlchemyError as exc:
            raise BackendError("the state store failed") from exc
        try:
            cur = raw.cursor()
            try:
                cur.execute(sql, (_GENERATION,))
                row = cur.fetchone()
            finally:
                cur.close()
            raw.commit()  # end the read transaction: the next read sees newer commits
        except Exception as exc:
            raw.invalidate()  # a connection that failed mid-read is not handed out again
            raise BackendError("the state store failed") from exc
        finally:
            raw.close()
        if row is None:
            raise BackendError("the identity generation row is missing")
        return int(row[0])

    def close(self) -> None:
        if self._conn is not None:
            self._conn.close()
            self._conn = None
