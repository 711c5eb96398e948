"""Alerts: what a rule match becomes, deduplicated per rule and group.

The first match of a rule for a group opens an alert; every further match for
that rule and group within the rule's ``suppress`` window (counted from the
alert's first record) adds its records to that alert's ``count`` and evidence
instead of raising another, so a flood raises one alert with a count.  Only a
new alert is announced (audit record, webhook); a merge updates the stored row.
"""

from __future__ import annotations

import uuid
from collections import OrderedDict
from dataclasses import dataclass
from typing import Any

from ramparts.respond.detections import Match
from ramparts.respond.rules import CATEGORIES

MAX_OPEN = 10_000  # open (rule, group) suppression entries kept; the oldest go first
MAX_STORED_EVIDENCE = 100  # evidence ids kept per alert (the count keeps counting)


@dataclass
class _Open:
    row: dict[str, Any]
    until: float


def public(row: dict[str, Any]) -> dict[str, Any]:
    """An alert as the API, the webhook and the audit record show it."""
    return {
        "id": row["id"],
        "ts": row["ts"],
        "last_ts": row["last_ts"],
        "node": row["node"],
        "rule": row["rule"],
        "title": row["title"],
        "severity": row["severity"],
        "category": row["category"],
        "category_name": CATEGORIES.get(row["category"], ""),
        "group": row["group_key"],
        "count": row["count"],
        "evidence": list(row["evidence"]),
    }


class AlertDesk:
    """Turns matches into new alert rows and updates of open ones (one thread calls it)."""

    def __init__(self, node: str) -> None:
        self._node = node
        self._open: OrderedDict[tuple[str, str], _Open] = OrderedDict()

    def take(self, matches: list[Match]) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
        """(new alert rows, updated rows of alerts opened earlier) for one batch of matches."""
        new: dict[str, dict[str, Any]] = {}
        changed: dict[str, dict[str, Any]] = {}
        for m in matches:
            key = (m.rule.id, m.group)
            entry = self._open.get(key)
            if entry is not None and m.ts < entry.until:
                row = entry.row
                row["count"] += m.count
                row["last_ts"] = max(row["last_ts"], m.ts)
                room = MAX_STORED_EVIDENCE - len(row["evidence"])
                if room > 0:
                    row["evidence"].extend(m.evidence[:room])
                if row["id"] not in new:
                    changed[row["id"]] = row
                continue
            row = {
                "id": uuid.uuid4().hex,
                "ts": m.ts,
                "last_ts": m.ts,
                "node": self._node,
                "rule": m.rule.id,
                "title": m.rule.title,
                "severity": m.rule.severity,
                "category": m.rule.category,
                "group_key": m.group[:1024],
                "count": m.count,
                "evidence": list(m.evidence[:MAX_STORED_EVIDENCE]),
            }
            self._open[key] = _Open(row, m.ts + m.rule.suppress)
            self._open.move_to_end(key)
            while len(self._open) > MAX_OPEN:
                self._open.popitem(last=False)
            new[row["id"]] = row
        return list(new.values()), list(changed.values())
