"""``ramparts alerts``: alerts raised by detection rules, from the node's control API.

Self-contained so ``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, cell, console, fail, timestamp
from ramparts.cli.common import call as _call
from ramparts.config import parse_duration
from ramparts.errors import ConfigError
from ramparts.respond.rules import SEVERITIES

_COLOURS = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}


def parse_since(text: str, now: float | None = None) -> float:
    """``--since``: a duration back from now (``15m``, ``24h``, ``7d``) or an ISO 8601 time."""
    now = time.time() if now is None else now
    try:
        return now - parse_duration(text, name="--since")
    except ConfigError:
        pass
    try:
        moment = datetime.fromisoformat(text.strip())
    except ValueError:
        raise ConfigError(
            f"--since: {text!r} is neither a duration (15m, 24h, 7d) "
            "nor an ISO 8601 time (2026-12-03T08:00:00Z)"
        ) from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return max(moment.timestamp(), 0.0)


def register(app: typer.Typer) -> None:
    @app.command("alerts")
    def alerts(
        since: Annotated[
            str | None,
            typer.Option("--since", help="only alerts raised since: a duration (24h) or ISO time"),
        ] = None,
        severity: Annotated[
            str | None,
            typer.Option("--severity", help="only this severity or above: "
                         + ", ".join(SEVERITIES)),
        ] = None,
        limit: Annotated[int, typer.Option("--limit", help="at most this many (1-1000)")] = 100,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """List alerts raised by detection rules, newest first."""
        params: dict[str, str] = {"limit": str(limit)}
        if not 1 <= limit <= 1000:
            fail("--limit must be 1 to 1000")
        if since:
            try:
                params["since"] = repr(parse_since(since))
            except ConfigError as exc:
                fail(escape(exc.message))
        if severity:
            if severity.lower() not in SEVERITIES:
                fail(f"--severity must be one of: {', '.join(SEVERITIES)}")
            params["severity"] = severity.lower()
        out = _call(url, data_dir, "GET", "/v1/alerts", params=params)
        rows = out["alerts"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no alerts")
            return
        table = Table()
        for col in ("time", "severity", "rule", "category", "group", "count", "id"):
            # the rule and id are what an operator searches for and copies: never wrapped
            table.add_column(col, no_wrap=col in ("severity", "rule", "id"))
        for a in rows:
            colour = _COLOURS.get(a["severity"], "white")
            table.add_row(
                timestamp(a["ts"]),
                f"[{colour}]{cell(a['severity'])}[/]",
                cell(a["rule"]),
                f"{cell(a['category'])} {cell(a['category_name'])}",
                cell(a["group"]),
                str(a["count"]),
                cell(a["id"][:12]),
            )
        console.print(table)
