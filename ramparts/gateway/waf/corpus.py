"""Detection and false-positive rates of a WAF on a corpus of labelled requests.

A corpus directory holds ``attacks.jsonl`` and ``benign.jsonl``, one item a
line: ``{"id", "category", "source", "request": {"method", "path", "query",
"headers": {}, "body"}}`` (benign items: category ``benign`` and a ``kind``).
``body`` is text, a JSON value (sent as ``application/json``), or null.
Used by ``bench/waf_corpus.py`` and the corpus test; nothing here runs in a
node.
"""

from __future__ import annotations

import json
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ramparts.gateway.waf.engine import Verdict, Waf
from ramparts.gateway.waf.request import WafRequest


def load(path: Path) -> list[dict[str, Any]]:
    """The items of one JSONL file (blank lines skipped)."""
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def to_request(item: dict[str, Any]) -> WafRequest:
    req = item["request"]
    headers = [(str(k).lower(), str(v)) for k, v in (req.get("headers") or {}).items()]
    body = req.get("body")
    ctype = next((v for k, v in headers if k == "content-type"), "")
    if body is None:
        data = b""
    elif isinstance(body, str):
        data = body.encode("utf-8")
    else:
        data = json.dumps(body).encode()
        if not ctype:
            ctype = "application/json"
            headers.append(("content-type", ctype))
    path, _, inline_query = str(req.get("path") or "/").partition("?")
    query = "&".join(q for q in (inline_query, str(req.get("query") or "")) if q)
    method = str(req.get("method") or "GET").upper()
    return WafRequest(method, path, query, headers, data, ctype, f"{method} {path}")


@dataclass
class Rates:
    """Counts per group (attack category, or benign kind) and the items that went wrong."""

    total: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    flagged: dict[str, int] = field(default_factory=lambda: defaultdict(int))
    wrong: list[tuple[str, Verdict]] = field(default_factory=list)

    def rate(self, group: str | None = None) -> float:
        total = self.total[group] if group else sum(self.total.values())
        flagged = self.flagged[group] if group else sum(self.flagged.values())
        return flagged / total if total else 0.0

    def count(self, group: str | None = None) -> tuple[int, int]:
        if group:
            return self.flagged[group], self.total[group]
        return sum(self.flagged.values()), sum(self.total.values())


def evaluate(waf: Waf, items: list[dict[str, Any]], *, attacks: bool) -> Rates:
    """Blocked items per group; ``wrong`` lists missed attacks or blocked benign items."""
    rates = Rates()
    for item in items:
        group = item.get("category", "?") if attacks else item.get("kind", "?")
        verdict = waf.inspect(to_request(item))
        rates.total[group] += 1
        if verdict.blocked:
            rates.flagged[group] += 1
        if verdict.blocked != attacks:
            rates.wrong.append((item["id"], verdict))
    return rates
