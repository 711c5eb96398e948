"""``ramparts budget show|set``: invocation budgets, from the node's control API.

Self-contained so ``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import json
from typing import Annotated, Any

import typer
from rich.table import Table

from ramparts.cli.common import DataDirOpt, UrlOpt, cell, console, fail, segment
from ramparts.cli.common import call as _call

MAX_BUDGET = 10**12
_OPTIONS = {
    "invocations_per_hour": "--invocations-per-hour",
    "invocations_per_day": "--invocations-per-day",
    "compute_seconds_per_hour": "--compute-seconds-per-hour",
    "compute_seconds_per_day": "--compute-seconds-per-day",
}

_LABELS = {
    "invocations_per_hour": "invocations/hour",
    "invocations_per_day": "invocations/day",
    "compute_seconds_per_hour": "compute s/hour",
    "compute_seconds_per_day": "compute s/day",
}

budget_app = typer.Typer(help="Invocation budgets (denial of wallet): show usage, raise limits.")

Value = Annotated[str | None, typer.Option(help="a whole number, 1 or more")]


def _number(option: str, text: str) -> int:
    value = text.strip()
    # ASCII digits only: str.isdigit also takes '٣' and '５' (and int() reads them)
    if not (value.isascii() and value.isdigit()) or not 1 <= int(value) <= MAX_BUDGET:
        fail(f"{option} must be a whole number from 1 to {MAX_BUDGET}, got {text!r}")
    return int(value)


def _duration(seconds: int) -> str:
    hours, rest = divmod(seconds, 3600)
    minutes, secs = divmod(rest, 60)
    return f"{hours}h{minutes:02d}m" if hours else f"{minutes}m{secs:02d}s"


def _table(reports: list[dict[str, Any]]) -> None:
    table = Table(title="invocation budgets")
    for col in ("scope", "budget", "limit", "used", "%", "resets in"):
        table.add_column(col, overflow="fold")
    for rep in reports:
        for row in rep["budgets"]:
            if row["limit"] is None and not row["used"]:
                continue
            percent = row["percent"]
            style = "red" if percent is not None and percent >= 100 else (
                "yellow" if percent is not None and percent >= 80 else None
            )
            table.add_row(
                cell(rep["scope"]),
                _LABELS[row["field"]],
                "-" if row["limit"] is None else (
                    f"{row['limit']}*" if row["source"] == "override" else str(row["limit"])
                ),
                str(row["used"]),
                "-" if percent is None else f"{percent:g}",
                _duration(int(row["resets_in"])),
                style=style,
            )
    console.print(table)
    console.print("* set by an admin (ramparts budget set); --clear returns to the manifest's")


@budget_app.command("show")
def show(
    function: Annotated[str | None, typer.Argument(help="one function (and its app)")] = None,
    app_name: Annotated[str | None, typer.Option("--app", help="one app")] = None,
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Budgets, what is used of them in the current windows, and when each resets."""
    if fmt not in ("table", "json"):
        fail(f"--format must be table or json, got {fmt!r}")
    params = {k: v for k, v in (("function", function), ("app", app_name)) if v}
    out = _call(url, data_dir, "GET", "/v1/budgets", params=params)
    if fmt == "json":
        print(json.dumps(out["budgets"], indent=2))
        return
    _table(out["budgets"])


@budget_app.command("set")
def set_budget(
    function: Annotated[str | None, typer.Argument(help="the function (or use --app)")] = None,
    app_name: Annotated[str | None, typer.Option("--app", help="the app's budget instead")] = None,
    invocations_per_hour: Value = None,
    invocations_per_day: Value = None,
    compute_seconds_per_hour: Value = None,
    compute_seconds_per_day: Value = None,
    clear: Annotated[
        bool, typer.Option("--clear", help="drop the override: back to the manifest's budget")
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Override a function's or app's budget (audited); it applies on every node within
    a second, until --clear returns to the manifest's."""
    if (function is None) == (app_name is None):
        fail("name a FUNCTION or --app APP (one of them)")
    given = {
        "invocations_per_hour": invocations_per_hour,
        "invocations_per_day": invocations_per_day,
        "compute_seconds_per_hour": compute_seconds_per_hour,
        "compute_seconds_per_day": compute_seconds_per_day,
    }
    body: dict[str, Any] = {
        name: _number(_OPTIONS[name], text) for name, text in given.items() if text is not None
    }
    if clear and body:
        fail("--clear takes no budget options")
    if not clear and not body:
        fail("give at least one of " + ", ".join(_OPTIONS.values()) + ", or --clear")
    if clear:
        body = {"clear": True}
    path = (
        f"/v1/budgets/functions/{segment(function)}"
        if function is not None
        else f"/v1/budgets/apps/{segment(app_name or '')}"
    )
    out = _call(url, data_dir, "PUT", path, json=body)
    _table([out])


def register(app: typer.Typer) -> None:
    app.add_typer(budget_app, name="budget")
