"""A version's software bill of materials: CycloneDX 1.5 JSON, built at deploy.

The SBOM lists what is really installed for the version, read from the
distributions in its ``pip --target`` directory (``ramparts.registry.deps``),
not what ``requirements.txt`` asks for: each installed distribution's name,
version, purl (``pkg:pypi/NAME@VERSION``) and one SHA-256: that of the wheel
pip installed, from pip's install report (``--report``, reduced at install time
to ``.archive-hashes.json``); where that is not known (an install made before
the report was kept, a distribution the report does not name) the SHA-256 of
the distribution's ``RECORD`` file as pip wrote it, which itself lists the
SHA-256 of every installed file (``METADATA``'s when there is no RECORD).  The
component's ``ramparts:hash-source`` property says which.  The app itself is
the metadata component, ``APP/FUNCTION`` at the version id, hashed with the
artifact digest (the SHA-256 tree digest of the unpacked code, the same one the
version's signature covers).

The document's SHA-256 is stored in the version record and covered by its
Ed25519 signature (``ramparts.registry.signing``); ``verify_sbom`` recomputes
it on every read, so an edited SBOM row, or a record pointing elsewhere, is
refused with ``sbom_tampered`` / ``version_signature_invalid``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass
from importlib import metadata as importlib_metadata
from pathlib import Path
from typing import Any

from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.errors import VersionIntegrityError
from ramparts.registry.deps import ARCHIVE_HASHES
from ramparts.store import VersionRecord

__all__ = ["Package", "build_sbom", "installed_packages", "packages_of", "sbom_digest",
           "verify_sbom"]

SPEC_VERSION = "1.5"
_SHA256 = re.compile(r"^[0-9a-f]{64}$")
HASH_SOURCE = "ramparts:hash-source"


@dataclass(frozen=True)
class Package:
    """One installed distribution as the SBOM lists it."""

    name: str  # canonical (PEP 503)
    version: str
    sha256: str
    hash_source: str  # "wheel", "archive" (an sdist), else "record" or "metadata"


def installed_packages(deps_dir: Path | None) -> list[Package]:
    """The distributions installed in ``deps_dir`` (none when the version has no deps)."""
    if deps_dir is None or not Path(deps_dir).is_dir():
        return []
    found: dict[str, Package] = {}
    archives = _archive_hashes(Path(deps_dir))
    for info in sorted(Path(deps_dir).glob("*.dist-info")):
        meta = importlib_metadata.PathDistribution(info).metadata  # parsed once
        name, version = (meta.get("Name"), meta.get("Version")) if meta else (None, None)
        if not name or not version:
            continue
        known = archives.get(canonicalize_name(name)) or {}
        if known.get("version") == version and _SHA256.match(str(known.get("sha256"))):
            pkg = Package(canonicalize_name(name), version, str(known["sha256"]),
                          "wheel" if known.get("kind") == "wheel" else "archive")
        else:
            source, data = _hashed_file(info)
            pkg = Package(canonicalize_name(name), version, hashlib.sha256(data).hexdigest(),
                          source)
        found.setdefault(pkg.name, pkg)
    return sorted(found.values(), key=lambda p: p.name)


def _archive_hashes(deps_dir: Path) -> dict[str, dict[str, str]]:
    """What pip's install report said each archive hashed to (``registry.deps``)."""
    try:
        data = json.loads((deps_dir / ARCHIVE_HASHES).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}  # an install made before the report was kept
    return data if isinstance(data, dict) else {}


def _hashed_file(info: Path) -> tuple[str, bytes]:
    """The bytes of the distribution's RECORD as pip wrote it, else of its METADATA."""
    for wanted in ("RECORD", "METADATA"):
        try:
            return wanted.lower(), (info / wanted).read_bytes()
        except OSError:
            continue
    return "metadata", b""


def build_sbom(rec: VersionRecord, deps_dir: Path | None) -> bytes:
    """The CycloneDX JSON document of version ``rec`` with its installed ``deps_dir``."""
    from cyclonedx.model import HashAlgorithm, HashType, Property
    from cyclonedx.model.bom import Bom
    from cyclonedx.model.component import Component, ComponentType
    from cyclonedx.output.json import JsonV1Dot5
    from packageurl import PackageURL

    bom = Bom()
    app = Component(
        name=f"{rec.app}/{rec.function}",
        version=rec.version,
        type=ComponentType.APPLICATION,
        bom_ref=f"ramparts:{rec.app}/{rec.function}@{rec.version}",
        hashes=[HashType(alg=HashAlgorithm.SHA_256, content=rec.artifact)],
        properties=[Property(name="ramparts:artifact", value=rec.artifact)],
    )
    bom.metadata.component = app
    deps = []
    for pkg in installed_packages(deps_dir):
        purl = PackageURL(type="pypi", name=pkg.name, version=pkg.version)
        comp = Component(
            name=pkg.name,
            version=pkg.version,
            type=ComponentType.LIBRARY,
            purl=purl,
            bom_ref=purl.to_string(),
            hashes=[HashType(alg=HashAlgorithm.SHA_256, content=pkg.sha256)],
            properties=[Property(name=HASH_SOURCE, value=pkg.hash_source)],
        )
        bom.components.add(comp)
        deps.append(comp)
    bom.register_dependency(app, deps)
    text = JsonV1Dot5(bom).output_as_string(indent=None)
    # Canonical bytes: the digest the signature covers must not depend on key order.
    return json.dumps(json.loads(text), sort_keys=True, separators=(",", ":")).encode()


def sbom_digest(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()


def verify_sbom(rec: VersionRecord, document: bytes | None) -> dict[str, Any]:
    """The stored SBOM of ``rec``, parsed, if it is the one the record's digest names.

    The caller checks the record's signature first (``signing.check_record``);
    this checks the document against the signed digest.
    """
    if rec.sbom is None:
        raise VersionIntegrityError(
            f"version {rec.version[:12]} of {rec.function} has no SBOM (deployed before "
            "SBOMs were recorded); deploy the app again to make one",
            code="sbom_not_found",
        )
    if document is None or sbom_digest(document) != rec.sbom:
        raise VersionIntegrityError(
            f"version {rec.version[:12]} of {rec.function}: its stored SBOM does not match "
            "its signed digest (the SBOM was altered or removed)",
            code="sbom_tampered",
        )
    doc: dict[str, Any] = json.loads(document)
    return doc


def packages_of(doc: dict[str, Any]) -> list[tuple[str, Version]]:
    """(canonical name, version) of every PyPI component of an SBOM."""
    out: list[tuple[str, Version]] = []
    for comp in doc.get("components") or []:
        purl = str(comp.get("purl") or "") if isinstance(comp, dict) else ""
        if not purl.startswith("pkg:pypi/"):
            continue
        try:
            out.append((canonicalize_name(str(comp["name"])), Version(str(comp["version"]))))
        except (KeyError, InvalidVersion):
            continue
    return out
