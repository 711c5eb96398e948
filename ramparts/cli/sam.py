"""``ramparts import template.yaml``: an AWS SAM app's ``ramparts.yaml``, written beside it.

Needs no node.  Exit codes: 0 written; 1 the template cannot be imported (the
message names the file and the field) or ``ramparts.yaml`` already exists
without ``--force``.  Nothing is written unless the whole import succeeded.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated

import typer

from ramparts.cli.common import console, fail


def register(app: typer.Typer) -> None:
    @app.command("import")
    def import_sam(
        template: Annotated[Path, typer.Argument(help="the SAM template (YAML or JSON)")],
        app_name: Annotated[
            str | None,
            typer.Option("--app", help="app name (default: the template's directory name)"),
        ] = None,
        force: Annotated[
            bool, typer.Option("--force", help="overwrite an existing ramparts.yaml")
        ] = False,
        region: Annotated[
            str | None,
            typer.Option("--region", help="the node's region for ARNs and queue URLs in "
                         "environment values (default RAMPARTS_REGION, else us-east-1)"),
        ] = None,
    ) -> None:
        """Write ramparts.yaml for an AWS SAM template, and list what has no equivalent."""
        from ramparts.aws.sam import DEFAULT_REGION, TemplateError, import_template

        region = region or os.environ.get("RAMPARTS_REGION") or DEFAULT_REGION
        try:
            result = import_template(template, app_name, region)
        except TemplateError as exc:
            fail(_escape(exc.message))
        target = result.target
        if target.exists() and not force:
            fail(_escape(f"{target} already exists; use --force to overwrite it"))
        tmp = target.with_name(f".{target.name}.import-{os.getpid()}")
        try:
            tmp.write_text(result.text, encoding="utf-8")
            os.replace(tmp, target)
        except OSError as exc:
            tmp.unlink(missing_ok=True)
            fail(_escape(f"{target}: cannot write: {exc.strerror or exc.__class__.__name__}"))
        result.report.print(console)
        console.print(f"wrote {target} (app {result.app})", markup=False, highlight=False)


def _escape(text: str) -> str:
    from rich.markup import escape

    return escape(text)
