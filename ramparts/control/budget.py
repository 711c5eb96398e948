"""Control-API routes for invocation budgets (``ramparts budget show|set``).

``GET /v1/budgets[?function=FN][&app=APP]`` reports budgets and usage (every
node's, read from the state store now) with the time to each window's reset;
without a filter, every live function and app.  ``PUT
/v1/budgets/functions/{fn}`` and ``PUT /v1/budgets/apps/{app}`` take
``{"invocations_per_day": N, ...}`` (merged into the scope's override) or
``{"clear": true}`` (back to the manifest's) and are audited as
``budget.set``.  Admin token only, like every control route; bad input
changes nothing.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.routing import Route

from ramparts.budget import FIELDS
from ramparts.budget.ledger import app_scope, function_scope
from ramparts.control.http import JSONResponse, _json, _node
from ramparts.errors import InvalidRequest, NotFound
from ramparts.manifest import NAME_RE

if TYPE_CHECKING:
    from ramparts.manifest import Budget
    from ramparts.node import Node

MAX_BUDGET = 10**12


def _function(node: Node, name: str) -> tuple[str, Budget | None]:
    live = node.live(name) if NAME_RE.match(name) else None
    if live is None:
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    return live.app, live.config.budget


def _app_budget(node: Node, app: str) -> Budget | None:
    members = [fn for fn in node.live_functions() if fn.app == app] if NAME_RE.match(app) else []
    if not members:
        raise NotFound(f"app {app!r} not found", code="app_not_found")
    limits = members[0].app_limits
    return limits.budget if limits is not None else None


async def show(request: Request) -> JSONResponse:
    node = _node(request)
    q = request.query_params
    reports: list[dict[str, Any]] = []
    if q.get("function"):
        app, budget = _function(node, q["function"])
        reports.append(await node.budget.report(function_scope(q["function"]), budget))
        if not q.get("app"):
            reports.append(await node.budget.report(app_scope(app), _app_budget(node, app)))
    if q.get("app"):
        reports.append(await node.budget.report(app_scope(q["app"]), _app_budget(node, q["app"])))
    if not q.get("function") and not q.get("app"):
        live = sorted(node.live_functions(), key=lambda fn: (fn.app, fn.name))
        for app in sorted({fn.app for fn in live}):
            reports.append(await node.budget.report(app_scope(app), _app_budget(node, app)))
        for fn in live:
            reports.append(await node.budget.report(function_scope(fn.name), fn.config.budget))
    return JSONResponse({"budgets": reports})


def _fields(data: dict[str, Any]) -> dict[str, int] | None:
    """The override a request asks for (None: clear it); InvalidRequest names the field."""
    if data.get("clear") is True:
        if len(data) > 1:
            raise InvalidRequest("clear takes no budget fields", code="invalid_argument")
        return None
    unknown = sorted(set(data) - set(FIELDS))
    if unknown:
        raise InvalidRequest(
            f"unknown budget field {unknown[0]!r}; use {', '.join(FIELDS)} or clear",
            code="invalid_argument",
        )
    if not data:
        raise InvalidRequest(
            f"set at least one of {', '.join(FIELDS)}, or clear", code="invalid_argument"
        )
    out: dict[str, int] = {}
    for name, value in data.items():
        if isinstance(value, bool) or not isinstance(value, int) or not 1 <= value <= MAX_BUDGET:
            raise InvalidRequest(
                f"{name} must be a whole number from 1 to {MAX_BUDGET}", code="invalid_argument"
            )
        out[name] = value
    return out


async def _set(request: Request, scope: str, manifest: Budget | None) -> JSONResponse:
    node = _node(request)
    fields = _fields(await _json(request))
    override = await node.budget.set_override(scope, fields)
    node.audit.emit(
        "budget.set",
        decision="allow",
        principal="admin",
        action="budget:Clear" if fields is None else "budget:Set",
        resource=scope,
        fields=fields,
        override=override,
    )
    return JSONResponse(await node.budget.report(scope, manifest))


async def set_function(request: Request) -> JSONResponse:
    node = _node(request)
    name = request.path_params["fn"]
    _app, budget = _function(node, name)
    return await _set(request, function_scope(name), budget)


async def set_app(request: Request) -> JSONResponse:
    node = _node(request)
    app = request.path_params["app"]
    return await _set(request, app_scope(app), _app_budget(node, app))


def budget_routes() -> list[Route]:
    return [
        Route("/v1/budgets", show),
        Route("/v1/budgets/functions/{fn}", set_function, methods=["PUT"]),
        Route("/v1/budgets/apps/{app}", set_app, methods=["PUT"]),
    ]
