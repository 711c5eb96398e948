"""The baseline: findings a team has looked at and accepted, each with a reason and an expiry.

A baseline is a JSON or YAML file::

    version: 1
    accepted:
      - id: 3f2a9c1b0d4e          # the finding's id (``ramparts scan`` prints it)
        reason: admin-only tool, input is an enum checked above
        expires: 2025-12-31       # inclusive; after it the finding counts again
        rule: RP-T002             # optional: recorded for the reader
        path: tools/run.py        # optional: recorded for the reader

``ramparts scan`` and ``ramparts deploy`` read ``--baseline FILE``, else the
app's own ``.ramparts-baseline.json`` (or ``.yaml``/``.yml``) when present.
An entry suppresses only the finding with exactly that id (a fingerprint of
rule, file and the flagged code, see ``findings.py``), so it survives edits
elsewhere in the file but not a change to the accepted code.  Expired entries
stop suppressing and are reported.  The file is parsed strictly: an unknown
or malformed field is an error naming the file and the field, because a
silently ignored typo (``expiry:``) would turn an acceptance into a block or,
worse, a block into an acceptance.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import yaml

from ramparts import yamlsafe
from ramparts.scan.errors import ScanError
from ramparts.scan.findings import Finding

DEFAULT_NAMES = (".ramparts-baseline.json", ".ramparts-baseline.yaml", ".ramparts-baseline.yml")
ID_RE = re.compile(r"^[0-9a-f]{12}$")
# An acceptance is reviewed at least yearly: a far-future expiry (9999-12-31) is refused.
MAX_EXPIRY_DAYS = 366
_ENTRY_FIELDS = {"id", "reason", "expires", "rule", "path"}
_TOP_FIELDS = {"version", "accepted"}


class BaselineError(ScanError):
    code = "invalid_baseline"


@dataclass(frozen=True)
class BaselineEntry:
    id: str
    reason: str
    expires: date
    rule: str | None = None
    path: str | None = None

    def expired(self, today: date) -> bool:
        return today > self.expires


@dataclass
class Baseline:
    name: str  # as shown in messages: the file name, never a server path
    entries: dict[str, BaselineEntry]

    def get(self, finding_id: str) -> BaselineEntry | None:
        return self.entries.get(finding_id)


def today() -> date:
    return datetime.now(UTC).date()


def _fail(name: str, field: str, reason: str) -> BaselineError:
    return BaselineError(f"{name}: {field}: {reason}")


def parse_baseline(text: str, name: str) -> Baseline:
    """Parse baseline text; ``BaselineError`` names the file and field of any problem."""
    try:
        if name.endswith(".json") or text.lstrip().startswith("{"):
            data = json.loads(text)
        else:
            data = yamlsafe.load(text)
    except json.JSONDecodeError as exc:
        raise _fail(name, f"line {exc.lineno}", f"invalid JSON: {exc.msg}") from None
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f"line {mark.line + 1}" if mark is not None else "<root>"
        raise _fail(name, where, f"invalid YAML: {getattr(exc, 'problem', exc)}") from None
    except RecursionError:  # the YAML and JSON readers recurse once per nesting level
        raise _fail(name, "<root>", "nested too deeply") from None
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise _fail(name, "<root>", "must be a mapping with an 'accepted' list")
    unknown = sorted(set(map(str, data)) - _TOP_FIELDS)
    if unknown:
        raise _fail(name, unknown[0], "unknown field (expected version, accepted)")
    if data.get("version", 1) != 1:
        raise _fail(name, "version", f"unsupported version {data.get('version')!r} (expected 1)")
    items = data.get("accepted", [])
    if not isinstance(items, list):
        raise _fail(name, "accepted", "must be a list")
    entries: dict[str, BaselineEntry] = {}
    for i, item in enumerate(items):
        where = f"accepted[{i}]"
        if not isinstance(item, dict):
            raise _fail(name, where, "must be a mapping with id, reason and expires")
        unknown = sorted(set(map(str, item)) - _ENTRY_FIELDS)
        if unknown:
            raise _fail(name, f"{where}.{unknown[0]}",
                        "unknown field (expected id, reason, expires, rule, path)")
        fid = item.get("id")
        if not isinstance(fid, str) or not ID_RE.match(fid):
            raise _fail(name, f"{where}.id", "required: the 12-hex-digit finding id")
        if fid in entries:
            raise _fail(name, f"{where}.id", f"{fid} is listed twice")
        reason = item.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise _fail(name, f"{where}.reason", "required: why this finding is acceptable")
        expires = _parse_date(item.get("expires"))
        if expires is None:
            raise _fail(name, f"{where}.expires", "required: a date, YYYY-MM-DD")
        latest = today() + timedelta(days=MAX_EXPIRY_DAYS)
        if expires > latest:
            raise _fail(name, f"{where}.expires",
                        f"{expires.isoformat()} is more than {MAX_EXPIRY_DAYS} days ahead "
                        f"(latest {latest.isoformat()}): an acceptance must be reviewed again")
        for opt in ("rule", "path"):
            if item.get(opt) is not None and not isinstance(item[opt], str):
                raise _fail(name, f"{where}.{opt}", "must be a string")
        entries[fid] = BaselineEntry(fid, reason.strip(), expires, item.get("rule"),
                                     item.get("path"))
    return Baseline(name, entries)


def _parse_date(value: Any) -> date | None:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    if isinstance(value, str):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            return None
    return None


def load_baseline(path: Path, name: str | None = None) -> Baseline:
    shown = name or str(path)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise BaselineError(f"{shown}: file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise BaselineError(f"{shown}: cannot be read ({exc.__class__.__name__})") from None
    return parse_baseline(text, shown)


def find_default(app_dir: Path) -> Path | None:
    """The app's own baseline file, if it ships one."""
    return next((app_dir / n for n in DEFAULT_NAMES if (app_dir / n).is_file()), None)


def render(findings: list[Finding], reason: str, days: int = 90) -> str:
    """A baseline accepting ``findings`` (``ramparts scan --write-baseline``).

    The reason is the same for all; a reviewer is expected to edit each one.
    """
    expires = (today() + timedelta(days=days)).isoformat()
    doc = {
        "version": 1,
        "accepted": [
            {"id": f.id, "rule": f.rule_id, "path": f"{f.path}:{f.line}", "reason": reason,
             "expires": expires}
            for f in findings
        ],
    }
    return json.dumps(doc, indent=2) + "\n"
