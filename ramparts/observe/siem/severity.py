"""One severity scale for every SIEM format, read from an audit record.

A record may say its own ``detail.severity`` (info, low, medium, high,
critical); otherwise the decision decides: a denial is medium, a detection
low, an allowed action informational.  CEF, syslog and OCSF each map this
one name onto their own numbers, so the three formats never disagree.
"""

from __future__ import annotations

from typing import Any

LEVELS = ("info", "low", "medium", "high", "critical")
_ALIASES = {"informational": "info", "warning": "medium", "error": "high", "fatal": "critical"}
_BY_DECISION = {"allow": "info", "detect": "low", "deny": "medium"}

CEF = {"info": 1, "low": 3, "medium": 5, "high": 8, "critical": 10}
SYSLOG = {"info": 6, "low": 5, "medium": 4, "high": 3, "critical": 2}  # RFC 5424 severities
OCSF = {"info": 1, "low": 2, "medium": 3, "high": 4, "critical": 5}  # severity_id


def severity_of(record: dict[str, Any]) -> str:
    """The record's severity name, one of ``LEVELS``."""
    detail = record.get("detail")
    said = detail.get("severity") if isinstance(detail, dict) else None
    if isinstance(said, str):
        name = _ALIASES.get(said.lower(), said.lower())
        if name in LEVELS:
            return name
    return _BY_DECISION.get(str(record.get("decision")), "medium")
