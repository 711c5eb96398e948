"""``ramparts waf ...``: the web application firewall.

Shared by two parts of the WAF, each in its own section below: the rule
engine's commands and the run-time block list's (``waf block``, ``waf
unblock``, ``waf blocks``, through the control API).

``waf test`` and ``waf rules`` need no node: they evaluate requests against
the default rule set, or an app's ``waf:`` section and route settings with
``--app DIR``, exactly as the gateway would (ramparts.gateway.waf).  Exit
codes of ``waf test``: 0 the request would pass, 1 it would be refused,
2 the command could not run as asked (bad option, unreadable file, invalid
manifest or rule file).
"""

from __future__ import annotations

import getpass
import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import DataDirOpt, UrlOpt, cell, console, err, fail, timestamp
from ramparts.cli.common import call as _call
from ramparts.config import parse_duration
from ramparts.errors import ConfigError, ManifestError

waf_app = typer.Typer(help="the web application firewall", no_args_is_help=True)
USAGE_ERROR = 2
FORMATS = ("table", "json")

AppOpt = Annotated[
    Path | None,
    typer.Option("--app", help="app dir: its waf: section, rule files and route modes"),
]
FormatOpt = Annotated[str, typer.Option("--format", help="table or json")]


def register(app: typer.Typer) -> None:
    app.add_typer(waf_app, name="waf")


def _fail(message: str) -> None:
    err.print(f"[bold red]error:[/] {message}", highlight=False, markup=False)
    raise typer.Exit(USAGE_ERROR)


def _manifest_error(exc: ManifestError) -> None:
    lines = "\n".join(f"  {exc.file}: {p or '<root>'}: {r}" for p, r in exc.problems)
    _fail(f"{exc.code}:\n{lines}")


# -- rule testing -----------------------------------------------------------------------------
def _load(app_dir: Path | None) -> tuple[Any, Any]:
    """(manifest or None, Waf) for ``--app`` (or the defaults); exits 2 on a bad app."""
    from ramparts.gateway.waf.cache import build_waf
    from ramparts.manifest import WafConfig, load_manifest

    if app_dir is None:
        return None, build_waf(WafConfig(), None)
    if not (app_dir / "ramparts.yaml").is_file():
        _fail(f"{app_dir}: no ramparts.yaml there")
    try:
        manifest = load_manifest(app_dir)
        return manifest, build_waf(manifest.waf, app_dir)
    except ManifestError as exc:
        _manifest_error(exc)
    raise AssertionError("unreachable")


def _route(manifest: Any, method: str, path: str) -> tuple[str, str]:
    """(route key, mode) of the app's route that ``method path`` reaches."""
    from ramparts.gateway.routing import _compile_path

    if manifest is None:
        return f"{method} {path}", "block"
    for fn in manifest.functions.values():
        for trig in fn.triggers:
            http = trig.http or trig.webhook
            if http is None:
                continue
            t_method = getattr(http, "method", "POST")
            if t_method not in (method, "ANY"):
                continue
            if http.path == path or ("{" in http.path and _compile_path(http.path)[0].match(path)):
                mode = getattr(http, "waf", None) or manifest.waf.mode
                return f"{t_method} {http.path}", mode
    _fail(f"no route of the app matches {method} {path}")
    raise AssertionError("unreachable")


def _body(value: str | None) -> bytes:
    if value is None:
        return b""
    if value.startswith("@"):
        try:
            return Path(value[1:]).read_bytes()
        except OSError as exc:
            _fail(f"{value[1:]}: cannot read the body file ({exc.strerror})")
    return value.encode()


@waf_app.command("test")
def waf_test(
    method: Annotated[str, typer.Option("--method", help="HTTP method")] = "GET",
    path: Annotated[str, typer.Option("--path", help="request path (may carry ?query)")] = "/",
    header: Annotated[
        list[str] | None, typer.Option("--header", "-H", help="NAME:VALUE (repeatable)")
    ] = None,
    query: Annotated[str | None, typer.Option("--query", help="raw query string")] = None,
    body: Annotated[str | None, typer.Option("--body", help="@FILE or the body text")] = None,
    app_dir: AppOpt = None,
    fmt: FormatOpt = "table",
) -> None:
    """Which rules a request fires, with the score and the verdict (exit 1: would block)."""
    from ramparts.gateway.waf.request import WafRequest

    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}")
    method = method.upper()
    raw_path, _, path_query = path.partition("?")
    if not raw_path.startswith("/"):
        _fail("--path must start with /")
    headers: list[tuple[str, str]] = []
    for h in header or []:
        name, sep, value = h.partition(":")
        if not sep or not name.strip():
            _fail(f"--header {h!r}: expected NAME:VALUE")
        headers.append((name.strip().lower(), value.strip()))
    data = _body(body)
    ctype = next((v for k, v in headers if k == "content-type"), "")
    if data and not ctype:
        try:
            json.loads(data)
            ctype = "application/json"
        except ValueError:
            ctype = "text/plain"
        headers.append(("content-type", ctype))
    manifest, waf = _load(app_dir)
    route, mode = _route(manifest, method, raw_path)
    raw_query = "&".join(q for q in (path_query, query or "") if q)
    verdict = waf.inspect(
        WafRequest(method, raw_path, raw_query, headers, data, ctype, route)
    )
    blocked = mode == "block" and verdict.blocked
    outcome = "off" if mode == "off" else ("block" if blocked else "pass")
    if mode == "off":
        verdict.matches.clear()
        verdict.score = 0
    if fmt == "json":
        console.print_json(
            json.dumps(
                {**verdict.to_dict(), "route": route, "mode": mode, "verdict": outcome,
                 "blocked": blocked}
            )
        )
    else:
        _print_verdict(route, mode, outcome, verdict)
    raise typer.Exit(1 if blocked else 0)


def _print_verdict(route: str, mode: str, outcome: str, verdict: Any) -> None:
    if verdict.matches:
        table = Table()
        table.add_column("rule", no_wrap=True)
        for name in ("category", "score", "location", "excerpt", "why"):
            table.add_column(name)
        for m in verdict.matches:
            table.add_row(
                cell(m.rule), cell(m.category), str(m.score), cell(m.location),
                cell(m.excerpt), cell(m.why),
            )
        console.print(table)
    else:
        console.print("no rule fired")
    colour = {"block": "bold red", "pass": "green", "off": "yellow"}[outcome]
    console.print(
        f"route {cell(route)} (mode {mode}): score {verdict.score} / threshold "
        f"{verdict.threshold} -> [{colour}]{outcome}[/]"
    )


@waf_app.command("rules")
def waf_rules(app_dir: AppOpt = None, fmt: FormatOpt = "table") -> None:
    """The rules in force: the defaults (minus ``waf.disable``) plus the app's own files."""
    if fmt not in FORMATS:
        _fail(f"--format must be one of {', '.join(FORMATS)}")
    _, waf = _load(app_dir)
    if fmt == "json":
        console.print_json(json.dumps([r.summary() for r in waf.rules]))
        return
    table = Table()
    table.add_column("id", no_wrap=True)
    for name in ("category", "score", "description", "source"):
        table.add_column(name)
    for r in waf.rules:
        table.add_row(cell(r.id), cell(r.category), str(r.score), cell(r.description),
                      cell(r.source))
    console.print(table)
    console.print(f"{len(waf.rules)} rules; a request is refused at score {waf.threshold}")


# -- block list ----------------------------------------------------------------------------------
# The run-time block list (ramparts.gateway.blocklist), through the control API's /v1/waf/blocks.

MAX_FOR_SECONDS = 366 * 86400  # the control API's bound (ramparts.control.waf)

CidrArg = Annotated[str, typer.Argument(help="an IP address or CIDR block (IPv4 or IPv6)")]


def _network(text: str) -> str:
    """``CIDR`` checked here first, so a typo is named before any node is asked."""
    from ramparts.gateway.netset import InvalidNetwork, parse_network

    try:
        return str(parse_network(text))
    except InvalidNetwork as exc:
        fail(f"CIDR: {escape(str(exc))}")


def _duration(text: str) -> float:
    try:
        seconds = parse_duration(text, name="--for")
    except ConfigError as exc:
        fail(escape(exc.message))
    if not 1 <= seconds <= MAX_FOR_SECONDS:
        fail(f"--for: {escape(text)!r} must be between 1s and 366d")
    return seconds


@waf_app.command("block")
def block(
    cidr: CidrArg,
    for_: Annotated[
        str | None,
        typer.Option("--for", help="how long (90s, 15m, 1h, 7d); default: until unblocked"),
    ] = None,
    reason: Annotated[
        str | None, typer.Option("--reason", help="why (kept with the entry, audited)")
    ] = None,
    force: Annotated[
        bool,
        typer.Option(
            "--force",
            help=(
                "block even every address (a /0), loopback, a trusted proxy "
                "(--forwarded-allow-ips), or the address you work from"
            ),
        ),
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Block a network on every node's gateway (applied within a second)."""
    network = _network(cidr)
    body: dict[str, object] = {"cidr": network, "force": force}
    if for_ is not None:
        body["for_seconds"] = _duration(for_)
    if reason is not None:
        if len(reason) > 500:
            fail("--reason: at most 500 characters")
        body["reason"] = reason
    try:
        body["actor"] = getpass.getuser()[:200]  # recorded, not trusted
    except (KeyError, OSError):
        body["actor"] = None  # no user name: the entry says "admin"
    out = _call(url, data_dir, "POST", "/v1/waf/blocks", json=body)
    until = f"until {timestamp(out['expires_at'])} UTC" if out["expires_at"] else "until unblocked"
    verb = "re-blocked" if out.get("replaced") else "blocked"
    console.print(f"{verb} {cell(out['cidr'])} {until}", highlight=False)


@waf_app.command("unblock")
def unblock(cidr: CidrArg, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
    """Remove a network from the run-time block list."""
    network = _network(cidr)
    out = _call(url, data_dir, "DELETE", "/v1/waf/blocks", params={"cidr": network})
    console.print(f"unblocked {cell(out['cidr'])}", highlight=False)


@waf_app.command("blocks")
def blocks(
    fmt: Annotated[str, typer.Option("--format", help="table or json")] = "table",
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """List the networks blocked at run time, oldest first."""
    if fmt not in ("table", "json"):
        fail("--format must be table or json")
    out = _call(url, data_dir, "GET", "/v1/waf/blocks")
    rows = out["blocks"]
    if fmt == "json":
        print(json.dumps(rows, indent=2))
        return
    if not rows:
        console.print("no networks are blocked")
        return
    table = Table()
    for col in ("network", "since", "until", "reason", "by"):
        table.add_column(col)
    for r in rows:
        table.add_row(
            cell(r["cidr"]),
            timestamp(r["created_at"]),
            timestamp(r["expires_at"]) if r["expires_at"] else "unblocked",
            cell(r["reason"] or "-"),
            cell(f"{r['actor']} ({r['source_ip']})" if r["source_ip"] else r["actor"]),
        )
    console.print(table)
