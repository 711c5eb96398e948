"""The audit log's hash chain: canonical encoding, signed statements, and the verifier.

Every stored audit record belongs to one *partition* (the stable identity of
the node that wrote it, so many nodes on one PostgreSQL each append their own
chain) and carries its position ``seq`` in that partition, the ``prev`` hash
of the record before it and its own ``hash``: SHA-256 over a canonical JSON
encoding of all its fields plus ``prev``.  Changing any byte of a record
changes its hash; deleting, inserting or reordering records breaks a ``prev``
link or a ``seq`` step.

A hash chain alone does not stop someone who can write the table from
re-hashing a whole forged chain, so the node signs statements about it with
its Ed25519 key (``ramparts.crypto.signing``): checkpoint records (kind
``audit.checkpoint``, themselves links of the chain, so deleting one breaks
it), anchor records written before pruning (kind ``audit.anchor``: "records up
to seq N, whose last hash was H, were deleted on purpose"), a signed head kept
outside the table (a file in the data dir) and the statement over an exported
range.  This module holds only pure functions over records: the node's verify
endpoint and the offline ``verify --file`` both run ``ChainVerifier``.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson
from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

__all__ = [
    "ANCHOR_KIND",
    "CHECKPOINT_KIND",
    "GENESIS",
    "HASHED_FIELDS",
    "ChainVerifier",
    "PartitionReport",
    "Problem",
    "canonical",
    "key_id_of",
    "public_key_verifier",
    "record_hash",
    "statement_payload",
]

GENESIS = "0" * 64  # the ``prev`` of a partition's first record
CHECKPOINT_KIND = "audit.checkpoint"
ANCHOR_KIND = "audit.anchor"
# The fields a record's hash covers (``detail`` as the exact JSON text stored).
HASHED_FIELDS = (
    "id", "ts", "node", "partition", "seq", "kind", "decision", "principal", "action",
    "resource", "request_id", "detail", "prev",
)

Verify = Callable[[bytes, str], bool]


def canonical(value: Any) -> bytes:
    """One byte string per value: compact JSON, keys sorted, UTF-8 (orjson: stable, and a
    tenth of json's cost on the writer's hot loop)."""
    return orjson.dumps(value, option=orjson.OPT_SORT_KEYS)


def record_hash(record: dict[str, Any]) -> str:
    """SHA-256 (hex) of a record's hashed fields; ``detail`` must be its stored JSON text."""
    return hashlib.sha256(canonical({k: record.get(k) for k in HASHED_FIELDS})).hexdigest()


def statement_payload(purpose: str, statement: dict[str, Any]) -> bytes:
    """What gets signed: the purpose first, so a signature for one use never fits another."""
    return b"ramparts.audit." + purpose.encode() + b"\n" + canonical(statement)


def key_id_of(public: Ed25519PublicKey) -> str:
    """The key id the signing module prints (first 16 hex of SHA-256 of the raw key)."""
    raw = public.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()[:16]


def public_key_verifier(public: Ed25519PublicKey) -> Verify:
    """``verify(payload, signature)`` for ``ed25519:<key id>:<base64>`` signatures by ``public``."""
    want = key_id_of(public)

    def verify(payload: bytes, signature: str) -> bool:
        prefix, _, rest = str(signature).partition(":")
        key_id, _, b64 = rest.partition(":")
        if prefix != "ed25519" or key_id != want:
            return False
        try:
            public.verify(base64.b64decode(b64, validate=True), payload)
        except (InvalidSignature, binascii.Error, ValueError):
            return False
        return True

    return verify


@dataclass
class Problem:
    """The first bad record of a partition: where, a stable code, and what is wrong."""

    partition: str
    seq: int | None
    code: str
    message: str

    def to_dict(self) -> dict[str, Any]:
        return {"partition": self.partition, "seq": self.seq, "code": self.code,
                "message": self.message}


@dataclass
class PartitionReport:
    partition: str
    records: int = 0
    first_seq: int | None = None
    last_seq: int | None = None
    last_hash: str | None = None
    checkpoints: int = 0
    last_signed_seq: int | None = None
    problem: Problem | None = None
    _anchors: dict[int, str] = field(default_factory=dict, repr=False)

    def to_dict(self) -> dict[str, Any]:
        return {
            "partition": self.partition,
            "records": self.records,
            "first_seq": self.first_seq,
            "last_seq": self.last_seq,
            "checkpoints": self.checkpoints,
            "last_signed_seq": self.last_signed_seq,
            "unsigned_tail": (
                0 if self.last_seq is None
                else self.last_seq - (self.last_signed_seq or 0)
            ),
            "ok": self.problem is None,
            "problem": self.problem.to_dict() if self.problem else None,
        }


class ChainVerifier:
    """Walks one partition's records in ``seq`` order and stops at the first bad one.

    ``anchor_prev`` is the ``prev`` the first record must carry when the walk
    does not start at the partition's beginning (an exported range); without
    it, a first record other than seq 1 needs a signed anchor saying the
    records before it were pruned on purpose.
    """

    def __init__(
        self,
        partition: str,
        verify: Verify,
        *,
        anchor_prev: str | None = None,
        head: dict[str, Any] | None = None,
    ) -> None:
        self.report = PartitionReport(partition)
        self._verify = verify
        self._anchor_prev = anchor_prev
        self._head = head
        self._head_hash: str | None = None  # the hash the walk saw at the head's seq
        self._first_prev: str | None = None
        self._expect_seq: int | None = None
        self._expect_prev: str | None = None

    def _fail(self, seq: int | None, code: str, message: str) -> None:
        if self.report.problem is None:
            self.report.problem = Problem(self.report.partition, seq, code, message)

    def feed(self, records: Iterable[dict[str, Any]]) -> bool:
        """Check the next records; False once a problem was found (stop feeding)."""
        rep = self.report
        for rec in records:
            if rep.problem is not None:
                return False
            seq = rec.get("seq")
            if not isinstance(seq, int):
                self._fail(None, "malformed", "a record has no sequence number")
                return False
            if rec.get("partition") != rep.partition:
                self._fail(seq, "modified", f"record {seq} names another partition")
                return False
            if self._expect_seq is None:
                rep.first_seq = seq
                self._first_prev = rec.get("prev")
                if self._anchor_prev is not None:
                    self._expect_prev = self._anchor_prev
                elif seq == 1:
                    self._expect_prev = GENESIS
                else:
                    self._expect_prev = rec.get("prev")  # checked against an anchor in finish()
            elif seq != self._expect_seq:
                if seq > self._expect_seq:
                    missing = f"{self._expect_seq}" + (
                        f"-{seq - 1}" if seq - 1 > self._expect_seq else ""
                    )
                    hseq = self._head.get("seq") if self._head else None
                    if isinstance(hseq, int) and self._expect_seq <= hseq < seq:
                        self._fail(self._expect_seq, "truncated", f"the chain was cut after "
                                   f"record {self._expect_seq - 1}: record(s) {missing} are "
                                   f"missing, the signed head is record {hseq}")
                    else:
                        self._fail(seq, "deleted",
                                   f"record(s) {missing} missing before record {seq}")
                else:
                    self._fail(seq, "reordered", f"record {seq} appears after record "
                               f"{self._expect_seq - 1}")
                return False
            if record_hash(rec) != rec.get("hash"):
                if rec.get("prev") != self._expect_prev:
                    self._fail(seq, "reordered", f"record {seq} is out of place: neither its "
                               "hash nor its link fit here (records were swapped, inserted or "
                               "renumbered)")
                else:
                    self._fail(seq, "modified", f"record {seq} does not match its hash "
                               "(its content was changed)")
                return False
            if rec.get("prev") != self._expect_prev:
                self._fail(seq, "broken_link", f"record {seq} does not link to record {seq - 1} "
                           "(a record was inserted, replaced or reordered here)")
                return False
            if rec.get("kind") in (CHECKPOINT_KIND, ANCHOR_KIND) and not self._signed(rec):
                return False
            if self._head is not None and seq == self._head.get("seq"):
                self._head_hash = rec["hash"]
            rep.records += 1
            rep.last_seq = seq
            rep.last_hash = rec["hash"]
            self._expect_seq = seq + 1
            self._expect_prev = rec["hash"]
        return rep.problem is None

    def _signed(self, rec: dict[str, Any]) -> bool:
        """A checkpoint or anchor: its signature, and that it signs the chain right before it."""
        seq = rec["seq"]
        try:
            detail = json.loads(rec["detail"]) if isinstance(rec["detail"], str) else rec["detail"]
            signed, signature = detail["signed"], detail["signature"]
            purpose = "anchor" if rec["kind"] == ANCHOR_KIND else "checkpoint"
            good = self._verify(statement_payload(purpose, signed), signature)
        except (KeyError, TypeError, ValueError):
            self._fail(seq, "bad_signature", f"{rec['kind']} record {seq} carries no signed "
                       "statement")
            return False
        if not good:
            self._fail(seq, "bad_signature", f"{rec['kind']} record {seq} is not signed by the "
                       "trusted key (forged or re-hashed chain)")
            return False
        if (signed.get("partition") != self.report.partition or signed.get("seq") != seq - 1
                or signed.get("hash") != rec["prev"]):
            self._fail(seq, "bad_signature", f"{rec['kind']} record {seq} signs a different "
                       "chain head than the records before it (re-hashed chain)")
            return False
        self.report.checkpoints += 1
        self.report.last_signed_seq = seq
        if rec["kind"] == ANCHOR_KIND:
            through = signed.get("pruned_through")
            if isinstance(through, int):
                self.report._anchors[through] = str(signed.get("pruned_hash"))
        return True

    def finish(self, *, require_signature: bool = True) -> PartitionReport:
        """Checks that need the whole walk: the pruned start, a signed head, a signature at all.

        The constructor's ``head`` is a signed statement ``{seq, hash}`` known to
        be in the chain (the node's head file, an export's closing statement):
        a chain that ends before it, or differs at it, was truncated or replaced.
        """
        head = self._head
        rep = self.report
        if rep.problem is not None:
            return rep
        if rep.first_seq is not None and rep.first_seq != 1 and self._anchor_prev is None:
            if rep._anchors.get(rep.first_seq - 1) != self._first_prev:
                self._fail(rep.first_seq, "deleted", f"records before {rep.first_seq} are "
                           "missing and no signed anchor says they were pruned")
                return rep
        if head is not None:
            hseq, hhash = head.get("seq"), head.get("hash")
            if rep.last_seq is None or not isinstance(hseq, int) or hseq > rep.last_seq:
                self._fail(rep.last_seq, "truncated", f"the signed head is record {hseq} but "
                           f"the chain ends at {rep.last_seq} (records were cut off the end)")
                return rep
            if hhash != self._head_hash:
                self._fail(hseq, "replaced", f"record {hseq} differs from the signed head "
                           "(the chain was replaced or re-hashed)")
                return rep
        if require_signature and rep.records and rep.checkpoints == 0:
            self._fail(rep.first_seq, "unsigned", "no record of this chain is covered by a "
                       "signature of the trusted key")
        return rep
