"""The control API: deploys, registry, invocations, events, logs and audit.

Served on its own admin listener (127.0.0.1:8081 by default), never on the
public gateway.  Every request needs the node's admin token as a bearer
token, compared in constant time; a missing or wrong token is refused and
audited.  Errors are JSON with a stable ``code``.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import hmac
import logging
from typing import TYPE_CHECKING, Any

import orjson
from starlette.applications import Starlette
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ramparts.broker import KEY_RE, MAX_OBJECT_BYTES
from ramparts.control.alerts import alert_routes
from ramparts.control.audit import audit_routes
from ramparts.control.aws import aws_routes
from ramparts.control.budget import budget_routes
from ramparts.control.http import JSONResponse, _body, _error, _json, _node
from ramparts.control.identity import identity_routes
from ramparts.control.inventory import inventory_routes
from ramparts.control.policy import policy_routes
from ramparts.control.posture import posture_routes
from ramparts.control.respond import respond_routes
from ramparts.control.siem import siem_routes
from ramparts.control.supply import supply_routes
from ramparts.control.vault import vault_routes
from ramparts.control.waf import waf_routes
from ramparts.errors import BackendError, InvalidRequest, NotFound, RampartsError, StorageError
from ramparts.gateway.app import header_map
from ramparts.identity.errors import AuthFailed
from ramparts.identity.service import extract_credential
from ramparts.manifest import NAME_RE, RESOURCE_NAME_RE
from ramparts.observe.invocations import REQUEST_ID_RE, parse_instant, parse_level
from ramparts.respond.errors import FunctionQuarantined
from ramparts.scan.baseline import ID_RE, parse_baseline
from ramparts.scan.findings import Severity
from ramparts.scan.gate import Acceptance, GateOptions

if TYPE_CHECKING:
    from ramparts.node import Node

log = logging.getLogger("ramparts.control")

MAX_DEPLOY_BYTES = 64 * 1024 * 1024
ADMIN_PRINCIPAL = "admin"


def _fn_name(request: Request) -> str:
    name = request.path_params["fn"]
    if not NAME_RE.match(name):
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    return name


def _resource(value: str, what: str) -> str:
    if not RESOURCE_NAME_RE.match(value):
        raise InvalidRequest(f"invalid {what} name {value!r}", code="invalid_argument")
    return value


class _AnyKey(Convertor[str]):
    """Like Starlette's ``path``, but also matching control characters.

    ``path`` stops at a newline, which answered a bare 404; matching them lets
    ``_key_param`` refuse them with ``invalid_key``.
    """

    regex = r"[\s\S]+"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("rampartskey", _AnyKey())


def _key_param(request: Request) -> str:
    """The object or item key of the path, refused with ``invalid_key`` if malformed.

    Percent-escapes in the URL are decoded by then, so ``%0A`` arrives as a
    newline: keys with control characters would otherwise reach the store
    (and the CLI's and logs' output) from this API, though handlers cannot
    write them.
    """
    key = request.path_params["key"]
    if not isinstance(key, str) or not KEY_RE.match(key):
        raise InvalidRequest(
            "keys are 1 to 1024 characters without control characters", code="invalid_key"
        )
    return key


def _int(request: Request, name: str, default: int, hi: int) -> int:
    raw = request.query_params.get(name)
    if raw is None:
        return default
    if not raw.isdigit() or not 0 <= int(raw) <= hi:
        raise InvalidRequest(
            f"{name} must be an integer between 0 and {hi}", code="invalid_argument"
        )
    return int(raw)


# -- registry ---------------------------------------------------------------------------------
async def _deploy_request(request: Request) -> tuple[bytes, GateOptions, str | None]:
    """The archive and what the deployer says about the scan.

    Two shapes: the raw tar.gz (``application/gzip``: no accepted risks), or
    ``application/json`` ``{"archive": base64, "accept_risk": [{"id", "reason"}],
    "baseline": {"name", "content"}, "fail_on", "actor"}`` when the deployer
    accepts risks or brings a baseline from outside the app dir.
    """
    ctype = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if ctype != "application/json":
        archive = await _body(request, MAX_DEPLOY_BYTES)
        if not archive:
            raise InvalidRequest(
                "the body must be the app archive (tar.gz)", code="invalid_archive"
            )
        return archive, GateOptions(), None
    data = await _json(request, MAX_DEPLOY_BYTES * 4 // 3 + 1024 * 1024)
    encoded = data.get("archive")
    if not isinstance(encoded, str) or not encoded:
        raise InvalidRequest("archive: the base64 app archive is required", code="invalid_archive")
    try:
        archive = base64.b64decode(encoded, validate=True)
    except (binascii.Error, ValueError):
        raise InvalidRequest("archive: not valid base64", code="invalid_archive") from None
    options = GateOptions()
    actor = data.get("actor")
    if actor is not None and (not isinstance(actor, str) or len(actor) > 200):
        raise InvalidRequest("actor: a name of at most 200 characters", code="invalid_argument")
    accepts = data.get("accept_risk") or []
    if not isinstance(accepts, list) or len(accepts) > 1000:
        raise InvalidRequest("accept_risk: a list of {id, reason}", code="invalid_argument")
    for i, item in enumerate(accepts):
        fid = item.get("id") if isinstance(item, dict) else None
        reason = item.get("reason") if isinstance(item, dict) else None
        if not isinstance(fid, str) or not ID_RE.match(fid):
            raise InvalidRequest(
                f"accept_risk[{i}].id: a 12-hex-digit finding id", code="invalid_argument"
            )
        if not isinstance(reason, str) or not reason.strip():
            raise InvalidRequest(
                f"accept_risk[{i}].reason: accepting a risk needs a reason",
                code="reason_required",
            )
        options.accept.append(Acceptance(fid, reason.strip()[:1000], actor))
    baseline = data.get("baseline")
    if baseline is not None:
        if not isinstance(baseline, dict) or not isinstance(baseline.get("content"), str):
            raise InvalidRequest("baseline: {name, content}", code="invalid_argument")
        name = baseline.get("name") or "baseline"
        if not isinstance(name, str) or "/" in name or len(name) > 200:
            raise InvalidRequest("baseline.name: a file name", code="invalid_argument")
        options.baseline = parse_baseline(baseline["content"], name)  # BaselineError: 400
    if data.get("fail_on") is not None:
        if not isinstance(data["fail_on"], str):
            raise InvalidRequest("fail_on: low, medium or high", code="invalid_severity")
        options.fail_on = Severity.parse(data["fail_on"])
    return archive, options, actor


async def deploy(request: Request) -> JSONResponse:
    archive, options, actor = await _deploy_request(request)
    report = await _node(request).deploy(archive, scan=options, actor=actor)
    return JSONResponse(report.to_dict())


async def list_functions(request: Request) -> JSONResponse:
    node = _node(request)
    rows = []
    for fn in node.store.list_functions():
        live = node.live(fn["name"])
        rows.append(
            {
                **fn,
                "live": fn["aliases"].get("live"),
                "triggers": [t.kind for t in live.config.triggers] if live else [],
            }
        )
    return JSONResponse({"functions": rows})


async def list_versions(request: Request) -> JSONResponse:
    node = _node(request)
    name = _fn_name(request)
    versions = node.store.list_versions(name)
    if not versions:
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    aliases = node.store.list_aliases(name)
    return JSONResponse(
        {
            "function": name,
            "versions": [
                {
                    "version": v.version,
                    "seq": v.seq,
                    "created_at": v.created_at,
                    "handler": v.config.get("handler"),
                    "aliases": sorted(a for a, t in aliases.items() if t == v.version),
                    # Signed by the store's key (checked again before each zygote start);
                    # the signing key's id, or None for a version from before signing.
                    "signed": v.signature is not None,
                    "signer": v.signature.split(":")[1] if v.signature else None,
                }
                for v in versions
            ],
        }
    )


async def set_alias(request: Request) -> JSONResponse:
    node = _node(request)
    name = _fn_name(request)
    alias = request.path_params["alias"]
    if not NAME_RE.match(alias):
        raise InvalidRequest(
            "alias names use lowercase letters, digits and '-'", code="invalid_argument"
        )
    data = await _json(request)
    qualifier = data.get("version")
    if not isinstance(qualifier, str) or not qualifier:
        raise InvalidRequest("version is required", code="invalid_argument")
    rec = node.registry.resolve_version(name, qualifier)
    previous = node.store.set_alias(name, alias, rec.version)
    node.audit.emit(
        "registry.alias",
        decision="allow",
        principal="admin",
        action="registry:SetAlias",
        resource=f"function:{name}:{alias}",
        version=rec.version[:12],
        previous=(previous or "")[:12],
    )
    await node.refresh(force=True)
    return JSONResponse(
        {"function": name, "alias": alias, "version": rec.version, "previous": previous}
    )


async def rollback(request: Request) -> JSONResponse:
    node = _node(request)
    name = _fn_name(request)
    data = await _json(request)
    alias = data.get("alias", "live")
    if not isinstance(alias, str) or not NAME_RE.match(alias):
        raise InvalidRequest("invalid alias", code="invalid_argument")
    before, after = node.store.rollback_alias(name, alias)
    node.audit.emit(
        "registry.rollback",
        decision="allow",
        principal="admin",
        action="registry:Rollback",
        resource=f"function:{name}:{alias}",
        version=after[:12],
        previous=before[:12],
    )
    await node.refresh(force=True)
    return JSONResponse({"function": name, "alias": alias, "from": before, "to": after})


async def collect_garbage(request: Request) -> JSONResponse:
    """Delete versions no alias has pointed to for ``retention`` seconds (default: node's)."""
    data = await _json(request)
    retention = data.get("retention")
    if retention is not None and (
        isinstance(retention, bool)
        or not isinstance(retention, int | float)
        or not 0 <= retention <= 10 * 365 * 24 * 3600
    ):
        raise InvalidRequest("retention: a number of seconds, 0 or more", code="invalid_argument")
    return JSONResponse(await _node(request).collect_garbage(retention))


# -- invocation and events ------------------------------------------------------------------------
async def invoke(request: Request) -> JSONResponse:
    node = _node(request)
    name = _fn_name(request)
    data = await _json(request, node.settings.max_body_bytes)
    qualifier = data.get("qualifier")
    if qualifier is not None and not isinstance(qualifier, str):
        raise InvalidRequest("qualifier must be a string", code="invalid_argument")
    spec, result = await node.invoke(name, data.get("event", {}), qualifier=qualifier)
    return JSONResponse(
        {
            "function": name,
            "version": spec.version,
            "request_id": result.request_id,
            "status": result.status,
            "result": result.result,
            "error_type": result.error_type,
            "error_message": result.error_message,
            "logs": result.logs,
            "duration_ms": round(result.duration_ms, 3),
            "cold": result.cold,
            "trace_id": result.trace_id,  # None unless tracing is on (--otlp-endpoint)
            "retry_after": result.retry_after,  # set when an invocation budget refused it
        }
    )


async def publish(request: Request) -> JSONResponse:
    node = _node(request)
    topic = _resource(request.path_params["topic"], "topic")
    data = await _json(request)
    if "message" not in data:
        raise InvalidRequest("message is required", code="invalid_argument")
    app = node.resolve_app(data.get("app"))
    ids = await node.broker.publish(app, topic, data["message"])
    node.audit.emit(
        "topics.publish",
        decision="allow",
        principal="admin",
        action="topics:Publish",
        resource=f"arn:ramparts:topics:{app}:topic/{topic}",
        deliveries=len(ids),
    )
    return JSONResponse({"app": app, "topic": topic, "message_ids": ids})


async def schedule_tick(request: Request) -> JSONResponse:
    node = _node(request)
    name = _fn_name(request)
    subs = [s for s in node.subscriptions.schedules if s.function == name]
    if not subs:
        raise NotFound(f"function {name!r} has no schedule trigger", code="no_schedule")
    if node.quarantines.holds(name):
        # its ticks are skipped, not queued: a manual tick would run on release
        raise FunctionQuarantined(f"{name} is quarantined: release it to run its schedule")
    import time

    ids = [await node.scheduler.fire(s, time.time()) for s in subs]
    return JSONResponse({"function": name, "message_ids": ids})


async def object_put(request: Request) -> JSONResponse:
    node = _node(request)
    bucket = _resource(request.path_params["bucket"], "bucket")
    key = _key_param(request)
    app = node.resolve_app(request.query_params.get("app"))
    # The object store's own limit, not the gateway's body limit (RAMPARTS_MAX_BODY_BYTES).
    try:
        data = await _body(request, MAX_OBJECT_BYTES)
    except InvalidRequest as exc:
        if exc.code != "payload_too_large":
            raise
        raise InvalidRequest("object larger than 10 MiB", code="object_too_large") from None
    ctype = request.headers.get("content-type", "application/octet-stream")
    out = await node.broker.object_write(app, bucket, key, data, ctype, node.new_request_id())
    node.audit.emit(
        "objects.put",
        decision="allow",
        principal="admin",
        action="objects:PutObject",
        resource=f"arn:ramparts:objects:{app}:bucket/{bucket}/{key}",
    )
    return JSONResponse({"app": app, **out})


async def object_get(request: Request) -> Response:
    node = _node(request)
    bucket = _resource(request.path_params["bucket"], "bucket")
    app = node.resolve_app(request.query_params.get("app"))
    found = node.store.object_get(app, bucket, _key_param(request))
    if found is None:
        raise NotFound("object not found", code="object_not_found")
    rec, data = found
    return Response(data, media_type=rec.content_type, headers={"etag": rec.etag})


async def object_list(request: Request) -> JSONResponse:
    node = _node(request)
    bucket = _resource(request.path_params["bucket"], "bucket")
    app = node.resolve_app(request.query_params.get("app"))
    prefix = request.query_params.get("prefix", "")
    rows = node.store.object_list(app, bucket, prefix, _int(request, "limit", 100, 1000))
    return JSONResponse(
        {
            "app": app,
            "bucket": bucket,
            "objects": [
                {
                    "key": r.key,
                    "size": r.size,
                    "etag": r.etag,
                    "content_type": r.content_type,
                    "updated_at": r.updated_at,
                }
                for r in rows
            ],
        }
    )


async def object_delete(request: Request) -> JSONResponse:
    node = _node(request)
    bucket = _resource(request.path_params["bucket"], "bucket")
    app = node.resolve_app(request.query_params.get("app"))
    key = _key_param(request)
    removed = await node.broker.object_remove(app, bucket, key, node.new_request_id())
    if not removed:
        raise NotFound("object not found", code="object_not_found")
    return JSONResponse({"app": app, "bucket": bucket, "key": key, "deleted": True})


async def kv_put(request: Request) -> JSONResponse:
    node = _node(request)
    table = _resource(request.path_params["table"], "table")
    key = _key_param(request)
    data = await _json(request)
    app = node.resolve_app(data.get("app") or request.query_params.get("app"))
    await node.broker.kv_write(app, table, key, data.get("item"))
    return JSONResponse({"app": app, "table": table, "key": key})


async def kv_get(request: Request) -> JSONResponse:
    node = _node(request)
    table = _resource(request.path_params["table"], "table")
    key = _key_param(request)
    app = node.resolve_app(request.query_params.get("app"))
    raw = node.store.kv_get(app, table, key)
    if raw is None:
        raise NotFound("item not found", code="item_not_found")
    return JSONResponse({"app": app, "table": table, "key": key, "item": orjson.loads(raw)})


async def kv_list(request: Request) -> JSONResponse:
    node = _node(request)
    table = _resource(request.path_params["table"], "table")
    app = node.resolve_app(request.query_params.get("app"))
    rows = node.store.kv_query(
        app, table, request.query_params.get("prefix", ""), _int(request, "limit", 100, 1000)
    )
    return JSONResponse(
        {
            "app": app,
            "table": table,
            "items": [{"key": k, "item": orjson.loads(v)} for k, v in rows],
        }
    )


async def kv_delete(request: Request) -> JSONResponse:
    node = _node(request)
    table = _resource(request.path_params["table"], "table")
    key = _key_param(request)
    app = node.resolve_app(request.query_params.get("app"))
    if not await node.broker.kv_remove(app, table, key):
        raise NotFound("item not found", code="item_not_found")
    return JSONResponse({"app": app, "table": table, "key": key, "deleted": True})


# -- evidence --------------------------------------------------------------------------------------
async def logs(request: Request) -> JSONResponse:
    """A function's invocation records, oldest first, from seq ``after``.

    Filters: ``request_id``; ``since`` / ``until`` (ISO-8601, unix seconds, or a
    duration ago such as ``10m``); ``level`` (an invocation's level: ERROR when it
    failed, else the highest of its log lines).  ``cursor`` is where the next call
    continues (``after=cursor``), past records a level filter skipped.
    """
    node = _node(request)
    name = _fn_name(request)
    q = request.query_params
    after, limit = _int(request, "after", 0, 2**62), _int(request, "limit", 100, 1000)
    request_id = q.get("request_id")
    if request_id is not None and not REQUEST_ID_RE.fullmatch(request_id):
        raise InvalidRequest("request_id: not a request id", code="invalid_argument")
    level = parse_level(q["level"], name="level") if q.get("level") is not None else None
    since, until = (
        parse_instant(q[key], name=key) if q.get(key) is not None else None
        for key in ("since", "until")
    )
    await node.invocations.flush()
    rows, cursor = await asyncio.to_thread(
        node.invocations.query,
        name,
        after,
        limit,
        request_id=request_id,
        since=since,
        until=until,
        level=level,
    )
    if not rows and not await asyncio.to_thread(node.store.list_versions, name):
        # no record and no version: a name never deployed, not an empty log
        raise NotFound(f"function {name!r} not found", code="function_not_found")
    return JSONResponse({"function": name, "invocations": rows, "cursor": cursor})


async def audit(request: Request) -> JSONResponse:
    node = _node(request)
    await node.audit.flush()
    rows = node.store.list_audit_events(
        _int(request, "after", 0, 2**62), _int(request, "limit", 100, 1000)
    )
    return JSONResponse({"events": rows})


async def dead_letters(request: Request) -> JSONResponse:
    """Dead letters, newest first; their error text only for the admin token, every read audited.

    The error text is what a handler raised about a message, so it can carry
    that message's personal data even after redaction missed a shape: a
    caller that is not the admin gets ``error`` withheld, and every read is an
    audit event (who, which function, how many, whether the text was shown).
    """
    node = _node(request)
    fn = request.query_params.get("function")
    rows = node.store.list_dead_letters(fn, _int(request, "limit", 100, 1000))
    principal = request.scope.get("ramparts.principal")
    show_text = principal == ADMIN_PRINCIPAL
    if not show_text:
        rows = [{**row, "error": None, "error_withheld": True} for row in rows]
    node.audit.emit(
        "deadletters.read",
        decision="allow",
        principal=str(principal or "unknown"),
        action="control:ListDeadLetters",
        resource=f"dead-letters:{fn or '*'}",
        function=fn,
        count=len(rows),
        text_shown=show_text,
    )
    return JSONResponse({"dead_letters": rows})


async def status(request: Request) -> JSONResponse:
    node = _node(request)
    queues = {}
    for fn in sorted(node.subscriptions.async_functions()):
        queues[fn] = await node.bus.depth("fn." + fn)
    return JSONResponse(
        {
            "node": node.settings.node_id,
            "gateway": f"{node.settings.host}:{node.settings.port}",
            "state": node.settings.state_url.split(":", 1)[0],
            "bus": node.settings.bus_url.split(":", 1)[0],
            "routes": len(node.router),
            "queues": queues,
            "workers": node.supervisor.stats(),
            "sandbox": node.sandbox_report.as_dict(),
        }
    )


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def metrics(request: Request) -> Response:
    """Prometheus text format (behind the admin token, like every control route).

    Rendered off the loop: the queue-depth gauge waits on the loop for the bus.
    """
    from ramparts.observe.metrics import CONTENT_TYPE

    body = await asyncio.to_thread(_node(request).metrics.render)
    return Response(body, media_type=CONTENT_TYPE)


class _AdminAuth:
    """Bearer admin token on every route but /healthz; fail closed."""

    def __init__(self, app: Any, node: Node) -> None:
        self.app = app
        self.node = node

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope["path"] == "/healthz":
            await self.app(scope, receive, send)
            return
        node = self.node
        # The gateway's reading of credentials: repeated fields joined (header_map), and
        # two of them refused rather than letting the last one win.
        try:
            credential = extract_credential(header_map(scope["headers"]))
        except AuthFailed as exc:
            self._deny(scope, exc.reason)
            response = _error(400, exc.code, exc.message)
            await response(scope, receive, send)
            return
        presented = credential[1].encode("latin-1") if credential else b""
        expected = node.admin_token.encode()
        if not presented or not hmac.compare_digest(presented, expected):
            self._deny(scope, "bad_admin_token")
            response = _error(401, "unauthorized", "a valid admin token is required")
            await response(scope, receive, send)
            return
        # Who the routes serve: only the admin token gets this far today.
        scope["ramparts.principal"] = ADMIN_PRINCIPAL
        await self.app(scope, receive, send)

    def _deny(self, scope: dict[str, Any], reason: str) -> None:
        client = scope.get("client") or ("", 0)
        self.node.audit.emit(
            "control.auth",
            decision="deny",
            principal=f"ip:{client[0]}",
            action=f"control:{scope['method']}",
            resource=scope["path"][:256],  # a caller's path: bounded like the AWS endpoint's
            reason=reason,
            source_ip=client[0],  # detections group refused admin tokens by address
        )


async def _handle_error(request: Request, exc: Exception) -> JSONResponse:
    if isinstance(exc, BackendError | StorageError):
        _node(request).metrics.backend_error("control")
    if isinstance(exc, RampartsError):
        return JSONResponse(exc.to_dict(), status_code=exc.status)
    log.exception("control API failure")
    return _error(500, "internal_error", "internal error")


def _identity_routes() -> list[Route]:

    return identity_routes()


def create_control_app(node: Node) -> Starlette:
    fn = "/v1/functions/{fn}"
    routes = [
        Route("/healthz", health),
        Route("/v1/status", status),
        Route("/v1/deploy", deploy, methods=["POST"]),
        Route("/v1/functions", list_functions),
        Route(f"{fn}/versions", list_versions),
        Route(f"{fn}/invoke", invoke, methods=["POST"]),
        Route(f"{fn}/aliases/{{alias}}", set_alias, methods=["PUT"]),
        Route(f"{fn}/rollback", rollback, methods=["POST"]),
        Route("/v1/gc", collect_garbage, methods=["POST"]),
        Route(f"{fn}/logs", logs),
        Route(f"{fn}/schedule", schedule_tick, methods=["POST"]),
        Route("/v1/topics/{topic}/publish", publish, methods=["POST"]),
        Route("/v1/objects/{bucket}", object_list),
        Route("/v1/objects/{bucket}/{key:rampartskey}", object_put, methods=["PUT"]),
        Route("/v1/objects/{bucket}/{key:rampartskey}", object_get, methods=["GET"]),
        Route("/v1/objects/{bucket}/{key:rampartskey}", object_delete, methods=["DELETE"]),
        Route("/v1/kv/{table}", kv_list),
        Route("/v1/kv/{table}/{key:rampartskey}", kv_put, methods=["PUT"]),
        Route("/v1/kv/{table}/{key:rampartskey}", kv_get, methods=["GET"]),
        Route("/v1/kv/{table}/{key:rampartskey}", kv_delete, methods=["DELETE"]),
        Route("/v1/audit", audit),
        *audit_routes(),
        *posture_routes(),
        Route("/v1/dead-letters", dead_letters),
        Route("/metrics", metrics),
        *vault_routes(),
        *_identity_routes(),
        *policy_routes(),
        *aws_routes(),
        *siem_routes(),
        *alert_routes(),
        *respond_routes(),
        *waf_routes(),
        *budget_routes(),
        *supply_routes(),
        *inventory_routes(),
    ]
    app = Starlette(
        routes=routes, exception_handlers={Exception: _handle_error, RampartsError: _handle_error}
    )
    app.state.node = node
    app.add_middleware(_AdminAuth, node=node)

    async def not_found(request: Request, exc: Exception) -> JSONResponse:
        status = getattr(exc, "status_code", 404)
        code = "method_not_allowed" if status == 405 else "not_found"
        return _error(
            status, code, "no such control API route" if status == 404 else "method not allowed"
        )

    app.add_exception_handler(404, not_found)
    app.add_exception_handler(405, not_found)
    return app
