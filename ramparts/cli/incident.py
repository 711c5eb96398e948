"""``ramparts quarantine | playbook | incident``: incident response from the command line.

Self-contained so ``main`` only calls ``register(app)``.  Every command talks to
the node's control API, except ``incident verify``, which checks an exported
incident or evidence bundle offline (no node needed).
"""

from __future__ import annotations

import json
from typing import Annotated

import typer
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, cell, console, segment, timestamp
from ramparts.cli.common import call as _call

quarantine_app = typer.Typer(help="Quarantine functions: their triggers stop until released.")


def _register_quarantine(app: typer.Typer) -> None:
    @quarantine_app.command("add")
    def add(
        function: Annotated[str, typer.Argument(help="the function to quarantine")],
        reason: Annotated[str, typer.Option("--reason", help="why (kept and audited)")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Quarantine FUNCTION: HTTP answers 503, events wait, schedules and invokes stop."""
        out = _call(
            url, data_dir, "POST", "/v1/quarantines", json={"function": function, "reason": reason}
        )
        if as_json:
            print(json.dumps(out, indent=2))
            return
        console.print(f"[bold]{cell(function)}[/] quarantined")

    @quarantine_app.command("release")
    def release(
        function: Annotated[str, typer.Argument(help="the quarantined function")],
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Release FUNCTION: its waiting events are delivered, its triggers run again."""
        out = _call(url, data_dir, "DELETE", f"/v1/quarantines/{segment(function)}")
        if as_json:
            print(json.dumps(out, indent=2))
            return
        console.print(f"[bold]{cell(function)}[/] released")

    @quarantine_app.command("list")
    def list_(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
        """List quarantined functions."""
        rows = _call(url, data_dir, "GET", "/v1/quarantines")["quarantines"]
        if as_json:
            print(json.dumps(rows, indent=2))
            return
        if not rows:
            console.print("no function is quarantined")
            return
        table = Table()
        for col in ("function", "since", "by", "incident", "reason"):
            table.add_column(col, no_wrap=col == "function")
        for r in rows:
            table.add_row(
                cell(r["function"]),
                timestamp(r["created_at"]),
                cell(r["actor"]),
                cell(r["incident"] or "-"),
                cell(r["reason"]),
            )
        console.print(table)

    app.add_typer(quarantine_app, name="quarantine")


def register(app: typer.Typer) -> None:
    _register_quarantine(app)
