"""``ramparts drill SCENARIO | list | report``: rehearse incident response.

Self-contained so ``main`` only calls ``register(app)``.  A drill never talks
to the operator's node: it starts a throw-away one (``ramparts.respond.drills``)
and only appends its result to the history under the data dir.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, cell, console, fail, timestamp
from ramparts.config import resolve_data_dir
from ramparts.respond.drills import history
from ramparts.respond.drills.base import DrillResult
from ramparts.respond.drills.catalog import SCENARIOS, scenario
from ramparts.respond.drills.errors import DrillError
from ramparts.respond.drills.runner import run_drills

EXIT_FAILED = 1
EXIT_NOT_AVAILABLE = 3


def _seconds(value: Any) -> str:
    return "-" if value is None else f"{float(value):.1f}s"


def _list(as_json: bool) -> None:
    rows = [
        {
            "scenario": s.name,
            "summary": s.summary,
            "rules": list(s.rules),
            "containment": s.containment,
            "available": s.unavailable is None,
            "unavailable": s.unavailable,
        }
        for s in SCENARIOS.values()
    ]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    table = Table()
    for col in ("scenario", "detection", "containment", "what it does"):
        table.add_column(col, no_wrap=col == "scenario")
    for r in rows:
        what = r["summary"] if r["available"] else f"[yellow]not available:[/] {r['unavailable']}"
        table.add_row(r["scenario"], ", ".join(r["rules"]) or "-", r["containment"] or "-", what)
    console.print(table)


def _report(data_dir: str | None, name: str | None, as_json: bool) -> None:
    try:
        rows, skipped = history.read(resolve_data_dir(data_dir))
    except DrillError as exc:
        fail(escape(exc.message))
    if name:
        rows = [r for r in rows if r.get("scenario") == name]
    if as_json:
        print(json.dumps(rows, indent=2))
        return
    if not rows and name:
        console.print(f"no runs of {cell(name)} recorded (run: ramparts drill {cell(name)})")
    elif not rows:
        console.print("no drills recorded yet (run: ramparts drill SCENARIO)")
    else:
        table = Table()
        for col in ("scenario", "date", "run", "pass", "TTD", "TTC", "reason"):
            # run wraps between its parts ("manual, custom rules, no playbook")
            table.add_column(
                col,
                no_wrap=col in ("scenario", "date", "pass"),
                min_width=9 if col == "run" else None,
            )
        for r in rows:
            status = str(r.get("status"))
            mark = {"passed": "[green]pass[/]", "failed": "[red]FAIL[/]"}.get(
                status, "[yellow]n/a[/]"
            )
            table.add_row(
                cell(r.get("scenario")),
                timestamp(r.get("started_at")),
                cell(history.setup(r)),
                mark,
                _seconds(r.get("ttd_seconds")),
                _seconds(r.get("ttc_seconds")),
                cell(r.get("reason") or ""),
            )
        console.print(table)
    if skipped:
        console.print(f"[yellow]{skipped} unreadable line(s) in the history were skipped[/]")


def _print_result(result: DrillResult) -> None:
    if result.status == "not_available":
        console.print(f"[yellow]{cell(result.scenario)}: {cell(result.reason)}[/]")
        return
    table = Table(title=f"drill {result.scenario}")
    for col in ("check", "result", "reason"):
        table.add_column(col, no_wrap=col != "reason")
    for c in result.checks:
        table.add_row(
            cell(c.name), "[green]pass[/]" if c.passed else "[red]FAIL[/]", cell(c.reason)
        )
    console.print(table)
    verdict = "[green]PASSED[/]" if result.passed else "[red]FAILED[/]"
    console.print(
        f"{verdict}  time to detect {_seconds(result.ttd_seconds)}, "
        f"time to contain {_seconds(result.ttc_seconds)}"
        + (
            f", incident {result.incident[:12]} (on the stopped drill node)"
            if result.incident
            else ""
        )
    )


def register(app: typer.Typer) -> None:
    @app.command("drill")
    def drill(
        target: Annotated[
            str,
            typer.Argument(
                help="a scenario to run, 'all' (every scenario on one node), 'list' or 'report'",
                metavar="SCENARIO",
            ),
        ],
        detections: Annotated[
            Path | None,
            typer.Option(
                "--detections", help="run the node with this rule dir instead of the shipped set"
            ),
        ] = None,
        playbook: Annotated[
            Path | None,
            typer.Option(
                "--playbook", help="install this playbook file instead of the drill's default"
            ),
        ] = None,
        without_playbook: Annotated[
            bool, typer.Option("--without-playbook", help="install no playbook at all")
        ] = False,
        scenario_name: Annotated[
            str | None, typer.Option("--scenario", help="report: only this scenario")
        ] = None,
        data_dir: DataDirOpt = None,
        as_json: JsonOpt = False,
    ) -> None:
        """Run a drill on a throw-away node (list: the scenarios; report: past results).

        Exit 0 when the drill passed, 1 when it failed, 3 when the scenario is not available
        (all: 1 when any failed).
        """
        run_opts = [
            name
            for name, given in (
                ("--detections", detections is not None),
                ("--playbook", playbook is not None),
                ("--without-playbook", without_playbook),
            )
            if given
        ]
        if target in ("list", "report") and run_opts:
            fail(f"{run_opts[0]} is for running a drill, not 'drill {target}'", code=2)
        if target != "report" and scenario_name is not None:
            fail("--scenario is for 'drill report' (to run one: ramparts drill SCENARIO)", code=2)
        if target == "list":
            _list(as_json)
            return
        if target == "report":
            if scenario_name is not None:
                try:
                    scenario(scenario_name)
                except DrillError as exc:
                    fail(f"--scenario: {escape(exc.message)}", code=2)
            _report(data_dir, scenario_name, as_json)
            return
        try:
            chosen = list(SCENARIOS.values()) if target == "all" else [scenario(target)]
        except DrillError as exc:
            fail(escape(exc.message), code=2)
        if playbook is not None and without_playbook:
            fail("--playbook and --without-playbook exclude each other", code=2)
        if detections is not None and not detections.is_dir():
            fail(f"--detections: {escape(str(detections))} is not a directory", code=2)
        book: tuple[str, str] | None = None
        if playbook is not None:
            try:
                book = (playbook.name, playbook.read_text(encoding="utf-8"))
            except (OSError, UnicodeDecodeError) as exc:
                fail(f"--playbook: cannot read {escape(str(playbook))}: {escape(str(exc))}", code=2)
        results = run_drills(
            chosen,
            detections=detections.resolve() if detections else None,
            playbook=book,
            install_playbook=not without_playbook,
        )
        for result in results:
            if result.status != "not_available":
                try:
                    history.append(resolve_data_dir(data_dir), result)
                except DrillError as exc:
                    fail(escape(exc.message))
        if as_json:
            out = [r.to_dict() for r in results]
            print(json.dumps(out if target == "all" else out[0], indent=2))
        else:
            for result in results:
                _print_result(result)
        if any(r.status == "failed" for r in results):
            raise typer.Exit(EXIT_FAILED)
        if all(r.status == "not_available" for r in results):
            raise typer.Exit(EXIT_NOT_AVAILABLE)
