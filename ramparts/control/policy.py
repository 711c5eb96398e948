"""Control-API routes for least privilege: simulate a decision, show a role, suggest one.

``POST /v1/policy/simulate`` explains how a function's role decides an
action on a resource (every statement that applied);
``GET /v1/functions/{fn}/policy`` shows the role as IAM JSON;
``GET /v1/functions/{fn}/policy/suggest?window=SECONDS`` proposes the
smallest role from the audit trail and the handler's code.  Admin token
only, like every control route.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ramparts.errors import InvalidRequest, NotFound
from ramparts.manifest import NAME_RE
from ramparts.policy import aws as aws_names
from ramparts.policy.advisor import observed_uses, suggest
from ramparts.policy.document import expand_resource
from ramparts.policy.evaluator import RolePolicy, normalize_context
from ramparts.policy.static import scan_handler

if TYPE_CHECKING:
    from ramparts.node import Node

MAX_WINDOW = 90 * 86400
_AUDIT_PAGE = 1000


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content, default=str)


def _node(request: Request) -> Node:
    return request.app.state.node  # type: ignore[no-any-return]


def _function(node: Node, name: Any, qualifier: Any = None) -> tuple[Any, Any]:
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    if qualifier is not None and not isinstance(qualifier, str):
        raise InvalidRequest("qualifier must be a string", code="invalid_argument")
    rec = node.registry.resolve_version(name, qualifier)
    return node.registry.spec_for(rec)


async def simulate(request: Request) -> _JSON:
    node = _node(request)
    body = await request.body()
    try:
        data = orjson.loads(body or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not valid JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalid_json")
    action, resource = data.get("action"), data.get("resource")
    if not isinstance(action, str) or not action or not isinstance(resource, str) or not resource:
        raise InvalidRequest("action and resource are required strings", code="invalid_argument")
    extra = data.get("context") or {}
    if not isinstance(extra, dict):
        raise InvalidRequest("context must be an object", code="invalid_argument")
    config, spec = await asyncio.to_thread(
        _function, node, data.get("function"), data.get("qualifier")
    )
    policy = RolePolicy(spec.app, config, cache=False)
    arn = expand_resource(spec.app, resource)
    # A request in AWS names is decided as the AWS API decides the call: as the native
    # action on the native resource it aliases (a table ARN: any item of the table).
    if aws_names.is_aws_action(action):
        natives = aws_names.expand_action(action)[1:]
        action = natives[0] if len(natives) == 1 else action
    if aws_names.is_aws_arn(resource):
        natives = aws_names.expand_resource(spec.app, resource)[1:]
        arn = natives[0] if natives else arn
    context = node.broker.condition_context(spec, "simulate")
    context.update(normalize_context(extra))
    explanation = policy.explain(action, arn, context)
    return _JSON(
        {
            "function": spec.function,
            "version": spec.version,
            "action": action,
            "resource": arn,
            **explanation.to_dict(),
        }
    )


async def show(request: Request) -> _JSON:
    node = _node(request)
    config, spec = await asyncio.to_thread(
        _function, node, request.path_params["fn"], request.query_params.get("qualifier")
    )
    policy = RolePolicy(spec.app, config, cache=False)
    return _JSON(
        {
            "function": spec.function,
            "version": spec.version,
            "digest": policy.digest,
            "policies": policy.json_documents,
        }
    )


def _audit_events(node: Node, since: float) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    after = 0
    while True:
        rows = node.store.list_audit_events(after, _AUDIT_PAGE)
        out.extend(r for r in rows if (r.get("ts") or 0) >= since)
        if len(rows) < _AUDIT_PAGE:
            return out
        after = rows[-1]["seq"]


async def suggest_route(request: Request) -> _JSON:
    node = _node(request)
    raw = request.query_params.get("window", str(7 * 86400))
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_WINDOW:
        raise InvalidRequest(
            f"window is a number of seconds between 1 and {MAX_WINDOW}", code="invalid_argument"
        )
    config, spec = await asyncio.to_thread(
        _function, node, request.path_params["fn"], request.query_params.get("qualifier")
    )
    since = time.time() - int(raw)
    await node.audit.flush()
    events = await asyncio.to_thread(_audit_events, node, since)
    uses = observed_uses(events, spec.app, spec.function, since)
    static = await asyncio.to_thread(scan_handler, spec.code_dir, config.handler)
    out = suggest(spec.app, spec.function, config, uses, static)
    out["version"] = spec.version
    out["window_seconds"] = int(raw)
    return _JSON(out)


def policy_routes() -> list[Route]:
    return [
        Route("/v1/policy/simulate", simulate, methods=["POST"]),
        Route("/v1/functions/{fn}/policy", show),
        Route("/v1/functions/{fn}/policy/suggest", suggest_route),
    ]
