"""``ramparts waf ...``: the web application firewall.

Shared by two parts of the WAF: the rule engine's commands (``waf test``,
``waf rules``) and the run-time block list's (``waf block``, ``waf unblock``,
``waf blocks``), each in its own section below.  ``main`` adds ``waf_app``
as the ``waf`` group.
"""

from __future__ import annotations

import getpass
import json
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from ramparts.cli.common import DataDirOpt, UrlOpt, cell, console, fail, timestamp
from ramparts.cli.common import call as _call
from ramparts.config import parse_duration
from ramparts.errors import ConfigError

waf_app = typer.Typer(help="the web application firewall", no_args_is_help=True)


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
            help="block even every address (a /0), loopback, or the address you work from",
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
