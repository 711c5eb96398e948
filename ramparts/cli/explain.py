"""``ramparts explain RULE [--format text|json|markdown]``: a rule's risk and its fix.

Runs locally from the shipped catalogue (no node needed).  Self-contained so
``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import sys
from typing import Annotated

import typer
from rich.markup import escape

from ramparts.cli.common import fail as _fail


def register(app: typer.Typer) -> None:
    @app.command("explain")
    def explain(
        rule: Annotated[str, typer.Argument(help="a rule id from a finding, e.g. RP-T002 or B602")],
        fmt: Annotated[str, typer.Option("--format", help="text, json or markdown")] = "text",
    ) -> None:
        """What a finding's rule guards against: the risk, a vulnerable and a fixed example."""
        from ramparts.explain.catalog import lookup
        from ramparts.explain.errors import ExplainError
        from ramparts.explain.render import FORMATS, render

        if fmt not in FORMATS:
            _fail(f"--format: {escape(repr(fmt))} is not one of {', '.join(FORMATS)}")
        try:
            entry = lookup(rule)
        except ExplainError as exc:
            _fail(escape(exc.message))
        sys.stdout.write(render(entry, fmt))
