"""What a version's signature covers, and the checks made before its zygote starts.

A version is its code *and* its configuration.  The signed payload is the
version's identity (function, id, app), the digest of its unpacked artifact
(every file, the ``ramparts.yaml`` too), its requirements digest, its
function section (handler, routes, role, limits, secrets, environment) and
the app's ``auth:`` section, and the SHA-256 of its SBOM
(``ramparts.registry.sbom``), as canonical JSON.  The registry signs it with
the store's Ed25519 key (``ramparts.crypto.signing``) when it commits the
version; before a zygote of the version starts, the node checks that:

1. the stored record carries a signature by that key over that payload
   (an altered config, auth, artifact digest or requirements breaks it);
2. the spec the zygote would run was built from that record;
3. the unpacked artifact on disk still has the signed digest.

Any failure raises ``VersionIntegrityError`` with a stable code and the zygote
is not started.
"""

from __future__ import annotations

import json
from dataclasses import replace
from pathlib import Path

from ramparts.crypto.signing import VersionSigner
from ramparts.errors import VersionIntegrityError
from ramparts.registry.artifacts import artifact_digest
from ramparts.store import VersionRecord

__all__ = ["check_code", "check_record", "payload", "sign"]

_FORMAT = 1


def payload(rec: VersionRecord) -> bytes:
    """The canonical bytes a version's signature covers."""
    doc = {
        "format": _FORMAT,
        "function": rec.function,
        "version": rec.version,
        "app": rec.app,
        "artifact": rec.artifact,
        "requirements": rec.requirements,
        "config": rec.config,
        "auth": rec.auth,
    }
    if rec.app_config is not None:  # absent rather than null: older signatures still verify
        doc["app_config"] = rec.app_config
    if rec.sbom is not None:  # likewise: versions from before SBOMs keep their signatures
        doc["sbom"] = rec.sbom
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def sign(signer: VersionSigner, rec: VersionRecord) -> VersionRecord:
    return replace(rec, signature=signer.sign(payload(rec)))


def check_record(signer: VersionSigner, rec: VersionRecord) -> None:
    """The record is signed by the store's key and unchanged since."""
    if rec.signature is None:
        raise VersionIntegrityError(
            f"version {rec.version[:12]} of {rec.function} is not signed; deploy the app again",
            code="version_unsigned",
        )
    if not signer.verify(payload(rec), rec.signature):
        raise VersionIntegrityError(
            f"version {rec.version[:12]} of {rec.function}: its signature does not verify "
            "(the stored version was altered)",
            code="version_signature_invalid",
        )


def check_code(rec: VersionRecord, code_dir: Path) -> None:
    """The unpacked artifact still hashes to the signed digest."""
    try:
        found = artifact_digest(code_dir)
    except OSError:
        found = ""
    if found != rec.artifact:
        raise VersionIntegrityError(
            f"version {rec.version[:12]} of {rec.function}: its code on disk does not match "
            "its signed digest (the artifact was altered)",
            code="artifact_tampered",
        )
