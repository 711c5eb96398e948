"""What every command group shares: consoles, the node-finding options, errors, one call.

Each group module (main, identity, policy, vault, scan) imports these so a
client command finds its node, prints its errors and exits the same way.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated, Any, NoReturn
from urllib.parse import quote

import typer
from rich.console import Console
from rich.markup import escape as _markup_escape

from ramparts.cli.client import ClientError, ControlClient
from ramparts.observe.logs import escape_line

console = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

UrlOpt = Annotated[str | None, typer.Option("--url", help="control API URL (or RAMPARTS_URL)")]
DataDirOpt = Annotated[
    str | None,
    typer.Option("--data-dir", help="data dir (or RAMPARTS_DATA_DIR; default ./.ramparts)"),
]
JsonOpt = Annotated[bool, typer.Option("--json", help="print JSON instead of a table")]


def fail(message: str, code: int = 1) -> NoReturn:
    """Print ``message`` as an error and exit with ``code`` (no traceback)."""
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=True)
    raise typer.Exit(code)


def report(exc: ClientError) -> NoReturn:
    """A control-API error as the CLI shows it: a manifest's problems one per line."""
    problems = exc.details.get("problems")
    if problems:
        file = exc.details.get("file", "ramparts.yaml")
        lines = "\n".join(f"  {file}: {p['field'] or '<root>'}: {p['reason']}" for p in problems)
        fail(f"invalid manifest ({exc.code}):\n{lines}")
    fail(f"{_markup_escape(exc.message)} ({_markup_escape(exc.code)})")


def call(url: str | None, data_dir: str | None, method: str, path: str, **kw: Any) -> Any:
    """One JSON request to the node's control API; an error answer exits with its code."""
    client = ControlClient(url, data_dir)
    try:
        return client.json(method, path, **kw)
    except ClientError as exc:
        report(exc)
    finally:
        client.close()


def timestamp(value: float | None) -> str:
    """A stored epoch time as the CLI shows it (UTC), or '-'."""
    if not value:
        return "-"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M:%S")


def cell(value: object) -> str:
    """Stored or remote text as a table cell: it cannot steer the terminal.

    Controls (C0, DEL, C1, newlines), U+2028/2029 and bidi overrides become
    backslash escapes (as ``ramparts logs`` shows handler output), and Rich
    markup is escaped, so an unauthenticated caller's request path in an audit
    record prints as text.  ``--json`` output is not passed through this.
    """
    return _markup_escape(escape_line(str(value)))


def segment(value: str) -> str:
    """``value`` as one URL path segment: ``/``, ``?``, ``#``, ``%`` and controls
    quoted, and ``.``/``..`` escaped (an HTTP client would resolve them), so a
    name given on the command line cannot reach another endpoint."""
    return "%2E" * len(value) if value in (".", "..") else quote(value, safe="")
