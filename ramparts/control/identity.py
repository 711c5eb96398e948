"""Control-API endpoints for API keys, OAuth2 clients and the issuer's signing keys.

Behind the admin token like every control route.  A new key's or client's
secret is in the creation response and nowhere else; every change is audited.
"""

from __future__ import annotations

import asyncio
from typing import Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse, _json, _node
from ramparts.errors import InvalidRequest, NotFound
from ramparts.identity.apikeys import check_rates
from ramparts.manifest import NAME_RE


def _scopes(data: dict[str, Any]) -> list[str]:
    scopes = data.get("scopes", [])
    if not isinstance(scopes, list):
        raise InvalidRequest("scopes must be a list of strings", code="invalid_argument")
    return scopes


def _app(data: dict[str, Any]) -> str | None:
    app = data.get("app")
    if app is not None and (not isinstance(app, str) or not NAME_RE.match(app)):
        raise InvalidRequest("app must be an app name", code="invalid_argument")
    return app


async def create_key(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    expires = data.get("expires_in")
    if expires is not None and (not isinstance(expires, int | float) or isinstance(expires, bool)):
        raise InvalidRequest("expires_in must be a number of seconds", code="invalid_argument")
    key, rec = await asyncio.to_thread(
        node.identity.api_keys.create,
        data.get("name"),
        _scopes(data),
        expires,
        _app(data),
        data.get("rate"),
    )
    node.audit.emit(
        "identity.api_key.create",
        decision="allow",
        principal="admin",
        action="identity:CreateApiKey",
        resource=f"api_key:{rec.id}",
        name=rec.name,
        scopes=list(rec.scopes),
        rate=list(rec.rate),
    )
    return JSONResponse({**rec.public(), "key": key})


async def list_keys(request: Request) -> JSONResponse:
    node = _node(request)
    rows = await asyncio.to_thread(node.identity.records.list_api_keys)
    return JSONResponse({"keys": [r.public() for r in rows]})


async def revoke_key(request: Request) -> JSONResponse:
    node = _node(request)
    key_id = request.path_params["key_id"].removeprefix("rk_")
    rec = await asyncio.to_thread(node.identity.records.revoke_api_key, key_id)
    if rec is None:
        raise NotFound(f"no API key {key_id!r}", code="api_key_not_found")
    node.audit.emit(
        "identity.api_key.revoke",
        decision="allow",
        principal="admin",
        action="identity:RevokeApiKey",
        resource=f"api_key:{rec.id}",
    )
    return JSONResponse(rec.public())


def _rate(data: dict[str, Any]) -> tuple[str, ...]:
    """``{"rate": [...]}`` of an update: required (``[]`` or null removes the limits)."""
    if "rate" not in data:
        raise InvalidRequest("rate is required ([] removes the limits)", code="invalid_argument")
    return check_rates(data["rate"])


async def update_key(request: Request) -> JSONResponse:
    """Change a key's own limits; effective on the next request on every node."""
    node = _node(request)
    key_id = request.path_params["key_id"].removeprefix("rk_")
    rate = _rate(await _json(request))
    rec = await asyncio.to_thread(node.identity.records.set_api_key_rate, key_id, rate)
    if rec is None:
        raise NotFound(f"no API key {key_id!r}", code="api_key_not_found")
    node.audit.emit(
        "identity.api_key.update",
        decision="allow",
        principal="admin",
        action="identity:UpdateApiKey",
        resource=f"api_key:{rec.id}",
        rate=list(rec.rate),
    )
    return JSONResponse(rec.public())


async def update_client(request: Request) -> JSONResponse:
    """Change a client's own limits, as ``update_key``."""
    node = _node(request)
    client_id = request.path_params["client_id"]
    rate = _rate(await _json(request))
    rec = await asyncio.to_thread(node.identity.records.set_client_rate, client_id, rate)
    if rec is None:
        raise NotFound(f"no client {client_id!r}", code="client_not_found")
    node.audit.emit(
        "identity.client.update",
        decision="allow",
        principal="admin",
        action="identity:UpdateClient",
        resource=f"client:{rec.id}",
        rate=list(rec.rate),
    )
    return JSONResponse(rec.public())


async def create_client(request: Request) -> JSONResponse:
    node = _node(request)
    data = await _json(request)
    secret, rec = await asyncio.to_thread(
        node.identity.issuer.create_client,
        data.get("name"),
        _scopes(data),
        _app(data),
        data.get("rate"),
    )
    node.audit.emit(
        "identity.client.create",
        decision="allow",
        principal="admin",
        action="identity:CreateClient",
        resource=f"client:{rec.id}",
        scopes=list(rec.scopes),
        rate=list(rec.rate),
    )
    return JSONResponse(
        {
            **rec.public(),
            "client_secret": secret,
            "token_endpoint": "/oauth/token",
            "issuer": node.identity.issuer.issuer,
        }
    )


async def list_clients(request: Request) -> JSONResponse:
    node = _node(request)
    rows = await asyncio.to_thread(node.identity.records.list_clients)
    return JSONResponse(
        {
            "clients": [r.public() for r in rows],
            "issuer": node.identity.issuer.issuer,
            "signing_keys": node.identity.issuer.signing_keys(),
        }
    )


async def delete_client(request: Request) -> JSONResponse:
    node = _node(request)
    client_id = request.path_params["client_id"]
    if not await asyncio.to_thread(node.identity.records.delete_client, client_id):
        raise NotFound(f"no client {client_id!r}", code="client_not_found")
    node.audit.emit(
        "identity.client.delete",
        decision="allow",
        principal="admin",
        action="identity:DeleteClient",
        resource=f"client:{client_id}",
    )
    return JSONResponse({"client_id": client_id, "deleted": True})


async def rotate_signing_key(request: Request) -> JSONResponse:
    node = _node(request)
    out = await node.identity.issuer.rotate()
    node.audit.emit(
        "identity.signing_key.rotate",
        decision="allow",
        principal="admin",
        action="identity:RotateSigningKey",
        resource=f"signing_key:{out['kid']}",
        retired=out["retired"],
    )
    return JSONResponse(out)


def identity_routes() -> list[Route]:
    return [
        Route("/v1/keys", create_key, methods=["POST"]),
        Route("/v1/keys", list_keys, methods=["GET"]),
        Route("/v1/keys/{key_id}/revoke", revoke_key, methods=["POST"]),
        Route("/v1/keys/{key_id}", update_key, methods=["PATCH"]),
        Route("/v1/clients", create_client, methods=["POST"]),
        Route("/v1/clients", list_clients, methods=["GET"]),
        Route("/v1/clients/signing-key/rotate", rotate_signing_key, methods=["POST"]),
        Route("/v1/clients/{client_id}", delete_client, methods=["DELETE"]),
        Route("/v1/clients/{client_id}", update_client, methods=["PATCH"]),
    ]
