"""The audit log: every security decision, allow or deny, durable and tamper-evident.

Path of a record:

1. ``emit`` (on the request path) redacts the record's free-text fields
   (principal, action, resource, request id, detail) and appends it
   as one line to the node's journal (``ramparts.observe.journal``): when
   ``emit`` returns the record survives a kill -9 of the node.  Denials and
   admin actions also get an ``fdatasync`` from the journal's syncer thread,
   grouped, for power loss.  ``emit`` does no other I/O.
2. The writer (off the event loop, every ~200 ms, at once for a denial)
   chains the records of its partition (``seq``, ``prev``, ``hash``; see
   ``ramparts.observe.chain``), stores them in one transaction, hands them to
   the sinks (SIEM export, detections, metrics), then deletes journal
   segments whose records are all stored.  At start it first re-stores what a
   killed node left in the journal, skipping ids the store already has.
3. Every ``checkpoint_interval`` seconds, and at shutdown, the writer appends
   a checkpoint record signed with the node's Ed25519 key and writes the same
   signed head to ``<data dir>/audit-head.json``.  Pruning (``retain``)
   writes a signed anchor record before it deletes old records, so the rest
   of the chain still verifies.
4. At start, before anything is signed, ``check_head`` compares the stored
   chain with the signed head file; the node refuses to start on a
   disagreement that no kill -9 explains (``Node._check_audit_head``).  On a
   store of this data dir alone (SQLite), every other chain in it must be one
   the head file lists as this data dir's earlier partition, ending where listed.
"""

from __future__ import annotations

import asyncio
import json
import logging
import math
import os
import threading
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Protocol

import orjson

from ramparts.aio import wait_event
from ramparts.errors import StorageError
from ramparts.files import write_private
from ramparts.observe.chain import (
    ANCHOR_KIND,
    CHECKPOINT_KIND,
    GENESIS,
    ChainVerifier,
    record_hash,
    statement_payload,
)
from ramparts.observe.journal import Journal
from ramparts.observe.redact import redactor
from ramparts.store import Store

log = logging.getLogger("ramparts.observe")

HEAD_FILE = "audit-head.json"
JOURNAL_DIR = "audit-journal"
_ORJSON_OPTS = orjson.OPT_SORT_KEYS | orjson.OPT_NON_STR_KEYS


class AuditSink(Protocol):
    """Something that consumes audit records once they are stored (SIEM export, detections,
    metrics).  ``deliver`` runs on the audit writer's thread, after the store accepted the
    batch: it must be quick (queue and return) and never raise into the writer.  Records
    carry their chain fields (``partition``, ``seq``, ``prev``, ``hash``); records replayed
    from the journal after a crash may be delivered a second time: receivers dedup on ``id``."""

    def deliver(self, records: Sequence[dict[str, Any]]) -> None: ...


class Signer(Protocol):
    """The node's Ed25519 key (``ramparts.crypto.signing.VersionSigner``)."""

    key_id: str

    def sign(self, payload: bytes) -> str: ...

    def verify(self, payload: bytes, signature: str) -> bool: ...

    def public_key_pem(self) -> str: ...


def _redact(value: Any, seen: dict[str, str]) -> Any:
    if isinstance(value, str):
        out = seen.get(value)
        if out is None:
            out = seen[value] = redactor.redact_cached(value)
        return out
    if isinstance(value, dict):
        return {k: _redact(v, seen) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_redact(v, seen) for v in value]
    return value


def _redact_id(value: Any, seen: dict[str, str]) -> Any:
    """An identifier field: known secret values and token formats masked (see
    ``Redactor.redact_values``)."""
    if not isinstance(value, str):
        return value
    out = seen.get(value)
    if out is None:
        out = seen[value] = redactor.redact_cached(value, values_only=True)
    return out


def new_id() -> str:
    """A record id: 32 hex like a UUID, time-ordered like UUIDv7 (48-bit milliseconds, then
    80 random bits), so the unique index on ``id`` grows at its end instead of at random
    pages: with uuid4 ids, bench/audit_bench.py stored about a third as many records/s."""
    return f"{time.time_ns() // 1_000_000:012x}{os.urandom(10).hex()}"


def detail_text(detail: Any) -> str:
    """A record's detail as the JSON text that is stored and hashed (sorted keys)."""
    try:
        return orjson.dumps(detail or {}, option=_ORJSON_OPTS).decode()
    except TypeError:  # a value orjson does not know: json's rules
        return json.dumps(detail or {}, sort_keys=True, default=str)


class AuditLog:
    def __init__(
        self,
        store: Store,
        node_id: str,
        *,
        data_dir: Path | None = None,
        partition: str | None = None,
        signer: Signer | None = None,
        own_store: bool = False,
        checkpoint_interval: float = 60.0,
        retain: float | None = None,
        prune_interval: float = 3600.0,
        interval: float = 0.2,
    ) -> None:
        """``data_dir`` holds the journal and the signed head; without it (unit use) records
        are only buffered, and without ``signer`` no checkpoints are written.  ``own_store``:
        the store belongs to this data dir alone (embedded SQLite), so every chain in it is
        this data dir's, now or under an earlier identity (``check_head``)."""
        self._node = node_id
        self._own_store = own_store
        # Partitions this data dir owned before (an earlier node-identity): their last
        # record {seq, hash}, signed in the head file with this partition's head.
        self._retired: dict[str, dict[str, Any]] = {}
        # Chains in an own store that no head file vouches for (check_head), taken over
        # as retired if the operator accepts the loss (accept_unvouched).
        self._unvouched: dict[str, tuple[int, str]] = {}
        self._store = store
        self._partition = partition or node_id
        self._signer = signer
        self._checkpoint_interval = checkpoint_interval
        self._retain = retain
        # Hourly, or more often for a short retention (never older than 1.25 x retain).
        self._prune_interval = (
            min(prune_interval, max(1.0, retain / 4)) if retain else prune_interval
        )
        self._interval = interval
        self._data_dir = data_dir
        self._sinks: list[AuditSink] = []
        self._rows: list[dict[str, Any]] = []
        self._lock = threading.Lock()  # journal line and buffer entry go together
        self._write_lock = asyncio.Lock()
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._head: tuple[int, str] | None = None  # (seq, hash) of the partition's last record
        self._signed_seq = 0  # the seq of the last checkpoint this run wrote
        # The first tick with records signs them: a node that dies young leaves a signed chain.
        self._last_checkpoint = -math.inf
        self._last_prune = -math.inf  # the first tick prunes
        # A partition with nothing signed yet (check_head): its first stored batch carries a
        # checkpoint in the same transaction, so a chain without one is never legitimate.
        self._first_checkpoint_due = False
        self._pending_segments: list[Path] = []
        self._journal: Journal | None = None
        if data_dir is not None:
            self._journal = Journal(data_dir / JOURNAL_DIR)
            for rec in self._journal.leftovers():
                rec["_replayed"] = True
                self._rows.append(rec)
            self._pending_segments = self._journal.take_old()
            if self._rows:
                log.warning("audit: %d journal records from the last run to store", len(self._rows))

    @property
    def partition(self) -> str:
        return self._partition

    @property
    def retired(self) -> dict[str, dict[str, Any]]:
        """Partitions this data dir owned under an earlier identity: their vouched end."""
        return dict(self._retired)

    @property
    def head_path(self) -> Path | None:
        return self._data_dir / HEAD_FILE if self._data_dir is not None else None

    def add_sink(self, sink: AuditSink) -> None:
        """Hand every stored record, redacted, to ``sink`` (see ``AuditSink``)."""
        self._sinks.append(sink)

    def start(self) -> None:
        if self._task is None:
            self._wake = asyncio.Event()
            self._task = asyncio.get_running_loop().create_task(self._run())

    # -- the request path ------------------------------------------------------------------
    def emit(
        self,
        kind: str,
        *,
        decision: str,
        principal: str,
        action: str,
        resource: str,
        request_id: str | None = None,
        **detail: Any,
    ) -> None:
        """Record a decision; once this returns the record survives a kill -9 of the node."""
        # Secret values never reach the journal, the store or a sink, in any free-text
        # field: a handler can put a secret into a resource name (a topic it may not
        # publish to) as easily as into the detail.  The identifier fields get known values
        # and token formats masked; the detail also "name: value" shapes, which would
        # misfire on identifiers (``secrets:APP:secret/NAME``).  One cache per call each:
        # the same string in several fields is redacted once.  id, kind, decision and ts
        # are the node's own.
        seen: dict[str, str] = {}
        record = {
            "id": new_id(),  # stable across retries and replays: receivers dedup on it
            "ts": time.time(),
            "node": self._node,
            "kind": kind,
            "decision": decision,
            "principal": _redact_id(principal, seen),
            "action": _redact_id(action, seen),
            "resource": _redact_id(resource, seen),
            "request_id": _redact_id(request_id, seen),
            "detail": _redact(detail, {}),
        }
        # Denials and admin actions: durable against power loss too, in grouped syncs.
        urgent = decision != "allow" or principal == "admin"
        with self._lock:
            if self._journal is not None:
                try:
                    self._journal.append(record, sync=urgent)
                except (OSError, ValueError) as exc:
                    # Still stored by the writer, unless the node dies first: say so loudly.
                    log.error("audit journal write failed (%s): record kept in memory only", exc)
            self._rows.append(record)
        if (urgent or len(self._rows) >= 2000) and self._wake is not None:
            self._wake.set()

    # -- the writer ------------------------------------------------------------------------
    async def _run(self) -> None:
        assert self._wake is not None
        while True:
            await wait_event(self._wake, self._interval)
            self._wake.clear()
            try:
                await self.flush(housekeeping=True)
            except asyncio.CancelledError:
                raise
            except Exception:  # the rows are kept; the next tick tries again
                log.exception("could not store %d audit records", len(self._rows))

    async def signed_head_state(self) -> tuple[dict[str, Any] | None, bool]:
        """This node's signed head and whether its chain has signed records, read together.

        Under the write lock: a checkpoint stores its record, then writes the head
        file; read between the two, a fresh node's head would look deleted (a false
        ``head_missing`` from a verify that ran during the first checkpoint).
        """
        async with self._write_lock:
            head = self.read_head()
            signed = await asyncio.to_thread(self._store.audit_last_signed, self._partition, 1)
        return head, bool(signed)

    async def flush(self, *, housekeeping: bool = False, checkpoint: bool = False) -> None:
        """Store what is buffered (readers that must see their own writes await this).

        ``housekeeping`` also writes a due checkpoint and runs a due prune;
        ``checkpoint`` forces a checkpoint now (shutdown, verify).
        """
        async with self._write_lock:
            with self._lock:
                rows, self._rows = self._rows, []
                segments = self._pending_segments
                if self._journal is not None:
                    segments = segments + self._journal.rotate_if_large()
                self._pending_segments = segments
            now = time.monotonic()
            unsigned = bool(rows) or self._head is None or self._head[0] != self._signed_seq
            due = checkpoint or (
                housekeeping
                and unsigned
                and self._signer is not None
                and now - self._last_checkpoint >= self._checkpoint_interval
            ) or (bool(rows) and self._first_checkpoint_due and self._signer is not None)
            if self._journal is not None and segments:
                await asyncio.to_thread(self._journal.retire)
            if rows or due:
                try:
                    await asyncio.to_thread(self._store_batch, rows, due)
                except BaseException:
                    # Maybe stored after all (a cancelled wait, a lost commit reply): the
                    # retry skips the ids the store has, and re-reads the chain's head.
                    for r in rows:
                        r["_replayed"] = True
                    with self._lock:
                        self._rows[:0] = rows
                    self._head = None
                    raise
            head = self._head
            if due and self._signed_seq and head is not None and head[0] == self._signed_seq:
                self._last_checkpoint = now  # a checkpoint is the head: the interval restarts
            with self._lock:
                done, self._pending_segments = self._pending_segments, []
            if done and self._journal is not None:
                self._journal.discard(done)
            if (housekeeping and self._retain and self._retain > 0
                    and now - self._last_prune >= self._prune_interval):
                self._last_prune = now
                await asyncio.to_thread(self._prune, self._retain)

    def _chain_head(self) -> tuple[int, str]:
        if self._head is None:
            found = self._store.audit_head(self._partition) or (0, GENESIS)
            signed = self._signed_head()
            if signed is not None and signed[0] > found[0]:
                # The store lost records the node signed (cut off its end): never re-use
                # their seqs, so the gap stays in the chain for verify to name.
                log.error(
                    "audit chain %s ends at record %d but its signed head is record %d: "
                    "records were removed from the store", self._partition, found[0], signed[0]
                )
                found = signed
            self._head = found
        return self._head

    def check_head(self) -> tuple[str, str] | None:
        """The signed head file against the stored chain, at start, before anything is signed.

        Returns ``(code, message)`` when they disagree in a way no crash explains (the
        node must then refuse to start unless told to accept the loss), else None.

        Order of a checkpoint (and of an anchor): the record is committed to the store,
        then the head file is written (atomically, fsynced).  So a kill -9 can leave the
        store one signed record ahead of the head file, and that record is then the
        chain's last.  The rule:

        - a head file that does not verify with the node's key, or names a record the
          chain does not have (another hash, or beyond its end): refused;
        - no head file, with signed records in the store: refused, unless the store's
          only signed record is its last record (a kill right after the first checkpoint);
        - a head file older than the store's newest signed record: refused, unless that
          record is the chain's last, the head is the signed record just before it, and
          the records between link from the head to it (a kill between commit and head
          write).  The head file is then brought up to date.

        Someone who also holds an old copy of the head file can still rewrite everything
        after that copy's checkpoint (docs/audit-log.md, "What it cannot detect").
        """
        if self._signer is None or self.head_path is None:
            return None
        self._retired = self._read_retired()
        own = self._check_own_head()
        others = self._check_other_chains()
        if own is None:
            return others
        if others is not None:
            return (own[0], f"{own[1]}; {others[1]}")
        return own

    def _read_retired(self) -> dict[str, dict[str, Any]]:
        """The retired partitions the verified head file lists (none if it does not verify)."""
        if self._signed_head() is None:
            return {}
        retired = (self.read_head() or {}).get("signed", {}).get("retired")
        if not isinstance(retired, dict):
            return {}
        return {str(p): {"seq": v["seq"], "hash": v["hash"]} for p, v in retired.items()
                if isinstance(v, dict) and isinstance(v.get("seq"), int)
                and isinstance(v.get("hash"), str)}

    def _check_other_chains(self) -> tuple[str, str] | None:
        """On a store of this data dir alone, every other chain in it is this data dir's
        under an earlier identity: it must end exactly where the head file says.

        Without this, changing ``node-identity`` (and deleting the head file) would turn
        this data dir's cut or rewritten chain into "another node's", whose tail nobody
        checks.  On a shared store (PostgreSQL) other chains are other nodes': not checked.
        """
        self._unvouched = {}
        if not self._own_store:
            return None
        causes = []
        for part in self._store.audit_partitions():
            if part == self._partition:
                continue
            last = self._store.audit_head(part)
            if last is None:
                continue
            known = self._retired.get(part)
            if known is not None and (known["seq"], known["hash"]) == last:
                continue
            self._unvouched[part] = last
            if known is None:
                causes.append(
                    f"the store holds the audit chain of partition {part} (records up to "
                    f"{last[0]}), which is not this data dir's partition {self._partition}, "
                    f"and no {HEAD_FILE} vouches for it: node-identity was changed or "
                    f"replaced, and {part}'s chain may have been cut or rewritten after its "
                    "last checkpoint")
            else:
                causes.append(
                    f"partition {part}, which this data dir owned before, ends at record "
                    f"{last[0]} but {HEAD_FILE} says record {known['seq']}: its chain was "
                    "cut or rewritten")
        if not causes:
            return None
        code = "head_missing" if any(p not in self._retired for p in self._unvouched) \
            else "head_not_in_chain"
        return (code, "; ".join(causes))

    def accept_unvouched(self) -> None:
        """``--accept-data-loss``: the chains ``check_head`` could not vouch for are taken as
        this data dir's earlier partitions, as stored now (the next head write signs that)."""
        for part, (seq, digest) in self._unvouched.items():
            self._retired[part] = {"seq": seq, "hash": digest}
        self._unvouched = {}

    def _check_own_head(self) -> tuple[str, str] | None:
        assert self._signer is not None
        name = HEAD_FILE
        signed = self._store.audit_last_signed(self._partition, 2)
        last = self._store.audit_head(self._partition)
        doc = self.read_head()
        if doc is None:
            if not signed:
                # Nothing signed yet: the first batch stored will carry its checkpoint.
                self._first_checkpoint_due = last is None
                if last is None:
                    return None
                return ("head_missing", f"{name} is missing and no record of the stored chain "
                        f"({last[0]} records) is signed: the chain's checkpoints were removed")
            if len(signed) == 1 and last is not None and signed[0] == last:
                self._repair_head(signed[0])  # killed before writing the first head
                return None
            return ("head_missing", f"{name} is missing but the stored chain has signed "
                    f"records up to record {signed[0][0]}: the head file was deleted (and the "
                    "chain after it may have been rewritten)")
        head = self._signed_head()
        if head is None:
            return ("head_invalid", f"{name} does not verify with this node's key or names "
                    "another partition")
        hseq, hhash = head
        at = self._store.audit_chain_page(self._partition, hseq - 1, 1, through=hseq)
        if not at or at[0]["hash"] != hhash:
            end = last[0] if last else 0
            return ("head_not_in_chain", f"{name} names record {hseq} but the stored chain "
                    + (f"ends at record {end} (records were cut off)" if hseq > end else
                       f"has another record {hseq} (the chain was rewritten)"))
        if not signed or signed[0][0] <= hseq:
            return None
        newest = signed[0]
        if (len(signed) == 2 and signed[1] == (hseq, hhash) and last == newest
                and self._links(hseq, hhash, newest)):
            self._repair_head(newest)  # killed between the commit and the head write
            return None
        return ("head_stale", f"{name} names record {hseq} but the stored chain has a newer "
                f"signed record {newest[0]} that no crash explains (the head file was rolled "
                "back, or the chain after it rewritten)")

    def _links(self, hseq: int, hhash: str, newest: tuple[int, str]) -> bool:
        """The records after the head link to it, hash right, up to ``newest`` (signed)."""
        assert self._signer is not None
        checker = ChainVerifier(self._partition, self._signer.verify, anchor_prev=hhash)
        after = hseq
        while after < newest[0]:
            page = self._store.audit_chain_page(self._partition, after, 2000, through=newest[0])
            if not page or not checker.feed(page):
                break
            after = page[-1]["seq"]
        rep = checker.finish()
        return (rep.problem is None and rep.first_seq == hseq + 1
                and rep.last_seq == newest[0] and rep.last_hash == newest[1])

    def _repair_head(self, head: tuple[int, str]) -> None:
        log.warning("audit: %s is behind the stored chain's newest checkpoint (record %d), "
                    "as a kill between the two writes leaves it: brought up to date",
                    HEAD_FILE, head[0])
        self._write_head({"partition": self._partition, "seq": head[0], "hash": head[1],
                          "ts": time.time()})

    def _signed_head(self) -> tuple[int, str] | None:
        """(seq, hash) of this node's signed head file, if it verifies with the node's key."""
        doc = self.read_head()
        if not doc or self._signer is None:
            return None
        signed = doc.get("signed")
        if (
            not isinstance(signed, dict)
            or signed.get("partition") != self._partition
            or not isinstance(signed.get("seq"), int)
            or not self._signer.verify(statement_payload("head", signed),
                                       str(doc.get("signature", "")))
        ):
            return None
        return int(signed["seq"]), str(signed.get("hash"))

    def _link(self, rec: dict[str, Any], seq: int, prev: str) -> dict[str, Any]:
        row = {
            "id": rec["id"],
            "ts": float(rec["ts"]),
            "node": rec["node"],
            "partition": self._partition,
            "seq": seq,
            "kind": rec["kind"],
            "decision": rec["decision"],
            "principal": rec["principal"],
            "action": rec["action"],
            "resource": rec["resource"],
            "request_id": rec.get("request_id"),
            "detail": detail_text(rec.get("detail")),
            "prev": prev,
        }
        row["hash"] = record_hash(row)
        return row

    def _signed_record(
        self, kind: str, seq: int, prev: str, extra: dict[str, Any]
    ) -> dict[str, Any]:
        assert self._signer is not None
        purpose = "anchor" if kind == ANCHOR_KIND else "checkpoint"
        signed = {"partition": self._partition, "seq": seq - 1, "hash": prev,
                  "ts": time.time(), **extra}
        rec = {
            "id": new_id(),
            "ts": signed["ts"],
            "node": self._node,
            "kind": kind,
            "decision": "allow",
            "principal": f"node:{self._node}",
            "action": "audit:Anchor" if kind == ANCHOR_KIND else "audit:Checkpoint",
            "resource": f"audit:{self._partition}",
            "request_id": None,
            "detail": {"signed": signed, "signature": self._signer.sign(
                statement_payload(purpose, signed)), "key_id": self._signer.key_id},
        }
        return self._link(rec, seq, prev)

    def _store_batch(self, rows: list[dict[str, Any]], checkpoint: bool) -> None:
        replayed = [r["id"] for r in rows if r.get("_replayed")]
        # Stored before a crash (or a lost reply): not stored again, but delivered again,
        # since the crash may have come between the store and the sinks.
        stored = self._store.audit_records_by_id(replayed) if replayed else {}
        known = set(stored)
        seq, prev = self._chain_head()
        chained: list[dict[str, Any]] = []
        for rec in rows:
            if rec["id"] in known:
                continue
            known.add(rec["id"])
            seq += 1
            row = self._link(rec, seq, prev)
            prev = row["hash"]
            chained.append(row)
        signed_head: dict[str, Any] | None = None
        if checkpoint and self._signer is not None and seq > 0 and seq != self._signed_seq:
            seq += 1
            row = self._signed_record(CHECKPOINT_KIND, seq, prev, {})
            prev = row["hash"]
            chained.append(row)
            signed_head = {"partition": self._partition, "seq": seq, "hash": prev,
                           "ts": time.time()}
        if stored:
            self._deliver(list(stored.values()))
        if not chained:
            return
        self._store.append_audit_chain(chained)
        self._head = (seq, prev)
        if signed_head is not None:
            self._first_checkpoint_due = False
            self._signed_seq = seq
            self._write_head(signed_head)
        self._deliver(chained)

    def _write_head(self, statement: dict[str, Any]) -> None:
        """The latest signed head, outside the table: a truncated tail shows against it."""
        if self.head_path is None or self._signer is None:
            return
        if self._retired:
            statement = {**statement, "retired": self._retired}
        doc = {"signed": statement, "key_id": self._signer.key_id,
               "signature": self._signer.sign(statement_payload("head", statement))}
        try:
            write_private(self.head_path, orjson.dumps(doc, option=orjson.OPT_INDENT_2))
        except (OSError, StorageError) as exc:  # verify then reports the stale head
            log.error("could not write the signed audit head: %s", exc)

    def read_head(self) -> dict[str, Any] | None:
        """The signed head file, or None if there is none (a fresh node)."""
        if self.head_path is None:
            return None
        try:
            return dict(orjson.loads(self.head_path.read_bytes()))
        except FileNotFoundError:
            return None
        except (OSError, orjson.JSONDecodeError, TypeError, ValueError):
            return {"signed": None, "signature": ""}  # present but unreadable: fails verify

    def _deliver(self, chained: list[dict[str, Any]]) -> None:
        if not self._sinks:
            return
        records = [{**r, "detail": json.loads(r["detail"])} for r in chained]
        for sink in self._sinks:
            try:
                sink.deliver(records)
            except Exception:  # a consumer's fault never loses or blocks the audit trail
                log.exception("audit sink %s failed", type(sink).__name__)

    # -- retention -------------------------------------------------------------------------
    async def prune(self, retain: float) -> dict[str, Any]:
        """Delete this partition's records older than ``retain`` seconds (whole records only)."""
        await self.flush()
        async with self._write_lock:
            return await asyncio.to_thread(self._prune, retain)

    def _prune(self, retain: float) -> dict[str, Any]:
        cutoff = time.time() - retain
        point = self._store.audit_prune_point(self._partition, cutoff)
        if point is None or self._signer is None:
            return {"partition": self._partition, "deleted": 0}
        through, pruned_hash = point
        seq, prev = self._chain_head()
        # First the signed anchor, in the chain: "records up to ``through`` went on purpose".
        row = self._signed_record(
            ANCHOR_KIND, seq + 1, prev, {"pruned_through": through, "pruned_hash": pruned_hash}
        )
        self._store.append_audit_chain([row])
        self._head = (seq + 1, row["hash"])
        self._signed_seq = seq + 1
        self._write_head({"partition": self._partition, "seq": seq + 1, "hash": row["hash"],
                          "ts": time.time()})
        self._deliver([row])
        deleted = self._store.audit_delete_through(self._partition, through)
        log.info("audit: pruned %d records of %s through seq %d", deleted, self._partition,
                 through)
        return {"partition": self._partition, "deleted": deleted, "through": through}

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
            self._task = None
        try:
            await self.flush(checkpoint=True)  # the shutdown checkpoint
        except Exception:  # the journal keeps them: the next start stores them
            log.exception("could not store %d audit records at shutdown", len(self._rows))
        if self._journal is not None:
            with self._lock:
                empty = not self._rows and not self._pending_segments
            self._journal.close(empty=empty)
            self._journal = None
