"""The scanner held-out set stays frozen, and its answer key agrees with its files.

tests/scan/heldout/ holds small handlers (vulnerable cases and their safe twins)
built blind, to measure the scanner on code its rule authors never saw. It is only
worth anything if nobody edits it after seeing the rules, so a sha256 over a manifest
of all its files is pinned in its README and any edit, addition or removal fails
here. expected.json is the answer key; these checks make sure every entry points at
a real line of a real file and uses a category and CWE from the shared table. This
test never runs the scanner: the measurement is a bench script.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

_DIR = Path(__file__).parent / "heldout"
_FRAMEWORKS = {"lambda", "flask", "django", "fastapi", "aiohttp"}
_HELPER = "shared.py"  # per-folder helpers: data flows through them, they hold no sink
_MIN_PER_VERDICT = 8
_CWE = {
    "code": "CWE-94",
    "command": "CWE-78",
    "sql": "CWE-89",
    "deserialize": "CWE-502",
    "path": "CWE-22",
    "ssrf": "CWE-918",
    "template": "CWE-1336",
    "nosql": "CWE-943",
    "xpath": "CWE-643",
    "ldap": "CWE-90",
    "redirect": "CWE-601",
    "xss": "CWE-79",
    "xxe": "CWE-611",
    "log": "CWE-117",
    "trust-boundary": "CWE-501",
    "jwt-unverified": "CWE-347",
    "exception-exposure": "CWE-209",
    "public-acl": "CWE-732",
    "cors-wildcard-credentials": "CWE-942",
    "tls-verify-disabled": "CWE-295",
    "hardcoded-credential": "CWE-798",
    "weak-hash": "CWE-328",
    "insecure-random": "CWE-330",
    "insecure-cookie": "CWE-614",
}


def _files() -> list[str]:
    found = (p for p in _DIR.rglob("*") if p.is_file() and p.name != "README.md")
    return sorted(p.relative_to(_DIR).as_posix() for p in found)


def _manifest() -> str:
    """One line per file, `sha256  path`, in sorted path order (the README says so)."""
    lines = (f"{hashlib.sha256((_DIR / f).read_bytes()).hexdigest()}  {f}\n" for f in _files())
    return "".join(lines)


def _expected() -> list[dict[str, Any]]:
    return json.loads((_DIR / "expected.json").read_text(encoding="utf-8"))


def test_files_match_the_manifest_sha256_frozen_in_the_readme() -> None:
    readme = (_DIR / "README.md").read_text(encoding="utf-8")
    pinned = re.findall(r"`manifest sha256 ([0-9a-f]{64})`", readme)
    assert len(pinned) == 1, "README.md pins no (or more than one) manifest sha256"
    actual = hashlib.sha256(_manifest().encode("utf-8")).hexdigest()
    assert actual == pinned[0], "tests/scan/heldout/ was edited after it was frozen"


def test_every_entry_points_at_an_existing_line_with_a_known_category_and_cwe() -> None:
    for entry in _expected():
        assert set(entry) == {"file", "line", "category", "cwe", "vulnerable"}, entry
        path = _DIR / entry["file"]
        assert path.is_file(), f"{entry['file']} does not exist"
        assert entry["file"].split("/")[0] in _FRAMEWORKS, entry["file"]
        lines = path.read_text(encoding="utf-8").splitlines()
        assert isinstance(entry["line"], int) and 1 <= entry["line"] <= len(lines), entry
        assert lines[entry["line"] - 1].strip(), f"{entry['file']}:{entry['line']} is blank"
        assert entry["category"] in _CWE, entry
        assert entry["cwe"] == _CWE[entry["category"]], entry
        assert isinstance(entry["vulnerable"], bool), entry


def test_every_case_file_is_listed_exactly_once() -> None:
    listed = Counter(entry["file"] for entry in _expected())
    assert not [f for f, n in listed.items() if n > 1]
    cases = {f for f in _files() if f.endswith(".py") and not f.endswith("/" + _HELPER)}
    assert cases == set(listed), sorted(cases ^ set(listed))[:20]


def test_each_category_has_enough_vulnerable_cases_and_safe_twins() -> None:
    counts = Counter((e["category"], e["vulnerable"]) for e in _expected())
    short = {
        f"{cat} {'vulnerable' if verdict else 'safe'}": counts[(cat, verdict)]
        for cat in _CWE
        for verdict in (True, False)
        if counts[(cat, verdict)] < _MIN_PER_VERDICT
    }
    assert not short, f"under {_MIN_PER_VERDICT}: {short}"
