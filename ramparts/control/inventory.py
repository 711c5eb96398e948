"""Control-API route inventory: what the gateway serves, as an outside tester needs it.

``GET /v1/routes[?app=APP]`` lists every live http and webhook route with its
function, app, method, path, auth method, scopes, rate limits, JSON Schema
(the document itself, read from the deployed version) and webhook scheme,
plus each app's JWT issuers (issuer, audience, pinned algorithms and, for a
key file inside the app, its *public* keys).  ``ramparts pentest`` builds its
plan from this answer.  Secret values never appear: a webhook or HMAC issuer
names its secret, as the manifest does.  Admin token only, like every
control route.  An app that is not deployed is 404 ``app_not_found`` (an app
with no route is an empty list).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import orjson
from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse, _node
from ramparts.errors import ConfigError, InvalidRequest
from ramparts.identity.jwks import load_local
from ramparts.manifest import NAME_RE, HttpTrigger, JwtIssuer
from ramparts.registry.service import LiveFunction

_MAX_SCHEMA_BYTES = 256 * 1024


def _schema(fn: LiveFunction, name: str | None) -> Any:
    if not name:
        return None
    path = Path(fn.spec.code_dir) / name
    try:
        raw = path.read_bytes()
        return orjson.loads(raw) if len(raw) <= _MAX_SCHEMA_BYTES else None
    except (OSError, orjson.JSONDecodeError):
        return None


def _issuer(fn: LiveFunction, issuer: JwtIssuer) -> dict[str, Any]:
    out: dict[str, Any] = {
        "issuer": issuer.issuer,
        "audience": issuer.audience,
        "algorithms": list(issuer.algorithms),
        "secret": issuer.secret,
        "jwks_url": issuer.jwks if issuer.jwks and "://" in issuer.jwks else None,
        "public_keys": [],
    }
    if issuer.jwks and "://" not in issuer.jwks:
        try:
            index = load_local(Path(fn.spec.code_dir) / issuer.jwks)
        except ConfigError:
            return out
        out["public_keys"] = [k.as_dict(private=False) for k in index.keys]
    return out


def _inventory(live: list[LiveFunction], app: str | None) -> dict[str, Any]:
    routes: list[dict[str, Any]] = []
    apps: dict[str, dict[str, Any]] = {}
    for fn in sorted(live, key=lambda f: f.name):
        if app is not None and fn.app != app:
            continue
        if fn.app not in apps:
            apps[fn.app] = {
                "jwt": [_issuer(fn, i) for i in (fn.auth.jwt if fn.auth else [])],
                "waf": fn.waf.mode,
            }
        for trig in fn.config.triggers:
            cfg = trig.config
            row: dict[str, Any] = {"app": fn.app, "function": fn.name, "kind": trig.kind}
            if isinstance(cfg, HttpTrigger):
                row.update(
                    method=cfg.method,
                    path=cfg.path,
                    auth=cfg.auth or "default",  # no auth: any credential the app accepts
                    scopes=list(cfg.scopes),
                    claims=dict(cfg.claims),
                    rate=cfg.rates,
                    rate_key=cfg.rate_key,
                    waf=cfg.waf or fn.waf.mode,
                    schema=_schema(fn, cfg.schema_),
                )
            elif trig.kind == "webhook":
                row.update(
                    method="POST",
                    path=cfg.path,
                    auth="webhook",
                    scheme=cfg.scheme,
                    secret=cfg.secret,
                    tolerance=cfg.tolerance,
                    rate=[],
                )
            else:
                continue
            routes.append(row)
    return {"routes": routes, "apps": apps}


async def list_routes(request: Request) -> JSONResponse:
    node = _node(request)
    app = request.query_params.get("app") or None
    if app is not None and not NAME_RE.match(app):
        raise InvalidRequest("app must be an app name", code="invalid_argument")
    await node.refresh()
    if app is not None:
        await asyncio.to_thread(node.resolve_app, app)  # 404 app_not_found: a usage error
    names = [f["name"] for f in await asyncio.to_thread(node.store.list_functions)]
    live = [fn for fn in map(node.live, names) if fn is not None]
    out = await asyncio.to_thread(_inventory, live, app)
    out["gateway"] = f"{node.settings.host}:{node.settings.port}"
    out["tls"] = node.settings.tls_cert is not None
    out["max_body_bytes"] = node.settings.max_body_bytes
    return JSONResponse(out)


def inventory_routes() -> list[Route]:
    return [Route("/v1/routes", list_routes)]
