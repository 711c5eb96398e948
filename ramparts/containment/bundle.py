"""Evidence bundles: what happened, in one file signed with the node's signing key.

A bundle holds an audit range with its own proof (``ramparts.observe.evidence``
export), the invocation records of the functions involved in that range, the
versions involved (records, aliases) and their SBOMs, and optionally the
incident it belongs to.  The ``contents`` are signed as canonical JSON (sorted
keys, no whitespace) with the store's Ed25519 key, the key that signs versions
and audit checkpoints, so ``verify_bundle`` checks it offline: no node, only
the file and (pinned, or carried) public key.  Any changed byte of the contents
breaks the signature; the inner audit export is checked on its own as well.
"""

from __future__ import annotations

import base64
import binascii
import json
import time
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from ramparts.errors import InvalidRequest
from ramparts.observe.chain import key_id_of
from ramparts.observe.evidence import build_export, load_public_key, verify_export
from ramparts.observe.redact import redactor

FORMAT = "ramparts-evidence-bundle/1"
MAX_INVOCATIONS = 1000  # per function
_BUNDLE_FIELDS = frozenset({"format", "contents", "signature", "key_id", "public_key"})
# An incident export's top level: the signed bundles, the readable incident that must
# equal the signed one, and two fields no signature covers (reported as such by verify).
_EXPORT_FIELDS = frozenset(
    {"format", "exported_at", "incident", "bundle", "snapshot", "verification"}
)
UNSIGNED_EXPORT_FIELDS = ("exported_at", "verification")


def canonical(contents: Any) -> bytes:
    return json.dumps(contents, sort_keys=True, separators=(",", ":"), default=str).encode()


def build_bundle(
    store: Any,
    signer: Any,
    *,
    t_from: float,
    t_to: float,
    functions: set[str],
    incident: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """Collect and sign; runs in a worker thread (it reads the store)."""
    audit = build_export(store, signer, t_from, t_to)
    invocations: dict[str, list[dict[str, Any]]] = {}
    versions: dict[str, Any] = {}
    sboms: dict[str, str] = {}
    for fn in sorted(functions):
        rows = store.list_invocations(fn, 0, MAX_INVOCATIONS, since=t_from, until=t_to + 1)
        # Redacted again with today's rules and known secrets before signing: a record
        # stored before a secret was known, or in a shape a later rule learnt (cookies,
        # custom auth headers a handler printed), must not leave the node in the bundle.
        rows = redactor.redact_obj(rows)
        invocations[fn] = rows
        used = {r.get("version") for r in rows}
        aliases = store.list_aliases(fn)
        used |= set(aliases.values())
        recs = [v for v in store.list_versions(fn) if v.version in used]
        versions[fn] = {
            "aliases": aliases,
            "versions": [
                {
                    "version": v.version,
                    "seq": v.seq,
                    "created_at": v.created_at,
                    "signature": v.signature,
                    "config": v.config,
                }
                for v in recs
            ],
        }
        for v in recs:
            sbom = store.get_sbom(fn, v.version) if hasattr(store, "get_sbom") else None
            if sbom is not None:
                sboms[f"{fn}:{v.version}"] = base64.b64encode(sbom).decode()
    contents = {
        "created_at": time.time(),
        "range": {"from": t_from, "to": t_to},
        "functions": sorted(functions),
        "audit": audit,
        "invocations": invocations,
        "versions": versions,
        "sboms": sboms,
        "incident": incident,
    }
    return {
        "format": FORMAT,
        "contents": contents,
        "signature": signer.sign(canonical(contents)),
        "key_id": signer.key_id,
        "public_key": signer.public_key_pem(),
    }


def verify_bundle(doc: Any, *, public_key: Ed25519PublicKey | None = None) -> dict[str, Any]:
    """Check a bundle offline: ``{"ok", "key_id", "pinned", "problem"?}``; never raises on data."""
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise InvalidRequest(f"not a {FORMAT} document", code="invalid_bundle")
    pinned = public_key is not None
    if public_key is None:
        public_key = load_public_key(
            str(doc.get("public_key", "")).encode(), source="the bundle's public_key"
        )
    result: dict[str, Any] = {"key_id": key_id_of(public_key), "pinned": pinned, "ok": False}
    extra = sorted(str(k) for k in doc if k not in _BUNDLE_FIELDS)
    if extra:
        # Nothing outside ``contents`` is signed: a field added beside it would read as
        # part of the evidence while no signature vouches for it.
        result["problem"] = f"unsigned field(s) beside the signed contents: {', '.join(extra)}"
        return result
    signature = str(doc.get("signature") or "")
    prefix, _, rest = signature.partition(":")
    _, _, b64 = rest.partition(":")
    try:
        public_key.verify(base64.b64decode(b64, validate=True), canonical(doc.get("contents")))
    except (InvalidSignature, binascii.Error, ValueError):
        result["problem"] = "the signature does not match the contents"
        return result
    if prefix != "ed25519":
        result["problem"] = "not an Ed25519 signature"
        return result
    contents = doc["contents"]
    audit = verify_export(contents.get("audit"), public_key=public_key)
    if not audit.get("ok"):
        result["problem"] = f"the audit range does not verify: {audit.get('problem')}"
        return result
    result.update(
        ok=True,
        audit_records=sum(p.get("records", 0) for p in audit.get("partitions", [])),
        functions=contents.get("functions", []),
        created_at=contents.get("created_at"),
    )
    return result


def export_problem(doc: dict[str, Any], signed_ids: list[str]) -> str | None:
    """What is wrong with an incident export whose bundles each verified, or None.

    The signature covers only the bundles, so everything readable beside them must
    follow from what they sign: the readable incident (``has_evidence`` included) is
    the signed one, a signed ``snapshot_evidence ... done`` step means the snapshot
    bundle must be there and be this incident's, and each bundle's ``key_id`` label
    is the key that signed it.  ``signed_ids``: the verified signer of each bundle.
    """
    extra = sorted(str(k) for k in doc if k not in _EXPORT_FIELDS)
    if extra:
        return f"unknown top-level field(s), not signed: {', '.join(extra)}"
    bundle, snapshot = doc.get("bundle"), doc.get("snapshot")
    if not isinstance(bundle, dict) or not isinstance(bundle.get("contents"), dict):
        return "the export has no signed bundle"
    for label, b, signer in zip(
        ("bundle", "snapshot"), (bundle, snapshot), signed_ids, strict=False
    ):
        if isinstance(b, dict) and b.get("key_id") != signer:
            return f"the {label} says key {b.get('key_id')} but is signed by {signer}"
    signed = bundle["contents"].get("incident")
    if not isinstance(signed, dict):
        return "the signed bundle holds no incident"
    shown = doc.get("incident")
    if not isinstance(shown, dict):
        return "the export has no readable incident"
    rest = {k: v for k, v in shown.items() if k != "has_evidence"}
    # Compared as JSON, not as Python values: ``0 == False`` and ``1 == 1.0`` in Python,
    # but a jq or JavaScript reader of the file sees different values.
    if canonical(signed) != canonical(rest):
        return "the incident differs from the signed one"
    verification = doc.get("verification")
    if verification is not None:
        if not isinstance(verification, dict):
            return "verification is not an object"
        if "key_id" in verification and verification["key_id"] != signed_ids[0]:
            return (
                f"verification names key {verification['key_id']} but the bundle is signed "
                f"by {signed_ids[0]}"
            )
    snapshotted = any(
        isinstance(s, dict) and s.get("action") == "snapshot_evidence" and s.get("status") == "done"
        for s in signed.get("steps") or []
    )
    if shown.get("has_evidence") is not snapshotted:
        return "has_evidence differs from the signed incident's snapshot_evidence step"
    if snapshotted and not isinstance(snapshot, dict):
        return "the signed incident took a snapshot_evidence bundle the export lacks"
    if not snapshotted and snapshot is not None:
        return "a snapshot bundle the signed incident never took"
    if snapshotted:
        own = (snapshot.get("contents") or {}).get("incident") or {}
        if own.get("id") != signed.get("id"):
            return "the snapshot bundle belongs to another incident"
    return None


def unsigned_fields(doc: dict[str, Any]) -> list[str]:
    """The export's top-level fields that no signature covers and that it carries.

    ``exported_at`` and ``verification`` (its command and key id) are advice written at
    export time; ``verify`` names them so nobody reads them as signed.
    """
    return [name for name in UNSIGNED_EXPORT_FIELDS if name in doc]
