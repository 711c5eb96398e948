"""The posture report as the terminal shows it: the score, the failing controls, the findings.

Every value that came from the node (resource names, evidence) passes through
``escape`` first, so a route path or key name cannot steer the terminal.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from rich.console import Console
from rich.table import Table

_COLOURS = {"low": "cyan", "medium": "yellow", "high": "red", "critical": "bold red"}


def score_colour(score: int) -> str:
    return "green" if score >= 90 else "yellow" if score >= 70 else "red"


def render(report: dict[str, Any], console: Console, escape: Callable[[object], str]) -> None:
    score = report["score"]
    scope = f"app {escape(report['app'])}" if report.get("app") else "every app"
    console.print(
        f"[bold]Posture score: [{score_colour(score)}]{score}/100[/][/] "
        f"(node {escape(report['node'])}, {scope})"
    )
    failing = [c for c in report["controls"] if not c["passed"]]
    console.print(
        f"{len(report['controls']) - len(failing)} of {len(report['controls'])} controls pass; "
        + ", ".join(f"{n} {sev}" for sev, n in report["counts"].items() if n)
        if failing
        else f"all {len(report['controls'])} controls pass"
    )
    if report["findings"]:
        table = Table(show_lines=False)
        for col in ("severity", "rule", "control", "app", "resource", "evidence"):
            table.add_column(col, overflow="fold")
        for f in report["findings"]:
            colour = _COLOURS.get(f["severity"], "white")
            table.add_row(
                f"[{colour}]{f['severity']}[/]",
                f["rule"],
                escape(f["title"]),
                escape(f.get("app") or "-"),
                escape(f["resource"]),
                escape(f["evidence"]),
            )
        console.print(table)
        console.print(
            "Explain a rule with 'ramparts explain RULE'; fixes in docs/posture-audit.md."
        )
    for note in report["notes"]:
        console.print(f"[dim]note: {escape(note)}[/]")
