"""Control-API routes for secrets and key-encryption keys (admin token only, like all routes).

Every secret belongs to one app, named by ``?app=`` (which may be left out
when exactly one app is deployed).  Sharing a secret with another app, or
taking it back, and moving it to another owner are admin actions, audited
like every other change.  Reading a secret's value is an admin action and is audited every time;
listing shows names, versions and dates, never values.  Rotating a secret
stores a new version given by the caller, or asks the app's rotation hook (a
function whose manifest says ``rotates: [name]``) for it, or generates one.
"""

from __future__ import annotations

import asyncio
import secrets as _random
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.control.http import JSONResponse
from ramparts.control.http import _json as read_json
from ramparts.errors import InvalidRequest, RampartsError
from ramparts.policy.document import resource_arn
from ramparts.secrets.store import (
    DEFAULT_RECOVERY_DAYS,
    UNASSIGNED,
    check_app,
    check_name,
    check_value,
)

if TYPE_CHECKING:
    from ramparts.node import Node


def _node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


def _name(request: Request) -> str:
    return check_name(request.path_params["name"])


async def _app(request: Request, *, reserved: bool = True) -> str:
    """The app that owns the secret: ``?app=``, else the only deployed app.

    With no app deployed, or several, a caller must say which: guessing
    would put a secret where another app could be given it.  An app that is
    not deployed yet may be named, so secrets can exist before the first deploy.
    """
    raw = request.query_params.get("app")
    if raw is not None:
        return check_app(raw, reserved=reserved)
    apps = await asyncio.to_thread(_node(request).store.list_apps)
    if len(apps) == 1:
        return apps[0]
    if not apps:
        why = "no app is deployed yet"
    else:
        why = f"{len(apps)} apps are deployed ({', '.join(apps)})"
    raise InvalidRequest(
        f"{why}: name the app that owns the secret (--app APP, or ?app=APP); "
        "an app that is not deployed yet may be named",
        code="app_required",
    )


def _changed(node: Node, name: str) -> None:
    """A secret's value or readers changed: zygotes holding it in their environment
    restart, and the gateway's verifiers built on it (JWT, introspection) are rebuilt."""
    node.supervisor.renew_secret(name)
    node.identity.forget_secret(name)


def _audit(node: Node, kind: str, action: str, app: str, name: str, **detail: Any) -> None:
    node.audit.emit(
        kind,
        decision="allow",
        principal="admin",
        action=action,
        resource=resource_arn(app, "secret", name),
        app=app,
        **detail,
    )


async def _json(request: Request) -> dict[str, Any]:
    return await read_json(request, 256 * 1024)


def _response(content: Any, status: int = 200) -> Any:
    return JSONResponse(content, status_code=status)


# -- secrets ------------------------------------------------------------------------------------
async def secrets_list(request: Request) -> Any:
    """Every app's secrets, or ``?app=``'s: a listing never needs to guess an owner."""
    node = _node(request)
    raw = request.query_params.get("app")
    app = check_app(raw, reserved=True) if raw is not None else None
    return _response({"secrets": await asyncio.to_thread(node.vault.secrets.list, app)})


async def secret_put(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request, reserved=False)
    value = check_value((await _json(request)).get("value"))
    version = await asyncio.to_thread(node.vault.secrets.put, app, name, value)
    _audit(node, "secrets.put", "secrets:PutSecretValue", app, name, version=version)
    _changed(node, name)
    return _response({"app": app, "name": name, "version": version})


async def secret_get(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request)
    version, found = await asyncio.to_thread(node.vault.secrets.value, app, name)
    _audit(node, "secrets.get", "secrets:GetSecretValue", app, name, version=version)
    return _response({"app": app, "name": name, "version": version, "value": found.reveal()})


async def secret_versions(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request)
    rows = await asyncio.to_thread(node.vault.secrets.versions, app, name)
    return _response({"app": app, "name": name, "versions": rows})


async def secret_rotate(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request, reserved=False)
    body = await _json(request)
    info = await asyncio.to_thread(node.vault.secrets.describe, app, name)
    if body.get("value") is not None:
        value, source = check_value(body["value"]), "rotate"
    else:
        hook = await _rotation_hook(node, app, name)
        if hook is not None:
            value, source = await _run_hook(node, hook, name, info["current_version"]), "hook"
        elif body.get("generate"):
            value, source = _random.token_urlsafe(32), "generate"
        else:
            raise InvalidRequest(
                f"no function of app {app!r} declares 'rotates: [{name}]'; pass the new value "
                "(--stdin / --from-file) or --generate",
                code="no_rotation_hook",
            )
    version = await asyncio.to_thread(node.vault.secrets.put, app, name, value, source=source)
    _audit(
        node, "secrets.rotate", "secrets:RotateSecret", app, name, version=version, source=source
    )
    _changed(node, name)
    return _response({"app": app, "name": name, "version": version, "source": source})


async def _rotation_hook(node: Node, app: str, name: str) -> str | None:
    """The owner's own hook only: another app's function never sees this secret's rotation."""
    for fn in await asyncio.to_thread(node.registry.live_functions):
        if fn.app == app and name in getattr(fn.config, "rotates", []):
            return fn.name
    return None


async def _run_hook(node: Node, function: str, name: str, current: int) -> str:
    event = {"SecretId": name, "Step": "rotate", "CurrentVersion": current}
    _, result = await node.invoke(function, event, trigger="rotation")
    value = result.result.get("value") if isinstance(result.result, dict) else result.result
    if not result.ok or not isinstance(value, str) or not value:
        raise RampartsError(
            f"the rotation hook {function} did not return a new value "
            "(return {'value': '...'}); the secret is unchanged",
            code="rotation_hook_failed",
        )
    return check_value(value)


async def secret_delete(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request)
    raw = request.query_params.get("recovery_days", str(DEFAULT_RECOVERY_DAYS))
    if not raw.isdigit():
        raise InvalidRequest(
            "recovery_days must be a whole number of days", code="invalid_argument"
        )
    force = request.query_params.get("force") in ("1", "true")
    out = await asyncio.to_thread(
        node.vault.secrets.delete, app, name, recovery_days=int(raw), force=force
    )
    _audit(
        node, "secrets.delete", "secrets:DeleteSecret", app, name, force=force, state=out["state"]
    )
    _changed(node, name)
    return _response(out)


async def secret_restore(request: Request) -> Any:
    node = _node(request)
    name = _name(request)
    app = await _app(request)
    out = await asyncio.to_thread(node.vault.secrets.restore, app, name)
    _audit(node, "secrets.restore", "secrets:RestoreSecret", app, name)
    _changed(node, name)
    return _response(out)


def _other_app(body: dict[str, Any], field: str) -> str:
    raw = body.get(field)
    if raw is None:
        raise InvalidRequest(f"{field} is required (an app name)", code="invalid_argument")
    return check_app(raw)


async def secret_share(request: Request) -> Any:
    """Let another app's functions read this secret; their roles still decide."""
    return await _sharing(request, share=True)


async def secret_unshare(request: Request) -> Any:
    return await _sharing(request, share=False)


async def _sharing(request: Request, *, share: bool) -> Any:
    """Add (``share``) or drop the app in the body's ``with`` as a reader; audited."""
    node = _node(request)
    name = _name(request)
    app = await _app(request, reserved=False)
    reader = _other_app(await _json(request), "with")
    secrets = node.vault.secrets
    out = await asyncio.to_thread(secrets.share if share else secrets.unshare, app, name, reader)
    if share:
        _audit(node, "secrets.share", "secrets:ShareSecret", app, name, reader=reader)
    else:
        _audit(node, "secrets.unshare", "secrets:UnshareSecret", app, name, reader=reader)
    _changed(node, name)
    return _response(out)


async def secret_move(request: Request) -> Any:
    """Give a secret to another app (an unassigned one, typically): versions re-sealed."""
    node = _node(request)
    name = _name(request)
    owner = check_app(request.query_params.get("from", UNASSIGNED), reserved=True)
    to = _other_app(await _json(request), "app")
    out = await asyncio.to_thread(node.vault.secrets.move, owner, name, to)
    _audit(
        node,
        "secrets.move",
        "secrets:MoveSecret",
        to,
        name,
        previous_owner=owner,
        unshared=out["unshared"],
    )
    _changed(node, name)
    return _response(out)


# -- key-encryption keys ---------------------------------------------------------------------------
def _kek_audit(node: Node, action: str, kek: str, **detail: Any) -> None:
    node.audit.emit(
        "encryption.kek",
        decision="allow",
        principal="admin",
        action=action,
        resource=f"kek:{kek}",
        **detail,
    )


async def encryption_status(request: Request) -> Any:
    node = _node(request)
    return _response(await asyncio.to_thread(node.vault.status))


async def encryption_rotate(request: Request) -> Any:
    node = _node(request)
    out = await asyncio.to_thread(node.vault.rotate)
    _kek_audit(node, "encryption:RotateKey", out["kek"]["id"], total=out["rewrap"].get("total"))
    return _response(out)


async def encryption_retire(request: Request) -> Any:
    node = _node(request)
    body = await _json(request)
    kek = body.get("kek")
    if not isinstance(kek, str) or not kek:
        raise InvalidRequest("kek is required", code="invalid_argument")
    if not body.get("force"):
        busy = {}
        for fn in sorted(node.subscriptions.async_functions()):
            depth = await node.bus.depth("fn." + fn)
            if depth:
                busy[fn] = depth
        if busy:
            raise InvalidRequest(
                "queued messages may still be sealed under this key: "
                + ", ".join(f"fn.{k}={v}" for k, v in busy.items())
                + "; retry when the queues have drained, or force",
                code="queues_not_drained",
            )
    out = await asyncio.to_thread(node.vault.retire, kek)
    _kek_audit(node, "encryption:RetireKey", kek)
    return _response(out)


def vault_routes() -> list[Route]:
    s = "/v1/secrets/{name}"
    return [
        Route("/v1/secrets", secrets_list),
        Route(s, secret_put, methods=["PUT"]),
        Route(s, secret_get, methods=["GET"]),
        Route(s, secret_delete, methods=["DELETE"]),
        Route(f"{s}/versions", secret_versions),
        Route(f"{s}/rotate", secret_rotate, methods=["POST"]),
        Route(f"{s}/restore", secret_restore, methods=["POST"]),
        Route(f"{s}/share", secret_share, methods=["POST"]),
        Route(f"{s}/unshare", secret_unshare, methods=["POST"]),
        Route(f"{s}/move", secret_move, methods=["POST"]),
        Route("/v1/encryption/status", encryption_status),
        Route("/v1/encryption/rotate", encryption_rotate, methods=["POST"]),
        Route("/v1/encryption/retire", encryption_retire, methods=["POST"]),
    ]
