"""Audit evidence: verify the stored chains, export a range with its proof, verify an export.

The node's ``POST /v1/audit/verify`` walks every partition in the store with
``verify_store``; ``GET /v1/audit/export`` builds a document with
``build_export``; ``ramparts audit-log verify --file`` checks such a document
offline with ``verify_export`` (no node, no store: only the file and a
public key).  The checks themselves live in ``ramparts.observe.chain``.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ramparts.errors import InvalidRequest
from ramparts.observe.chain import (
    HASHED_FIELDS,
    ChainVerifier,
    key_id_of,
    public_key_verifier,
    statement_payload,
)
from ramparts.store import Store

__all__ = ["EXPORT_FORMAT", "build_export", "load_public_key", "verify_export", "verify_store"]

# /2: the signed statement covers each partition's start too (/1 signed only the ends, so
# a /1 file could lose its first records unnoticed; it is refused).
EXPORT_FORMAT = "ramparts-audit-export/2"
UNCHAINED = "(unchained)"  # the "partition" a problem with rows outside every chain names
_PAGE = 2000
# The fields each level of an export may have: anything else is not covered by a hash or
# the signature, so it is refused (``malformed``) rather than shown beside verified data.
_EXPORT_FIELDS = frozenset({"format", "partitions", "statement", "signature", "key_id",
                            "public_key"})
_STATEMENT_FIELDS = frozenset({"from", "to", "exported_at", "starts", "ends"})
_START_FIELDS = frozenset({"seq", "anchor_prev"})
_END_FIELDS = frozenset({"seq", "hash"})
_PARTITION_FIELDS = frozenset({"partition", "anchor_prev", "records"})
_RECORD_FIELDS = frozenset({*HASHED_FIELDS, "hash"})

Verify = Callable[[bytes, str], bool]


def verify_store(
    store: Store,
    verify: Verify,
    *,
    heads: dict[str, dict[str, Any] | None],
    retired: dict[str, dict[str, Any]] | None = None,
) -> dict[str, Any]:
    """Walk every partition; ``heads`` maps a partition to its signed head file's content.

    A partition listed in ``heads`` with ``None`` must have no records (its
    head file is missing: reported as ``head_missing``); the signed head's own
    signature is checked here.  ``retired``: partitions the node's data dir owned
    under an earlier identity, with their last record ``{seq, hash}`` (from its
    verified head file).  Every other partition's tail, after its last
    checkpoint, is vouched for by nothing this node has: its report says so
    (``tail_vouched`` false).
    """
    retired = retired or {}
    reports = []
    partitions = sorted(set(store.audit_partitions()) | set(heads))
    for part in partitions:
        head_doc = heads.get(part)
        head = None
        if head_doc is not None:
            signed = head_doc.get("signed")
            if not isinstance(signed, dict) or not verify(
                statement_payload("head", signed), str(head_doc.get("signature", ""))
            ) or signed.get("partition") != part:
                reports.append(_bad(part, "bad_signature", "the signed head file does not "
                                    "verify with the trusted key"))
                continue
            head = signed
        elif part in retired:
            head = retired[part]
        checker = ChainVerifier(part, verify, head=head)
        after = 0
        while True:
            page = store.audit_chain_page(part, after, _PAGE)
            if not page or not checker.feed(page):
                break
            after = page[-1]["seq"]
        rep = checker.finish()
        if part in heads and heads[part] is None and rep.records and rep.problem is None:
            reports.append({**rep.to_dict(), "ok": False, "problem": {
                "partition": part, "seq": rep.last_seq, "code": "head_missing",
                "message": "this node's signed head file (audit-head.json) is missing although "
                           "the chain has signed records (deleted: the chain may have been "
                           "cut or rewritten after an older checkpoint)"}})
            continue
        report = rep.to_dict()
        report["tail_vouched"] = head is not None
        if head is None and rep.problem is None:
            report["note"] = (
                f"ok up to its last checkpoint at seq {rep.last_signed_seq}; tail not vouched "
                "for" if rep.last_signed_seq else "no checkpoint; not vouched for")
        reports.append(report)
    problems = [r["problem"] for r in reports if r["problem"]]
    # Rows without chain fields are from before the chain only if they were written before
    # it began; one written after was inserted behind the node's back.
    inserted = store.audit_unchained_inserted()
    if inserted:
        problems.insert(0, {
            "partition": UNCHAINED, "seq": inserted[0], "code": "inserted",
            "message": f"row {inserted[0]} (listing seq) has no chain fields but was written "
                       "after chaining began" + (f" ({len(inserted)} such rows or more)"
                                                 if len(inserted) > 1 else ""),
        })
    return {
        "ok": not problems,
        "partitions": reports,
        "problem": problems[0] if problems else None,
        "unchained": store.audit_unchained(),  # all rows without chain fields
        "inserted_unchained": inserted,  # the first of them written after the chain began
    }


def _bad(part: str, code: str, message: str) -> dict[str, Any]:
    problem = {"partition": part, "seq": None, "code": code, "message": message}
    return {"partition": part, "records": 0, "first_seq": None, "last_seq": None,
            "checkpoints": 0, "last_signed_seq": None, "unsigned_tail": 0, "ok": False,
            "problem": problem}


def build_export(store: Store, signer: Any, t_from: float, t_to: float) -> dict[str, Any]:
    """Records with ``t_from <= ts <= t_to`` (each partition's contiguous seq span), with proof.

    The proof: each partition's anchor (the ``prev`` of its first exported
    record), the records themselves (signed checkpoints among them), and a
    fresh statement, signed now, over each partition's span: its first record
    (seq and anchor) and its last (seq and hash).  Both ends are signed, so
    records cut off either end, or partitions spliced in from another export,
    do not verify.
    """
    if t_from > t_to:
        raise InvalidRequest("--from is after --to", code="invalid_range")
    parts = []
    for part, (first, last) in sorted(store.audit_span(t_from, t_to).items()):
        records: list[dict[str, Any]] = []
        after = first - 1
        while True:
            page = store.audit_chain_page(part, after, _PAGE, through=last)
            records.extend(page)
            if len(page) < _PAGE:
                break
            after = page[-1]["seq"]
        if not records:
            continue
        parts.append({"partition": part, "anchor_prev": records[0]["prev"], "records": records})
    statement = {
        "from": t_from,
        "to": t_to,
        "exported_at": time.time(),
        "starts": {p["partition"]: {"seq": p["records"][0]["seq"], "anchor_prev": p["anchor_prev"]}
                   for p in parts},
        "ends": {p["partition"]: {"seq": p["records"][-1]["seq"], "hash": p["records"][-1]["hash"]}
                 for p in parts},
    }
    return {
        "format": EXPORT_FORMAT,
        "partitions": parts,
        "statement": statement,
        "signature": signer.sign(statement_payload("export", statement)),
        "key_id": signer.key_id,
        "public_key": signer.public_key_pem(),
    }


def load_public_key(pem: bytes, *, source: str) -> Ed25519PublicKey:
    """An Ed25519 public key from PEM, or an ``InvalidRequest`` naming ``source``."""
    try:
        key = serialization.load_pem_public_key(pem)
    except (ValueError, TypeError) as exc:
        raise InvalidRequest(f"{source}: not a PEM public key", code="invalid_key") from exc
    if not isinstance(key, Ed25519PublicKey):
        raise InvalidRequest(f"{source}: not an Ed25519 public key", code="invalid_key")
    return key


def _check_start(
    part: str, anchor_prev: Any, records: list[dict[str, Any]], start: dict[str, Any]
) -> tuple[str, int | None, str, str] | None:
    """The file's first record and anchor against the signed start: (part, seq, code, message)
    of the mismatch, or None."""
    sseq, sprev = start.get("seq"), start.get("anchor_prev")
    if not records:
        return (part, sseq, "truncated", f"the export has no records; the signed statement "
                f"starts at record {sseq}")
    first = records[0].get("seq")
    if not isinstance(first, int) or not isinstance(sseq, int):
        return (part, None, "malformed", "the export's first record or signed start has no seq")
    if first > sseq:
        return (part, sseq, "truncated", f"records from {sseq} to {first - 1} were cut off the "
                f"start (the signed statement starts at record {sseq})")
    if first < sseq:
        return (part, first, "inserted", f"records before {sseq} were added (the signed "
                f"statement starts at record {sseq})")
    if anchor_prev != sprev:
        return (part, first, "replaced", "the export's anchor differs from the signed start "
                "(a span from another export or a forged anchor)")
    if records[0].get("prev") != sprev:
        return (part, first, "broken_link", "the first record does not link to the export's "
                "anchor")
    return None


def _unknown_fields(
    doc: dict[str, Any], statement: dict[str, Any], parts: list[Any]
) -> tuple[str | None, int | None, str] | None:
    """(partition, seq, message) of the first field an export does not have, or None."""

    def extra(obj: Any, allowed: frozenset[str]) -> str | None:
        if not isinstance(obj, dict):
            return None  # the shape checks name it
        names = sorted(set(obj) - allowed)
        return ", ".join(repr(n) for n in names) if names else None

    if (names := extra(doc, _EXPORT_FIELDS)) is not None:
        return (None, None, f"unknown field(s) {names} in the export")
    if (names := extra(statement, _STATEMENT_FIELDS)) is not None:
        return (None, None, f"unknown field(s) {names} in the signed statement")
    for key, allowed in (("starts", _START_FIELDS), ("ends", _END_FIELDS)):
        spans = statement.get(key)
        for part, span in (spans.items() if isinstance(spans, dict) else ()):
            if (names := extra(span, allowed)) is not None:
                return (str(part), None, f"unknown field(s) {names} in the statement's "
                        f"{key} entry")
    for p in parts:
        if (names := extra(p, _PARTITION_FIELDS)) is not None:
            return (str(p.get("partition")), None,
                    f"unknown field(s) {names} in a partition entry")
        records = p.get("records") if isinstance(p, dict) else None
        for r in (records if isinstance(records, list) else ()):
            if (names := extra(r, _RECORD_FIELDS)) is not None:
                seq = r.get("seq")
                return (str(p.get("partition")), seq if isinstance(seq, int) else None,
                        f"unknown field(s) {names} in a record (not covered by its hash)")
    return None


def verify_export(
    doc: Any, *, public_key: Ed25519PublicKey | None = None, key_id: str | None = None
) -> dict[str, Any]:
    """Check an export offline; the result names the signer's key id (pin it next time).

    ``public_key`` (a pinned key) wins over the one the file carries; ``key_id``
    requires the file's key to have that id.  With neither, the file's own key
    is used and the result says the signer was not pinned.
    """
    if isinstance(doc, dict) and doc.get("format") == "ramparts-audit-export/1":
        raise InvalidRequest("a ramparts-audit-export/1 document: its signed statement does not "
                             "cover where each partition starts, so it cannot be verified; "
                             "export the range again", code="unsupported_export")
    if not isinstance(doc, dict) or doc.get("format") != EXPORT_FORMAT:
        raise InvalidRequest(f"not a {EXPORT_FORMAT} document", code="invalid_export")
    pinned = public_key is not None or key_id is not None
    if public_key is None:
        public_key = load_public_key(str(doc.get("public_key", "")).encode(),
                                     source="the export's public_key")
    signer_id = key_id_of(public_key)
    result: dict[str, Any] = {"key_id": signer_id, "pinned": pinned, "partitions": []}

    def fail(part: str | None, seq: int | None, code: str, message: str) -> dict[str, Any]:
        result.update(ok=False, problem={"partition": part, "seq": seq, "code": code,
                                         "message": message})
        return result

    if key_id is not None and key_id != signer_id:
        return fail(None, None, "wrong_key", f"the export is signed by key {signer_id}, "
                    f"not the pinned {key_id}")
    verify = public_key_verifier(public_key)
    statement = doc.get("statement")
    if not isinstance(statement, dict) or not verify(
        statement_payload("export", statement), str(doc.get("signature", ""))
    ):
        return fail(None, None, "bad_signature", "the export's closing statement is not signed "
                    f"by key {signer_id}")
    ends = statement.get("ends")
    starts = statement.get("starts")
    parts = doc.get("partitions")
    if not isinstance(ends, dict) or not isinstance(starts, dict) or not isinstance(parts, list):
        return fail(None, None, "malformed", "the export has no partitions")
    unknown = _unknown_fields(doc, statement, parts)
    if unknown is not None:
        return fail(unknown[0], unknown[1], "malformed", unknown[2])
    seen = set()
    for p in parts:
        if not isinstance(p, dict) or not isinstance(p.get("records"), list):
            return fail(None, None, "malformed", "a partition entry is malformed")
        part = str(p.get("partition"))
        if part in seen:
            return fail(part, None, "inserted", "the partition appears twice in the export")
        seen.add(part)
        end, start = ends.get(part), starts.get(part)
        if not isinstance(end, dict) or not isinstance(start, dict):
            return fail(part, None, "inserted", "a partition the signed statement does not name")
        records = p["records"]
        if not all(isinstance(r, dict) for r in records):
            return fail(part, None, "malformed", "a record is malformed")
        bad_start = _check_start(part, p.get("anchor_prev"), records, start)
        if bad_start is not None:
            return fail(*bad_start)
        checker = ChainVerifier(part, verify, anchor_prev=str(p.get("anchor_prev")), head=end)
        checker.feed(records)
        rep = checker.finish(require_signature=False)
        if rep.problem is None and rep.last_seq != end.get("seq"):
            return fail(part, rep.last_seq, "truncated", f"records after {rep.last_seq} are "
                        f"missing (the signed statement ends at {end.get('seq')})")
        result["partitions"].append(rep.to_dict())
        if rep.problem is not None:
            return fail(part, rep.problem.seq, rep.problem.code, rep.problem.message)
    missing = set(ends) - seen
    if missing:
        return fail(sorted(missing)[0], None, "deleted", "a partition the signed statement "
                    "names is missing")
    result.update(ok=True, problem=None, statement={k: statement[k] for k in ("from", "to",
                                                                              "exported_at")})
    return result

