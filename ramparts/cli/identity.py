"""``ramparts keys`` and ``ramparts clients``: API keys and OAuth2 clients of a node.

A key's or client's secret is printed once, at creation, and never again:
the node keeps only a keyed hash.  Self-contained (its own small helpers) so
that ``main`` only has to call ``register(app)``.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Annotated, Any

import typer
from rich.table import Table

from ramparts.cli.common import DataDirOpt, JsonOpt, UrlOpt, cell, console, err, segment
from ramparts.cli.common import call as _call

ScopesOpt = Annotated[str, typer.Option("--scopes", help="comma-separated scopes, e.g. a,b")]
AppOpt = Annotated[
    str | None, typer.Option("--app", help="only valid on this app's routes (default: any app)")
]

RateOpt = Annotated[
    list[str] | None,
    typer.Option(
        "--rate",
        help="this one's own limit over every route, e.g. 50/second (repeatable, at most 5; "
        "per second, minute, hour or day)",
    ),
]

_EXPIRES = re.compile(r"^\s*(\d+)\s*([smhdw])\s*$")
_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_expiry(value: str) -> int:
    """``30d``, ``12h``, ``2w``, ``90m``, ``3600s`` -> seconds."""
    m = _EXPIRES.match(value)
    if not m or int(m.group(1)) <= 0:
        raise typer.BadParameter(f"{value!r} is not a duration such as 30d, 12h, 2w or 90m")
    return int(m.group(1)) * _UNITS[m.group(2)]






def parse_rates(values: list[str] | None) -> list[str]:
    """``--rate`` values checked here, so a typo is an error naming the option, not a call."""
    from ramparts.manifest import parse_rate

    rates = []
    for value in values or []:
        for part in value.split(","):
            try:
                amount, unit = parse_rate(part.strip())
            except ValueError:
                raise typer.BadParameter(
                    f"{part.strip()!r} is not a limit such as 50/second (a whole number from 1, "
                    "per second, minute, hour or day)",
                    param_hint="'--rate'",
                ) from None
            rates.append(f"{amount}/{unit}")
    if len(rates) > 5:
        raise typer.BadParameter("at most 5 limits", param_hint="'--rate'")
    return rates


def _ts(value: float | None) -> str:
    if not value:
        return "-"
    return datetime.fromtimestamp(value, UTC).strftime("%Y-%m-%d %H:%M")


def _split(scopes: str) -> list[str]:
    return [s.strip() for s in scopes.split(",") if s.strip()]


keys_app = typer.Typer(help="API keys (rk_...): create, list, update, revoke", no_args_is_help=True)
clients_app = typer.Typer(
    help="OAuth2 clients of the built-in issuer, and its signing key", no_args_is_help=True
)


@keys_app.command("create")
def keys_create(
    name: Annotated[str, typer.Option("--name", help="what the key is for")],
    scopes: ScopesOpt = "",
    expires: Annotated[
        str | None, typer.Option("--expires", help="lifetime such as 30d, 12h, 2w")
    ] = None,
    app_name: AppOpt = None,
    rate: RateOpt = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Create an API key; it is printed once and cannot be shown again."""
    body = {
        "name": name,
        "scopes": _split(scopes),
        "expires_in": parse_expiry(expires) if expires else None,
        "app": app_name,
        "rate": parse_rates(rate),
    }
    out = _call(url, data_dir, "POST", "/v1/keys", json=body)
    if as_json:
        console.print_json(json.dumps(out))
        return
    console.print(out["key"], highlight=False, markup=False)
    err.print(
        f"[yellow]store this key now: it cannot be shown again[/] (id {out['id']}, "
        f"scopes {', '.join(out['scopes']) or '-'}, expires {_ts(out['expires_at'])})",
        highlight=False,
    )


@keys_app.command("list")
def keys_list(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List API keys: prefix, scopes, created, last used, expiry (never the key)."""
    out = _call(url, data_dir, "GET", "/v1/keys")
    if as_json:
        console.print_json(json.dumps(out))
        return
    table = Table()
    for col in (
        "prefix", "name", "scopes", "app", "rate", "created", "last used", "expires", "status"
    ):
        table.add_column(col)
    import time

    now = time.time()
    for k in out["keys"]:
        status = (
            "revoked"
            if k["revoked_at"]
            else ("expired" if k["expires_at"] and k["expires_at"] <= now else "active")
        )
        table.add_row(
            cell(k["prefix"]),
            cell(k["name"]),
            cell(", ".join(k["scopes"]) or "-"),
            cell(k["app"] or "any"),
            cell(", ".join(k.get("rate") or []) or "-"),
            _ts(k["created_at"]),
            _ts(k["last_used_at"]),
            _ts(k["expires_at"]) if k["expires_at"] else "never",
            status,
        )
    console.print(table)


def _set_rate(
    path: str, rate: list[str] | None, no_rate: bool, url: str | None, data_dir: str | None
) -> dict[str, Any]:
    """PATCH a key's or client's own limits: ``--rate`` (repeatable) or ``--no-rate``."""
    rates = parse_rates(rate)
    if bool(rates) == no_rate:
        raise typer.BadParameter("give --rate (repeatable) or --no-rate", param_hint="'--rate'")
    return _call(url, data_dir, "PATCH", path, json={"rate": rates})


@keys_app.command("update")
def keys_update(
    key_id: Annotated[str, typer.Argument(help="the key's id or prefix (rk_...)")],
    rate: RateOpt = None,
    no_rate: Annotated[
        bool, typer.Option("--no-rate", help="remove the key's own limits")
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Change a key's own limits; effective on its next request, on every node."""
    out = _set_rate(f"/v1/keys/{segment(key_id.removeprefix('rk_'))}", rate, no_rate, url,
                    data_dir)
    console.print(
        f"{out['prefix']} ({out['name']}): rate {', '.join(out['rate']) or 'none'}",
        highlight=False,
    )


@keys_app.command("revoke")
def keys_revoke(
    key_id: Annotated[str, typer.Argument(help="the key's id or prefix (rk_...)")],
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Revoke a key: refused on the next request, on every node."""
    out = _call(url, data_dir, "POST", f"/v1/keys/{key_id.removeprefix('rk_')}/revoke")
    console.print(f"revoked {out['prefix']} ({out['name']})", highlight=False)


@clients_app.command("create")
def clients_create(
    name: Annotated[str, typer.Option("--name", help="what the client is")],
    scopes: ScopesOpt = "",
    app_name: AppOpt = None,
    rate: RateOpt = None,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
    as_json: JsonOpt = False,
) -> None:
    """Register a client-credentials client; its secret is printed once."""
    out = _call(
        url,
        data_dir,
        "POST",
        "/v1/clients",
        json={
            "name": name, "scopes": _split(scopes), "app": app_name, "rate": parse_rates(rate)
        },
    )
    if as_json:
        console.print_json(json.dumps(out))
        return
    console.print(f"client_id     {out['client_id']}", highlight=False)
    console.print(f"client_secret {out['client_secret']}", highlight=False, markup=False)
    err.print(
        "[yellow]store the secret now: it cannot be shown again[/]; get tokens with "
        "POST /oauth/token (grant_type=client_credentials) on the gateway",
        highlight=False,
    )


@clients_app.command("list")
def clients_list(url: UrlOpt = None, data_dir: DataDirOpt = None, as_json: JsonOpt = False) -> None:
    """List clients and the issuer's signing keys."""
    out = _call(url, data_dir, "GET", "/v1/clients")
    if as_json:
        console.print_json(json.dumps(out))
        return
    table = Table(title=f"clients of {out['issuer']}")
    for col in ("client_id", "name", "scopes", "app", "rate", "created"):
        table.add_column(col)
    for c in out["clients"]:
        table.add_row(
            cell(c["client_id"]),
            cell(c["name"]),
            cell(", ".join(c["scopes"])),
            cell(c["app"] or "any"),
            cell(", ".join(c.get("rate") or []) or "-"),
            _ts(c["created_at"]),
        )
    console.print(table)
    keys = Table(title="signing keys")
    for col in ("kid", "alg", "created", "retired", "state"):
        keys.add_column(col)
    for k in out["signing_keys"]:
        keys.add_row(k["kid"], k["alg"], _ts(k["created_at"]), _ts(k["retired_at"]), k["state"])
    console.print(keys)


@clients_app.command("update")
def clients_update(
    client_id: str,
    rate: RateOpt = None,
    no_rate: Annotated[
        bool, typer.Option("--no-rate", help="remove the client's own limits")
    ] = False,
    url: UrlOpt = None,
    data_dir: DataDirOpt = None,
) -> None:
    """Change a client's own limits; effective on its next request, on every node."""
    out = _set_rate(f"/v1/clients/{segment(client_id)}", rate, no_rate, url, data_dir)
    console.print(
        f"{out['client_id']} ({out['name']}): rate {', '.join(out['rate']) or 'none'}",
        highlight=False,
    )


@clients_app.command("delete")
def clients_delete(client_id: str, url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
    """Delete a client: it gets no new tokens (issued ones expire on their own)."""
    _call(url, data_dir, "DELETE", f"/v1/clients/{segment(client_id)}")
    console.print(f"deleted {client_id}", highlight=False)


@clients_app.command("rotate-signing-key")
def clients_rotate(url: UrlOpt = None, data_dir: DataDirOpt = None) -> None:
    """Make a new signing key; the old one verifies until its tokens have expired."""
    out = _call(url, data_dir, "POST", "/v1/clients/signing-key/rotate")
    console.print(
        f"new signing key {out['kid']}; retired {', '.join(out['retired']) or '-'} "
        f"(still verifying for {out['old_keys_verify_for_s']}s)",
        highlight=False,
    )


def register(app: typer.Typer) -> None:
    app.add_typer(keys_app, name="keys")
    app.add_typer(clients_app, name="clients")
