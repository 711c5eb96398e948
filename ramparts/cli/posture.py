"""``ramparts audit``: score the live node's configuration against the control catalogue.

The node computes the report (``GET /v1/audit/posture``); this command only
renders it as a table, JSON, SARIF or HTML, and with ``--fail-under`` exits 1
when the score is below the bar (a CI gate).  Usage errors exit 2.
Self-contained so ``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from ramparts.cli.common import DataDirOpt, UrlOpt, cell, console, err, fail
from ramparts.cli.common import call as _call
from ramparts.files import describe_os_error

FORMATS = ("table", "json", "sarif", "html")
_DAYS = {
    "--secret-max-age": "secret_max_age",
    "--key-max-idle": "key_max_idle",
    "--verify-max-age": "verify_max_age",
    "--audit-max-age": "audit_max_age",
    "--expiry-warning": "expiry_warning",
    "--window": "window",
}


def _render(report: dict[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(report, indent=2) + "\n"
    if fmt == "sarif":
        from ramparts.assess.report.sarif import to_sarif

        return json.dumps(to_sarif(report), indent=2) + "\n"
    from ramparts.assess.report.html import to_html

    return to_html(report)


def _write(output: Path, write: Any) -> None:
    try:
        with output.open("w", encoding="utf-8") as fh:
            write(fh)
    except OSError as exc:
        fail(f"--output {output}: {describe_os_error(exc)}", 2)


def register(app: typer.Typer) -> None:
    @app.command("audit")
    def audit(
        app_name: Annotated[
            str | None, typer.Option("--app", help="audit this app only (node checks still run)")
        ] = None,
        fmt: Annotated[str, typer.Option("--format", help="table, json, sarif or html")] = "table",
        output: Annotated[
            Path | None, typer.Option("--output", "-o", help="write the report to FILE")
        ] = None,
        fail_under: Annotated[
            int | None,
            typer.Option("--fail-under", help="exit 1 when the score (0-100) is below this"),
        ] = None,
        expect_public: Annotated[
            list[str] | None,
            typer.Option(
                "--expect-public",
                help="a public route that is meant to be ('GET /health'); repeat for more",
            ),
        ] = None,
        secret_max_age: Annotated[
            float | None,
            typer.Option("--secret-max-age", help="days before a secret is stale (default 90)"),
        ] = None,
        key_max_idle: Annotated[
            float | None,
            typer.Option("--key-max-idle", help="days an API key may go unused (default 90)"),
        ] = None,
        verify_max_age: Annotated[
            float | None,
            typer.Option(
                "--verify-max-age", help="days since the last audit-log verification (default 7)"
            ),
        ] = None,
        audit_max_age: Annotated[
            float | None,
            typer.Option(
                "--audit-max-age", help="days since the last posture audit run (default 30)"
            ),
        ] = None,
        expiry_warning: Annotated[
            float | None,
            typer.Option(
                "--expiry-warning",
                help="days before an accepted risk's expiry to warn (default 14)",
            ),
        ] = None,
        window: Annotated[
            float | None,
            typer.Option("--window", help="days of observed access for unused grants (default 30)"),
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Score the live configuration against the posture control catalogue (RP-A rules)."""
        if fmt not in FORMATS:
            fail(f"--format: unknown format {fmt!r}: use {', '.join(FORMATS)}", 2)
        if fail_under is not None and not 0 <= fail_under <= 100:
            fail(f"--fail-under: {fail_under} is not a score from 0 to 100", 2)
        params: list[tuple[str, str]] = []
        if app_name is not None:
            params.append(("app", app_name))
        given = {
            "--secret-max-age": secret_max_age,
            "--key-max-idle": key_max_idle,
            "--verify-max-age": verify_max_age,
            "--audit-max-age": audit_max_age,
            "--expiry-warning": expiry_warning,
            "--window": window,
        }
        for flag, value in given.items():
            if value is None:
                continue
            if value < 0:
                fail(f"{flag}: a number of days, 0 or more (got {value:g})", 2)
            params.append((_DAYS[flag], repr(value)))
        params.extend(("expect_public", route) for route in expect_public or [])
        _check_usage(params)
        report = _call(url, data_dir, "GET", "/v1/audit/posture", params=params)
        if fmt == "table":
            if output is not None:
                _write(output, lambda fh: _print(report, Console(file=fh, width=160)))
            else:
                _print(report, console)
        else:
            text = _render(report, fmt)
            if output is not None:
                _write(output, lambda fh: fh.write(text))
            else:
                sys.stdout.write(text)
        if output is not None:
            err.print(
                f"wrote {fmt} report to {output}; score {report['score']}/100", highlight=False
            )
        if fail_under is not None and report["score"] < fail_under:
            err.print(
                f"score {report['score']} is below --fail-under {fail_under}", highlight=False
            )
            raise typer.Exit(1)


_FLAGS = {param: flag for flag, param in _DAYS.items()} | {"expect_public": "--expect-public"}


def _check_usage(params: list[tuple[str, str]]) -> None:
    """Run the node's own option parser here so a value it would refuse is a
    usage error (exit 2, naming the CLI flag), not a node error (exit 1, naming
    the API parameter) that a CI gate would read as "score below the bar"."""
    from ramparts.assess.audit.inputs import AuditOptions
    from ramparts.errors import InvalidRequest

    query = {k: v for k, v in params if k != "expect_public"}
    routes = [v for k, v in params if k == "expect_public"]
    try:
        AuditOptions.parse(query, routes)
    except InvalidRequest as exc:
        param, sep, rest = exc.message.partition(": ")
        flag = _FLAGS.get(param)
        fail(f"{flag}:{rest and ' ' + rest}" if sep and flag else exc.message, 2)


def _print(report: dict[str, Any], out: Console) -> None:
    from ramparts.assess.report.table import render

    render(report, out, cell)
