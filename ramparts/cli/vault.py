"""``ramparts secrets ...`` and ``ramparts encryption ...``: the secret store and the KEKs.

Secret values are read from ``--stdin``, ``--from-file`` or a hidden prompt,
never from a command-line argument (which would land in shell history and
``ps``).  One trailing newline is dropped, since ``echo`` and editors add one.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import quote

import typer
from rich.progress import BarColumn, Progress, TaskProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, console, err
from ramparts.cli.common import call as _call
from ramparts.cli.common import fail as _fail
from ramparts.cli.common import timestamp as _ts

# Not imported from ramparts.cli.main: that module registers this one, and under
# ``python -m ramparts.cli.main`` a top-level import back into it would be circular.


secrets_app = typer.Typer(
    help="the encrypted secret store (secrets belong to apps)", no_args_is_help=True
)
encryption_app = typer.Typer(help="key-encryption keys and re-wrap", no_args_is_help=True)

StdinOpt = Annotated[bool, typer.Option("--stdin", help="read the value from standard input")]
FileOpt = Annotated[Path | None, typer.Option("--from-file", help="read the value from a file")]
AppOpt = Annotated[
    str | None,
    typer.Option(
        "--app",
        help="the app that owns the secret (may be left out when exactly one app is deployed; "
        "may name an app not deployed yet)",
    ),
]
WithOpt = Annotated[str, typer.Option("--with", help="the app that may read the secret")]


def register(app: typer.Typer) -> None:
    app.add_typer(secrets_app, name="secrets")
    app.add_typer(encryption_app, name="encryption")


def _path(name: str) -> str:
    from ramparts.errors import InvalidRequest
    from ramparts.secrets.store import check_name

    try:
        check_name(name)  # the node checks too; this names the problem before any request
    except InvalidRequest as exc:
        _fail(f"{name!r}: {exc.message}")
    return "/v1/secrets/" + quote(name, safe="")


def _params(app: str | None, **more: str) -> dict[str, str]:
    """Query parameters naming the owner; without --app the node picks the only app, or refuses."""
    if app is not None:
        from ramparts.errors import InvalidRequest
        from ramparts.secrets.store import check_app

        try:
            check_app(app, reserved=True)
        except InvalidRequest as exc:
            _fail(f"--app {app!r}: {exc.message}")
        more["app"] = app
    return more


def _read_value(stdin: bool, from_file: Path | None) -> str | None:
    if stdin and from_file is not None:
        _fail("use either --stdin or --from-file, not both")
    if stdin:
        text = sys.stdin.read()
    elif from_file is not None:
        try:
            text = from_file.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            _fail(f"{from_file}: {getattr(exc, 'strerror', None) or 'not UTF-8 text'}")
            return None
    else:
        return None
    if text.endswith("\r\n"):
        text = text[:-2]
    elif text.endswith("\n"):
        text = text[:-1]
    if not text:
        _fail("the secret value is empty")
    return text


# -- secrets ------------------------------------------------------------------------------------
@secrets_app.command("set")
def secrets_set(
    name: str,
    app: AppOpt = None,
    stdin: StdinOpt = False,
    from_file: FileOpt = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Store a new version of an app's secret NAME (value from --stdin, --from-file or a prompt)."""
    path, params = _path(name), _params(app)
    value = _read_value(stdin, from_file)
    if value is None:
        value = typer.prompt(f"value of {name}", hide_input=True, confirmation_prompt=True)
    out = _call(url, data_dir, "PUT", path, json={"value": value}, params=params)
    console.print(f"stored {out['name']} version {out['version']} (app {out['app']})")


@secrets_app.command("get")
def secrets_get(
    name: str, app: AppOpt = None, url: UrlOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Print the current value of secret NAME (admin only; audited)."""
    out = _call(url, data_dir, "GET", _path(name), params=_params(app))
    sys.stdout.write(out["value"] + "\n")


@secrets_app.command("list")
def secrets_list(
    app: Annotated[
        str | None, typer.Option("--app", help="only this app's secrets (default: every app's)")
    ] = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """List secrets: owner, name, versions, shares and dates, never values."""
    out = _call(url, data_dir, "GET", "/v1/secrets", params=_params(app))
    if as_json:
        console.print_json(json.dumps(out))
        return
    table = Table()
    rows = out["secrets"]
    for col in ("app", "name"):  # never shortened: a name cut to "db-pa…" names nothing
        table.add_column(col, no_wrap=True, min_width=max([len(s[col]) for s in rows] + [4]))
    for col in ("version", "versions", "shared with", "created", "updated", "state"):
        table.add_column(col)
    for s in out["secrets"]:
        state = s["state"] if s["state"] == "active" else f"deleted, purge {_ts(s['purge_at'])}"
        table.add_row(
            s["app"],
            s["name"],
            str(s["current_version"]),
            str(s["versions"]),
            ", ".join(s["shared_with"]) or "-",
            _ts(s["created_at"]),
            _ts(s["updated_at"]),
            state,
        )
    console.print(table)


@secrets_app.command("versions")
def secrets_versions(
    name: str, app: AppOpt = None, url: UrlOpt = None, data_dir: DataDirOpt = None
) -> None:
    """List the versions of secret NAME."""
    out = _call(url, data_dir, "GET", _path(name) + "/versions", params=_params(app))
    table = Table(title=f"{out['app']}: {name}")
    for col in ("version", "created", "source", "current"):
        table.add_column(col)
    for v in out["versions"]:
        table.add_row(
            str(v["version"]), _ts(v["created_at"]), v["source"], "yes" if v["current"] else ""
        )
    console.print(table)


@secrets_app.command("rotate")
def secrets_rotate(
    name: str,
    app: AppOpt = None,
    stdin: StdinOpt = False,
    from_file: FileOpt = None,
    generate: Annotated[
        bool, typer.Option("--generate", help="without a hook: store a random 256-bit value")
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Make a new version of NAME: the value given, else the app's hook's, else --generate."""
    path, params = _path(name), _params(app)
    value = _read_value(stdin, from_file)
    body: dict[str, Any] = {"generate": generate}
    if value is not None:
        body["value"] = value
    out = _call(url, data_dir, "POST", path + "/rotate", json=body, params=params)
    console.print(f"rotated {out['name']}: version {out['version']} ({out['source']})")


@secrets_app.command("delete")
def secrets_delete(
    name: str,
    app: AppOpt = None,
    recovery_days: Annotated[int, typer.Option(help="days during which restore works")] = 7,
    force: Annotated[bool, typer.Option("--force", help="purge now, with no recovery")] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete secret NAME after a recovery window (restore undoes it)."""
    params = _params(app, recovery_days=str(recovery_days), force="true" if force else "false")
    out = _call(url, data_dir, "DELETE", _path(name), params=params)
    if out["state"] == "deleted":
        console.print(f"deleted {name} of app {out['app']} (purged)")
    else:
        console.print(
            f"{name} of app {out['app']} is scheduled for deletion on {_ts(out['purge_at'])}"
        )


@secrets_app.command("restore")
def secrets_restore(
    name: str, app: AppOpt = None, url: UrlOpt = None, data_dir: DataDirOpt = None
) -> None:
    """Cancel the scheduled deletion of secret NAME."""
    out = _call(url, data_dir, "POST", _path(name) + "/restore", params=_params(app))
    console.print(f"restored {name} of app {out['app']}")


@secrets_app.command("share")
def secrets_share(
    name: str,
    with_app: WithOpt,
    app: AppOpt = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Let the app --with read secret NAME of app --app (its functions' roles still decide)."""
    path, params = _path(name), _params(app)
    out = _call(url, data_dir, "POST", path + "/share", json={"with": with_app}, params=params)
    console.print(f"{name} of app {out['app']} is shared with: {', '.join(out['shared_with'])}")


@secrets_app.command("unshare")
def secrets_unshare(
    name: str,
    with_app: WithOpt,
    app: AppOpt = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Stop sharing secret NAME of app --app with the app --with."""
    path, params = _path(name), _params(app)
    out = _call(url, data_dir, "POST", path + "/unshare", json={"with": with_app}, params=params)
    left = ", ".join(out["shared_with"]) or "no other app"
    console.print(f"{name} of app {out['app']} is no longer shared with {with_app} ({left} left)")


@secrets_app.command("move")
def secrets_move(
    name: str,
    app: Annotated[str, typer.Option("--app", help="the app that is to own the secret")],
    from_app: Annotated[
        str, typer.Option("--from", help="its owner now (default: the unassigned secrets)")
    ] = "_unassigned",
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Give secret NAME to app --app (every version kept; the old owner's shares are dropped)."""
    path, params = _path(name), _params(from_app)
    params["from"] = params.pop("app")
    _params(app)  # names a bad --app before any request
    out = _call(url, data_dir, "POST", path + "/move", json={"app": app}, params=params)
    console.print(f"moved {name} from {out['from']} to app {out['app']}")


# -- encryption ---------------------------------------------------------------------------------
def _show_status(out: dict[str, Any]) -> None:
    table = Table(title=f"master key {out['master_key']}")
    for col in ("kek", "state", "created", "retired"):
        table.add_column(col)
    for k in out["keks"]:
        state = "current" if k["id"] == out["current"] else k["state"]
        table.add_row(k["id"], state, _ts(k["created_at"]), _ts(k["retired_at"]))
    console.print(table)
    job = out.get("rewrap")
    if job:
        console.print(
            f"re-wrap to {job['target']}: {job['state']}, {job['processed']}/{job['total']} "
            f"records checked, {job['rewrapped']} re-wrapped, {job['failed']} failed",
            highlight=False,
        )


@encryption_app.command("status")
def encryption_status(
    url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False
) -> None:
    """Show the KEKs and the progress of the re-wrap."""
    out = _call(url, data_dir, "GET", "/v1/encryption/status")
    if as_json:
        console.print_json(json.dumps(out))
        return
    _show_status(out)


@encryption_app.command("rotate")
def encryption_rotate(
    wait: Annotated[bool, typer.Option("--wait/--no-wait", help="follow the re-wrap")] = True,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Introduce a new KEK (used at once) and re-wrap stored data keys in the background."""
    out = _call(url, data_dir, "POST", "/v1/encryption/rotate")
    console.print(f"new key-encryption key {out['kek']['id']}: new writes use it now")
    if not wait:
        return
    with Progress(
        TextColumn("re-wrapping data keys"),
        BarColumn(),
        TaskProgressColumn(),
        TextColumn("{task.completed}/{task.total}"),
        TimeElapsedColumn(),
        console=err,
    ) as progress:
        task = progress.add_task("rewrap", total=max(1, out["rewrap"].get("total") or 0))
        while True:
            job = _call(url, data_dir, "GET", "/v1/encryption/status")["rewrap"] or {}
            progress.update(
                task, total=max(1, job.get("total", 0)), completed=job.get("processed", 0)
            )
            if job.get("state") != "running":
                progress.update(task, completed=max(1, job.get("total", 0)))
                break
            time.sleep(0.3)
    if job.get("failed"):
        _fail(f"{job['failed']} records could not be re-wrapped; see the node log")
    console.print(
        f"re-wrap done ({job.get('rewrapped', 0)} records moved); retire old keys with "
        "'ramparts encryption retire KEK'"
    )


@encryption_app.command("retire")
def encryption_retire(
    kek: str,
    force: Annotated[
        bool, typer.Option("--force", help="even if queues still hold messages")
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Delete an old KEK once no stored record needs it."""
    out = _call(url, data_dir, "POST", "/v1/encryption/retire", json={"kek": kek, "force": force})
    console.print(f"retired {out['id']}")
