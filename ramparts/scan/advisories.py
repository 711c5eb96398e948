"""OSV advisories for PyPI packages: where they come from and how a version matches.

The dependency scanner (``deps.py``) asks one question of this module: "which
advisories affect these (package, version) pairs?".  Three sources answer it,
behind one small contract:

* ``LocalAdvisories``: an offline OSV directory (the layout of
  pypa/advisory-database: ``vulns/<package>/<ID>.yaml``, or any tree of OSV
  ``.json``/``.yaml`` files) or an OSV export zip (``PyPI/all.zip``).  This is
  what ``--advisories PATH`` and ``ramparts advisories sync`` give; it is the
  only source that works without a network.
* ``OsvApi``: https://api.osv.dev (``/v1/querybatch`` then ``/v1/vulns/ID``),
  used when nothing local is configured and the network allows.
* nothing: the scan then carries an "advisories unavailable" note; it never
  crashes and never pretends a dependency was checked.

Matching follows the OSV schema with ``packaging`` version semantics: an
``ECOSYSTEM`` range's events are sorted, ``introduced`` opens, ``fixed``
closes (exclusive) and ``last_affected`` closes (inclusive); a version named
in ``versions`` is affected too.  ``GIT`` ranges say nothing about a PyPI
release and are ignored.  Withdrawn advisories are skipped.
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version

from ramparts.scan.errors import ScanError
from ramparts.scan.findings import Severity

OSV_API = "https://api.osv.dev"
OSV_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
SYNC_FILE = "advisories/pypi-osv.zip"  # under the data dir
ENV_VAR = "RAMPARTS_ADVISORIES"  # a path, or "osv" (the API), or "off"
API_TIMEOUT = 10.0
MAX_API_VULNS = 500  # per scan; a tree needing more details than this is checked offline

_GHSA_SEVERITY = {
    "LOW": Severity.LOW,
    "MODERATE": Severity.MEDIUM,
    "MEDIUM": Severity.MEDIUM,
    "HIGH": Severity.HIGH,
    "CRITICAL": Severity.CRITICAL,
}
_SUFFIXES = (".json", ".yaml", ".yml")
_yaml_loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
Pin = tuple[str, Version]  # (canonical package name, exact version)


class AdvisoriesUnavailable(ScanError):
    """No advisory data could be had; the scan reports it as a note, not a crash."""

    code = "advisories_unavailable"


@dataclass(frozen=True)
class _Range:
    events: tuple[tuple[str, Version], ...]  # (kind, version), sorted; kind: introduced|fixed|last


@dataclass
class Advisory:
    """One OSV record, reduced to what matching and reporting need for one package."""

    id: str
    package: str  # canonical name
    summary: str
    aliases: tuple[str, ...] = ()
    severity: Severity = Severity.HIGH
    severity_known: bool = False
    cwe: str | None = None
    ranges: list[_Range] = field(default_factory=list)
    versions: frozenset[Version] = frozenset()

    def affects(self, version: Version) -> bool:
        if version in self.versions:
            return True
        return any(_in_range(version, r) for r in self.ranges)

    def fixed_for(self, version: Version) -> str | None:
        """The lowest fixed release above ``version`` in a range that affects it."""
        fixes = [
            v
            for r in self.ranges
            if _in_range(version, r)
            for kind, v in r.events
            if kind == "fixed" and v > version
        ]
        if not fixes and version in self.versions:
            fixes = [
                v for r in self.ranges for kind, v in r.events if kind == "fixed" and v > version
            ]
        return str(min(fixes)) if fixes else None

    @property
    def title(self) -> str:
        cves = [a for a in self.aliases if a.startswith("CVE-")]
        return self.id + (f" ({', '.join(cves[:2])})" if cves else "")


def _in_range(version: Version, rng: _Range) -> bool:
    affected = False
    for kind, v in rng.events:
        if kind == "introduced" and version >= v:
            affected = True
        elif kind == "fixed" and version >= v:
            affected = False
        elif kind == "last" and version > v:
            affected = False
    return affected


def _version(text: Any) -> Version | None:
    try:
        return Version(str(text))
    except InvalidVersion:
        return None


def _severity(record: dict[str, Any]) -> tuple[Severity, bool]:
    """GHSA's rating, else the highest CVSS base score, else HIGH (unknown: fail closed)."""
    db = record.get("database_specific")
    if isinstance(db, dict) and isinstance(db.get("severity"), str):
        sev = _GHSA_SEVERITY.get(db["severity"].upper())
        if sev is not None:
            return sev, True
    best: float | None = None
    for item in record.get("severity") or []:
        if not isinstance(item, dict) or not isinstance(item.get("score"), str):
            continue
        score = _cvss_score(item.get("type", ""), item["score"])
        if score is not None:
            best = score if best is None else max(best, score)
    if best is None:
        return Severity.HIGH, False
    if best >= 9.0:
        return Severity.CRITICAL, True
    if best >= 7.0:
        return Severity.HIGH, True
    if best >= 4.0:
        return Severity.MEDIUM, True
    return Severity.LOW, True


def _cvss_score(kind: str, vector: str) -> float | None:
    try:
        if kind == "CVSS_V3" or vector.startswith("CVSS:3"):
            from cvss import CVSS3

            return float(CVSS3(vector).base_score)
        if kind == "CVSS_V4" or vector.startswith("CVSS:4"):
            from cvss import CVSS4

            return float(CVSS4(vector).base_score)
    except Exception:  # noqa: BLE001 - a malformed vector only loses the rating
        return None
    return None


def parse_record(record: Any, wanted: set[str] | None = None) -> list[Advisory]:
    """OSV record -> one ``Advisory`` per PyPI package it names (filtered by ``wanted``)."""
    if not isinstance(record, dict) or record.get("withdrawn"):
        return []
    rid = str(record.get("id") or "")
    if not rid:
        return []
    severity, known = _severity(record)
    db = record.get("database_specific")
    cwes = db.get("cwe_ids") if isinstance(db, dict) else None
    cwe = str(cwes[0]) if isinstance(cwes, list) and cwes else None
    summary = str(record.get("summary") or record.get("details") or "").strip()
    summary = " ".join(summary.split())
    if len(summary) > 160:
        summary = summary[:157].rstrip() + "..."
    aliases = tuple(str(a) for a in record.get("aliases") or [] if isinstance(a, str))
    out: dict[str, Advisory] = {}
    for aff in record.get("affected") or []:
        if not isinstance(aff, dict):
            continue
        pkg = aff.get("package") or {}
        if not isinstance(pkg, dict) or not str(pkg.get("ecosystem", "")).startswith("PyPI"):
            continue
        name = canonicalize_name(str(pkg.get("name", "")))
        if not name or (wanted is not None and name not in wanted):
            continue
        adv = out.setdefault(name, Advisory(rid, name, summary, aliases, severity, known, cwe))
        for rng in aff.get("ranges") or []:
            if not isinstance(rng, dict) or rng.get("type") != "ECOSYSTEM":
                continue
            events: list[tuple[str, Version]] = []
            for ev in rng.get("events") or []:
                if not isinstance(ev, dict):
                    continue
                for key, kind in (("introduced", "introduced"), ("fixed", "fixed"),
                                  ("last_affected", "last")):
                    if key in ev:
                        v = Version("0") if str(ev[key]) == "0" else _version(ev[key])
                        if v is not None:
                            events.append((kind, v))
            if events:
                # at equal versions "introduced" comes first, as the OSV spec's algorithm expects
                order = {"introduced": 0, "fixed": 1, "last": 2}
                events.sort(key=lambda e: (e[1], order[e[0]]))
                adv.ranges.append(_Range(tuple(events)))
        listed = {v for v in (_version(x) for x in aff.get("versions") or []) if v is not None}
        if listed:
            adv.versions = adv.versions | frozenset(listed)
    return list(out.values())


class AdvisorySource(ABC):
    """Answers: which advisories name these packages?"""

    #: shown in notes and SARIF ("offline OSV data at advisories.zip", "OSV API")
    description: str = ""

    @abstractmethod
    def advisories(self, packages: set[str]) -> dict[str, list[Advisory]]:
        """Canonical package name -> its advisories (any version).

        Raises ``AdvisoriesUnavailable`` when the source cannot be read or reached.
        """

    def match(self, pins: Iterable[Pin]) -> dict[Pin, list[Advisory]]:
        """(package, version) -> advisories affecting exactly that version."""
        pins = list(pins)
        known = self.advisories({name for name, _ in pins})
        return {
            (name, version): [a for a in known.get(name, []) if a.affects(version)]
            for name, version in pins
        }


def _name_pattern(packages: set[str]) -> re.Pattern[bytes]:
    """Matches a record's ``name:`` field naming one of the packages, in YAML or JSON.

    '-', '_' and '.' are interchangeable in names; a name mentioned only in
    prose ("HTTP requests") does not match, so few records need parsing.
    """
    alts = sorted({re.escape(p).replace(r"\-", "[-_.]") for p in packages}, key=len, reverse=True)
    body = "|".join(alts)
    return re.compile(
        rf"""(?i)(?:\bname\s*:\s*["']?|"name"\s*:\s*")(?:{body})(?=["'\s,}}]|$)""".encode(),
        re.MULTILINE,
    )


class LocalAdvisories(AdvisorySource):
    """An OSV directory tree or export zip on disk."""

    def __init__(self, path: Path, shown: str | None = None) -> None:
        self.path = path
        self.shown = shown or str(path)
        self.description = f"offline OSV data at {self.shown}"
        if not path.exists():
            raise ScanError(f"--advisories {self.shown}: no such file or directory",
                            code="advisories_not_found")
        if path.is_file() and not zipfile.is_zipfile(path):
            raise ScanError(f"--advisories {self.shown}: not a directory or a zip of OSV records",
                            code="invalid_advisories")

    def _blobs(self) -> Iterator[tuple[str, bytes]]:
        if self.path.is_dir():
            for root, dirs, names in os.walk(self.path):
                dirs[:] = [d for d in dirs if not d.startswith(".")]
                for name in names:
                    if name.endswith(_SUFFIXES):
                        p = Path(root) / name
                        try:
                            yield name, p.read_bytes()
                        except OSError:
                            continue
            return
        try:
            with zipfile.ZipFile(self.path) as zf:
                for info in zf.infolist():
                    if not info.is_dir() and info.filename.endswith(_SUFFIXES):
                        yield info.filename, zf.read(info)
        except (zipfile.BadZipFile, OSError) as exc:
            raise AdvisoriesUnavailable(
                f"the advisory zip {self.shown} cannot be read: {exc.__class__.__name__}"
            ) from exc

    def advisories(self, packages: set[str]) -> dict[str, list[Advisory]]:
        out: dict[str, list[Advisory]] = {p: [] for p in packages}
        if not packages:
            return out
        pattern = _name_pattern(packages)
        records = 0
        for name, blob in self._blobs():
            records += 1
            if not pattern.search(blob):  # cheap pre-filter: most records name other packages
                continue
            try:
                if name.endswith(".json"):
                    record = json.loads(blob)
                else:
                    record = yaml.load(blob, Loader=_yaml_loader)  # noqa: S506 - a safe loader
            except (ValueError, yaml.YAMLError):
                continue  # one bad record must not hide the others
            for adv in parse_record(record, packages):
                out[adv.package].append(adv)
        if records == 0:
            raise AdvisoriesUnavailable(f"{self.shown} holds no OSV records (.json/.yaml)")
        return out


class OsvApi(AdvisorySource):
    """The public OSV API; any network failure becomes ``AdvisoriesUnavailable``."""

    description = "the OSV API (api.osv.dev)"

    def __init__(self, base: str = OSV_API, timeout: float = API_TIMEOUT) -> None:
        self.base = base.rstrip("/")
        self.timeout = timeout
        if self.base != OSV_API:
            self.description = f"the OSV API at {self.base}"

    def match(self, pins: Iterable[Pin]) -> dict[Pin, list[Advisory]]:
        import httpx

        pins = list(dict.fromkeys(pins))
        result: dict[Pin, list[Advisory]] = {p: [] for p in pins}
        if not pins:
            return result
        try:
            with httpx.Client(base_url=self.base, timeout=self.timeout) as http:
                ids_for: dict[Pin, list[str]] = {}
                for start in range(0, len(pins), 1000):
                    chunk = pins[start : start + 1000]
                    body = {
                        "queries": [
                            {"package": {"name": n, "ecosystem": "PyPI"}, "version": str(v)}
                            for n, v in chunk
                        ]
                    }
                    r = http.post("/v1/querybatch", json=body)
                    r.raise_for_status()
                    for pin, res in zip(chunk, r.json().get("results", []), strict=False):
                        ids_for[pin] = [v["id"] for v in (res or {}).get("vulns", []) or []]
                wanted = sorted({i for ids in ids_for.values() for i in ids})
                if len(wanted) > MAX_API_VULNS:
                    raise AdvisoriesUnavailable(
                        f"the OSV API reports {len(wanted)} advisories; sync them with "
                        "`ramparts advisories sync` and scan offline"
                    )
                records: dict[str, list[Advisory]] = {}
                names = {n for n, _ in pins}
                for vid in wanted:
                    r = http.get(f"/v1/vulns/{vid}")
                    r.raise_for_status()
                    records[vid] = parse_record(r.json(), names)
        except httpx.HTTPError as exc:
            raise AdvisoriesUnavailable(
                f"the OSV API could not be reached ({exc.__class__.__name__}); "
                "use --advisories PATH or `ramparts advisories sync`"
            ) from exc
        except ValueError as exc:
            raise AdvisoriesUnavailable("the OSV API sent a malformed answer") from exc
        for pin, ids in ids_for.items():
            for vid in ids:
                for adv in records.get(vid, []):
                    if adv.package == pin[0] and adv.affects(pin[1]):
                        result[pin].append(adv)
                    elif adv.package == pin[0] and not adv.ranges and not adv.versions:
                        result[pin].append(adv)  # the API said so; trust its matching
        return result

    def advisories(self, packages: set[str]) -> dict[str, list[Advisory]]:  # pragma: no cover
        raise AdvisoriesUnavailable("the OSV API is queried per version, not per package")


def open_source(
    path: str | Path | None,
    data_dir: Path | None = None,
    *,
    offline: bool = False,
    setting: str | None = None,
    api: str = OSV_API,
) -> AdvisorySource | None:
    """The advisory source a scan uses, in order of precedence.

    1. ``path`` (``--advisories``): a directory or zip; ``ScanError`` if unusable.
    2. ``setting`` (a node's ``--advisories``), else ``$RAMPARTS_ADVISORIES``: a path,
       ``osv`` (the API at ``api``) or ``off``.
    3. the data dir's synced export (``ramparts advisories sync``).
    4. the OSV API, unless ``offline``.
    ``None`` means no source: the scan notes that dependencies were not checked.
    """
    if path is not None and str(path) != "":
        return LocalAdvisories(Path(path), str(path))
    env = (os.environ.get(ENV_VAR, "") if setting is None else setting).strip()
    if env.lower() == "off":
        return None
    if env and env.lower() != "osv":
        return LocalAdvisories(Path(env), f"${ENV_VAR}" if setting is None else env)
    if data_dir is not None and env.lower() != "osv":
        synced = data_dir / SYNC_FILE
        if synced.is_file():
            return LocalAdvisories(synced, "the synced OSV export")
    if offline:
        return None
    return OsvApi(api)


def sync(data_dir: Path, url: str = OSV_EXPORT, timeout: float = 120.0) -> tuple[Path, int]:
    """Download the OSV PyPI export into the data dir; returns (file, records).

    Written to a temp file and renamed, so a failed download never replaces a
    good copy.  Raises ``AdvisoriesUnavailable`` when the download fails.
    """
    import httpx

    target = data_dir / SYNC_FILE
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp_name = tempfile.mkstemp(prefix=".sync-", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        with os.fdopen(fd, "wb") as out, httpx.stream("GET", url, timeout=timeout,
                                                     follow_redirects=True) as r:
            r.raise_for_status()
            for chunk in r.iter_bytes():
                out.write(chunk)
        with zipfile.ZipFile(tmp) as zf:
            records = sum(1 for n in zf.namelist() if n.endswith(_SUFFIXES))
            if records == 0:
                raise AdvisoriesUnavailable("the downloaded export holds no OSV records")
            zf.read(zf.namelist()[0])  # proves the archive opens
        os.replace(tmp, target)
    except httpx.HTTPError as exc:
        raise AdvisoriesUnavailable(
            f"downloading the OSV export failed ({exc.__class__.__name__})"
        ) from exc
    except zipfile.BadZipFile as exc:
        raise AdvisoriesUnavailable("the downloaded OSV export is not a zip") from exc
    finally:
        if tmp.exists():
            tmp.unlink()
    return target, records

