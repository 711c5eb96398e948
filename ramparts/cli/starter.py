"""``ramparts init NAME --template T [--dir D]``: a new app from a secure starting point.

Runs locally (no node needed).  Self-contained so ``main`` only calls
``register(app)``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape

from ramparts.cli.common import console
from ramparts.cli.common import fail as _fail
from ramparts.starter.scaffold import TEMPLATES

_NEXT_STEPS = {
    "http-api": "ramparts keys create --name {name}-client --app {name} --expires 90d",
    "queue-worker": 'ramparts publish jobs --app {name} --data \'{{"id": "job-1", '
    '"numbers": [1, 2]}}\'',
    "webhook": "ramparts secrets set webhook-signing-secret --app {name} --stdin   "
    "# before the first deploy",
    "scheduled": "ramparts schedule run nightly   # fire it once now",
}
_BEFORE_DEPLOY = frozenset({"webhook"})


def register(app: typer.Typer) -> None:
    @app.command("init")
    def init(
        name: Annotated[
            str, typer.Argument(metavar="NAME", help="the app name (lowercase letters, digits, -)")
        ],
        template: Annotated[
            str, typer.Option("--template", "-t", help=f"one of: {', '.join(TEMPLATES)}")
        ],
        directory: Annotated[
            Path | None,
            typer.Option("--dir", help="where to write the app (default ./NAME); must be empty"),
        ] = None,
    ) -> None:
        """Create an app that passes the deploy gate with no findings (see its README.md)."""
        from ramparts.starter.scaffold import StarterError, create_app

        target = directory if directory is not None else Path(name)
        try:
            files = create_app(name, template, target)
        except StarterError as exc:
            _fail(escape(exc.message))
        console.print(f"created {escape(str(target))} ({template}, {len(files)} files)")
        console.print("next:", highlight=False)
        console.print(f"  cd {escape(str(target))} && python -m pytest tests", highlight=False)
        step = f"  {escape(_NEXT_STEPS[template].format(name=name))}"
        deploy = f"  ramparts deploy {escape(str(target))}"
        # in the order they are run: only the webhook's secret must exist before its deploy
        for line in (step, deploy) if template in _BEFORE_DEPLOY else (deploy, step):
            console.print(line, highlight=False)
