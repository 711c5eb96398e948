"""ArcSight CEF lines for audit records (the MSG of our syslog messages).

``CEF:0|Ramparts|Ramparts|<version>|<kind>|<kind> <decision>|<severity>|<extension>``

Escaping follows the CEF specification: in the header ``\\`` and ``|``; in
extension values ``\\``, ``=`` and line breaks (as ``\\n``/``\\r``).  Any
other control character (C0, DEL, C1: VT, FF, ESC, BEL, NUL, NEL) and
U+2028/U+2029 is written as ``\\uXXXX`` in both; each value is cut to
``VALUE_MAX`` characters (the JSON detail to ``_DETAIL_MAX``).
``externalId`` carries the record's id, so a receiver can drop a record it
already holds after a redelivery.
"""

from __future__ import annotations

import json
from typing import Any

from ramparts.observe.siem.severity import CEF, severity_of
from ramparts.observe.siem.syslog import bound, escape_controls

_DETAIL_MAX = 2048  # characters of the JSON detail kept in cs4 (a syslog line stays small)


def escape_header(value: str) -> str:
    text = value.replace("\\", "\\\\").replace("|", "\\|").replace("\r", " ").replace("\n", " ")
    return escape_controls(text)


def escape_value(value: str) -> str:
    return escape_controls(
        value.replace("\\", "\\\\")
        .replace("=", "\\=")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
        .replace("\r", "\\r")
    )


def _outcome(decision: str) -> str:
    return {"allow": "success", "deny": "failure"}.get(decision, decision)


def cef_line(record: dict[str, Any], version: str) -> str:
    """One record as a CEF line (no trailing newline)."""
    kind = str(record.get("kind") or "event")
    decision = str(record.get("decision") or "")
    detail = record.get("detail") if isinstance(record.get("detail"), dict) else {}
    text = json.dumps(detail, sort_keys=True, separators=(",", ":"), default=str)
    if len(text) > _DETAIL_MAX:
        text = text[: _DETAIL_MAX - 3] + "..."
    ext: list[tuple[str, str]] = [
        ("rt", str(int(float(record.get("ts") or 0) * 1000))),
        ("externalId", str(record.get("id") or "")),
        ("act", decision),
        ("outcome", _outcome(decision)),
        ("suser", str(record.get("principal") or "")),
        ("dvchost", str(record.get("node") or "")),
        ("cs1Label", "action"),
        ("cs1", str(record.get("action") or "")),
        ("cs2Label", "resource"),
        ("cs2", str(record.get("resource") or "")),
    ]
    if record.get("request_id"):
        ext += [("cs3Label", "requestId"), ("cs3", str(record["request_id"]))]
    source = detail.get("source_ip") or detail.get("ip")
    if isinstance(source, str) and source:
        ext.append(("src", source))
    ext += [("cs4Label", "detail"), ("cs4", text)]
    header = [
        "CEF:0",
        "Ramparts",
        "Ramparts",
        escape_header(version),
        escape_header(kind),
        escape_header(f"{kind} {decision}".strip()),
        str(CEF[severity_of(record)]),
    ]
    return "|".join(header) + "|" + " ".join(
        f"{k}={escape_value(v if k == 'cs4' else bound(v))}" for k, v in ext
    )
