"""``ramparts aws credentials FUNCTION``: a function's AWS credentials, for calling the API as it.

Prints the JSON of botocore's container credentials provider plus
``Endpoint`` and ``Region``; the credentials are short-lived (1 hour).
Self-contained so ``main`` only calls ``register(app)``.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from ramparts.cli.common import DataDirOpt, UrlOpt
from ramparts.cli.common import call as _call


def register(app: typer.Typer) -> None:
    aws_app = typer.Typer(help="the AWS-compatible API: credentials of a function")
    app.add_typer(aws_app, name="aws", no_args_is_help=True)

    @aws_app.command("credentials")
    def credentials(
        function: str,
        app_name: Annotated[
            str | None, typer.Option("--app", help="the function's app (checked)")
        ] = None,
        url: UrlOpt = None,
        data_dir: DataDirOpt = None,
    ) -> None:
        """Issue AWS credentials of FUNCTION's live version (JSON on stdout)."""
        body: dict[str, str] = {"function": function}
        if app_name:
            body["app"] = app_name
        out = _call(url, data_dir, "POST", "/v1/aws/credentials", json=body)
        print(json.dumps(out, indent=2))
