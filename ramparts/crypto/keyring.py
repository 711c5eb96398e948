"""The keyring: key-encryption keys (KEKs), wrapped by the master key, kept in the store.

KEKs live in the state store (table ``crypto_keks``) so that every node of a
cluster shares them; each is stored only wrapped by the master key.  Exactly
one KEK is *current*: the newest one that is not retired.  New records are
sealed under it; older KEKs stay available for opening until a re-wrap has
moved every record off them and an operator retires them (their wrapped
material is then deleted, which is what makes retirement meaningful).

A node that meets a KEK id it has not loaded (another node rotated) reloads
from the store before giving up, so rotation needs no restart anywhere.
"""

from __future__ import annotations

import threading
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    Float,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    insert,
    select,
    update,
)
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError

from ramparts.crypto.masterkey import MasterKey
from ramparts.errors import Conflict, DecryptionError, InvalidRequest, NotFound

crypto_metadata = MetaData()

keks_t = Table(
    "crypto_keks",
    crypto_metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("id", String(32), nullable=False, unique=True),
    Column("state", String(16), nullable=False),  # active | retired
    Column("wrapped", LargeBinary),  # NULL once retired
    Column("master_id", String(128), nullable=False),
    Column("created_at", Float, nullable=False),
    Column("retired_at", Float),
)
rewrap_jobs_t = Table(
    "crypto_rewrap_jobs",
    crypto_metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("target", String(32), nullable=False),
    Column("state", String(16), nullable=False),  # running | done
    Column("phase", Integer, nullable=False),
    Column("cursor", Text),  # JSON list: the last primary key done in this phase
    Column("processed", Integer, nullable=False),
    Column("rewrapped", Integer, nullable=False),
    Column("failed", Integer, nullable=False),
    Column("total", Integer, nullable=False),
    Column("started_at", Float, nullable=False),
    Column("finished_at", Float),
)


@dataclass(frozen=True)
class KekInfo:
    seq: int
    id: str
    state: str
    master_id: str
    created_at: float
    retired_at: float | None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "state": self.state,
            "master_key": self.master_id,
            "created_at": self.created_at,
            "retired_at": self.retired_at,
        }


def _info(row: Any) -> KekInfo:
    return KekInfo(row.seq, row.id, row.state, row.master_id, row.created_at, row.retired_at)


def has_keks(engine: Engine) -> bool:
    """Whether the store already holds KEKs (then a missing master key is fatal)."""
    crypto_metadata.create_all(engine)
    with engine.begin() as conn:
        return conn.execute(select(keks_t.c.seq).limit(1)).first() is not None


class Keyring:
    """Unwrapped KEKs in memory, the current one for sealing, all others for opening."""

    def __init__(self, engine: Engine, master: MasterKey) -> None:
        self._engine = engine
        self._master = master
        self._keys: dict[str, bytes] = {}
        self._current = ""
        self._lock = threading.Lock()
        crypto_metadata.create_all(engine)
        self.refresh()
        if not self._current:
            self._create()
            self.refresh()

    # -- the KeySource contract of the sealer -------------------------------------------------
    @property
    def current_id(self) -> str:
        return self._current

    def key(self, kek_id: str) -> bytes:
        found = self._keys.get(kek_id)
        if found is None:
            self.refresh()  # another node may have rotated
            found = self._keys.get(kek_id)
        if found is None:
            raise DecryptionError(f"unknown key-encryption key {kek_id!r}", code="unknown_key")
        return found

    # -- loading and changes ----------------------------------------------------------------------
    def refresh(self) -> None:
        """Load KEKs added by any node; forget retired ones."""
        with self._engine.begin() as conn:
            rows = conn.execute(select(keks_t).order_by(keks_t.c.seq)).all()
        with self._lock:
            keys: dict[str, bytes] = {}
            current = ""
            for row in rows:
                if row.state != "active" or row.wrapped is None:
                    continue
                material = self._keys.get(row.id)
                if material is None:
                    material = self._master.unwrap(bytes(row.wrapped), row.id.encode())
                keys[row.id] = material
                current = row.id
            self._keys = keys
            self._current = current

    def _create(self) -> KekInfo:
        from cryptography.hazmat.primitives.ciphers.aead import AESGCM

        for _ in range(5):
            with self._engine.begin() as conn:
                seq = (
                    conn.execute(select(keks_t.c.seq).order_by(keks_t.c.seq.desc())).scalar() or 0
                ) + 1
            kek_id = f"k{seq}"
            material = AESGCM.generate_key(bit_length=256)
            row = {
                "seq": seq,
                "id": kek_id,
                "state": "active",
                "wrapped": self._master.wrap(material, kek_id.encode()),
                "master_id": self._master.key_id,
                "created_at": time.time(),
                "retired_at": None,
            }
            try:
                with self._engine.begin() as conn:
                    conn.execute(insert(keks_t).values(**row))
            except IntegrityError:
                continue  # another node took this number at the same moment
            with self._lock:
                self._keys[kek_id] = material
            return KekInfo(seq, kek_id, "active", self._master.key_id, row["created_at"], None)
        raise Conflict("could not allocate a new key-encryption key id", code="kek_conflict")

    def rotate(self) -> KekInfo:
        """Introduce a new KEK; from now on every new record is sealed under it."""
        info = self._create()
        self.refresh()
        return info

    def list(self) -> list[KekInfo]:
        with self._engine.begin() as conn:
            return [_info(r) for r in conn.execute(select(keks_t).order_by(keks_t.c.seq)).all()]

    def retire(self, kek_id: str) -> KekInfo:
        """Delete a KEK's material; the caller has checked no record still needs it."""
        if kek_id == self._current:
            raise InvalidRequest(
                f"{kek_id} is the current key-encryption key; rotate first", code="kek_current"
            )
        with self._engine.begin() as conn:
            row = conn.execute(select(keks_t).where(keks_t.c.id == kek_id)).first()
            if row is None:
                raise NotFound(f"no key-encryption key {kek_id!r}", code="kek_not_found")
            if row.state == "retired":
                return _info(row)
            conn.execute(
                update(keks_t)
                .where(keks_t.c.id == kek_id)
                .values(state="retired", wrapped=None, retired_at=time.time())
            )
            row = conn.execute(select(keks_t).where(keks_t.c.id == kek_id)).first()
        self.refresh()
        return _info(row)

    def check(self) -> None:
        """Unwrap every active KEK now, so a wrong master key stops the node at start."""
        self.refresh()
