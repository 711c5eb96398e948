"""Where advisories come from: an offline OSV directory or zip, the OSV API, or none."""

from __future__ import annotations

import json
import os
import re
import tempfile
import zipfile
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import yaml

from ramparts.scan.advisories.records import Advisory, Pin, parse_record
from ramparts.scan.errors import ScanError

OSV_API = "https://api.osv.dev"
OSV_EXPORT = "https://osv-vulnerabilities.storage.googleapis.com/PyPI/all.zip"
SYNC_FILE = "advisories/pypi-osv.zip"  # under the data dir
ENV_VAR = "RAMPARTS_ADVISORIES"  # a path, or "osv" (the API), or "off"
API_TIMEOUT = 10.0
MAX_API_VULNS = 500  # per scan; a tree needing more details than this is checked offline
_SUFFIXES = (".json", ".yaml", ".yml")
_yaml_loader: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


class AdvisoriesUnavailable(ScanError):
    """No advisory data could be had; the scan reports it as a note, not a crash."""

    code = "advisories_unavailable"



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
