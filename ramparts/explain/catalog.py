"""Load and validate the rule catalogue (``catalog/*.yaml``).

Every ``*.yaml`` file in the folder is read, so a team adding a family (the
audit's ``audit.yaml``, the pentest's ``pentest.yaml``) drops a file in and
nothing else changes.  Each file is a list of entries::

    - id: RP-T001
      title: ...
      risk: <2-4 sentences>
      vulnerable: |
        <code>
      fixed: |
        <code>
      owasp: https://owasp.org/...
      language: python          # optional: python (default), yaml, text ...

Validation is strict (unknown keys, a missing field, an id twice, a link that
is not OWASP's) so that a malformed catalogue fails a test in CI rather than a
user's ``ramparts explain``.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import asdict, dataclass
from functools import cache
from importlib import resources
from typing import Any
from urllib.parse import urlsplit

import yaml

from ramparts.explain.errors import CatalogError, UnknownRule

_ID = re.compile(r"^(RP-[A-Z][0-9]{3}|B[0-9]{3})\Z")
_REQUIRED = ("id", "title", "risk", "vulnerable", "fixed", "owasp")
_OPTIONAL = ("language",)
_LANGUAGES = ("python", "yaml", "json", "text", "requirements", "shell", "http")


@dataclass(frozen=True)
class Entry:
    id: str
    title: str
    risk: str
    vulnerable: str
    fixed: str
    owasp: str
    language: str
    source: str  # the catalogue file it came from, e.g. "scan.yaml"

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def load_catalog(files: dict[str, str] | None = None) -> dict[str, Entry]:
    """Every entry by id; ``files`` (name -> YAML text) defaults to the shipped ones.

    Raises ``CatalogError`` naming the file and entry at the first problem.
    """
    if files is None:
        files = _shipped()
    out: dict[str, Entry] = {}
    for name in sorted(files):
        try:
            doc = yaml.safe_load(files[name])
        except yaml.YAMLError as exc:
            raise CatalogError(f"{name}: not valid YAML ({exc.__class__.__name__})") from exc
        if not isinstance(doc, list) or not doc:
            raise CatalogError(f"{name}: a catalogue file is a non-empty list of entries")
        for i, raw in enumerate(doc):
            entry = _entry(name, i, raw)
            if entry.id in out:
                raise CatalogError(
                    f"{name}[{i}]: id {entry.id} is already defined in {out[entry.id].source}"
                )
            out[entry.id] = entry
    return out


@cache
def entries() -> dict[str, Entry]:
    """The shipped catalogue, loaded once per process."""
    return load_catalog()


def lookup(rule_id: str, catalog: dict[str, Entry] | None = None) -> Entry:
    """The entry for ``rule_id`` (case-insensitive); ``UnknownRule`` with close ids if none."""
    catalog = entries() if catalog is None else catalog
    key = rule_id.strip().upper()
    if key in catalog:
        return catalog[key]
    close = difflib.get_close_matches(key, list(catalog), n=3, cutoff=0.6)
    raise UnknownRule(rule_id, close)


def _shipped() -> dict[str, str]:
    folder = resources.files("ramparts.explain") / "catalog"
    return {
        f.name: f.read_text(encoding="utf-8")
        for f in folder.iterdir()
        if f.name.endswith(".yaml") and f.is_file()
    }


def _entry(name: str, index: int, raw: Any) -> Entry:
    where = f"{name}[{index}]"
    if not isinstance(raw, dict):
        raise CatalogError(f"{where}: an entry is a mapping")
    if isinstance(raw.get("id"), str):
        where = f"{name}[{index}] ({raw['id']})"
    unknown = sorted(set(map(str, raw)) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise CatalogError(f"{where}: unknown field(s) {', '.join(unknown)}")
    for field in _REQUIRED:
        value = raw.get(field)
        if not isinstance(value, str) or not value.strip():
            raise CatalogError(f"{where}: {field} is required and must be non-empty text")
    if not _ID.match(raw["id"]):
        raise CatalogError(f"{where}: id must look like RP-X000 or B000")
    if "\n" in raw["title"].strip():
        raise CatalogError(f"{where}: title is one line")
    sentences = len(re.findall(r"[.!?](?:\s|\Z)", raw["risk"].strip()))
    if not 1 <= sentences <= 5:
        raise CatalogError(f"{where}: risk is a few sentences (found {sentences})")
    if raw["vulnerable"].strip() == raw["fixed"].strip():
        raise CatalogError(f"{where}: vulnerable and fixed examples are the same")
    url = urlsplit(raw["owasp"].strip())
    host = url.hostname or ""
    if url.scheme != "https" or not (host == "owasp.org" or host.endswith(".owasp.org")):
        raise CatalogError(f"{where}: owasp must be an https link to owasp.org")
    language = raw.get("language", "python")
    if language not in _LANGUAGES:
        raise CatalogError(f"{where}: language must be one of {', '.join(_LANGUAGES)}")
    return Entry(
        id=raw["id"],
        title=raw["title"].strip(),
        risk=" ".join(raw["risk"].split()),
        vulnerable=raw["vulnerable"].rstrip() + "\n",
        fixed=raw["fixed"].rstrip() + "\n",
        owasp=raw["owasp"].strip(),
        language=language,
        source=name,
    )
