"""The public gateway: a raw ASGI app on port 8080.

Path of a request: route match -> check chain (fail closed) -> body read
with a size limit -> JSON and schema validation -> API Gateway event (HTTP
API 2.0, or REST API 1.0 for ``payload: "1.0"`` routes) -> invocation of the
route's live version in a sandboxed worker -> response in the same format.
Webhook routes verify the sender's signature, refuse replays, persist the
delivery on the bus and answer 202.

Written against ASGI directly rather than a framework router because routes
change at run time and this is the hot path of every request.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

import orjson

from ramparts.aws.accounts import account_id
from ramparts.errors import BackendError, InvocationError, RampartsError, StorageError
from ramparts.events.http import (
    build_http_event,
    build_http_response,
    build_rest_event,
    with_forwarded,
)
from ramparts.events.webhooks import WebhookError, verify_webhook
from ramparts.gateway.body import BodyTooLarge, ClientGone, read_body
from ramparts.gateway.checks import Check, GatewayDenied, RequestContext, RouteAuthCheck
from ramparts.gateway.json_body import parse_json_body
from ramparts.gateway.offload import (
    INLINE_JSON_BYTES,
    INLINE_WORK,
    Offload,
    inspection_is_heavy,
)
from ramparts.gateway.ratelimit import NOTE as RATE_LIMIT_NOTE
from ramparts.gateway.ratelimit import PrincipalRateLimitCheck, RateLimitCheck
from ramparts.gateway.routing import MethodNotAllowed
from ramparts.gateway.token_limits import TokenLimits
from ramparts.gateway.waf.cache import WafCache
from ramparts.gateway.waf.engine import WorkLimitReached
from ramparts.gateway.waf.request import WafRequest
from ramparts.gateway.waf_net import NetworkGuard, WafNetCheck, body_limit, body_refusal
from ramparts.observe.tracing import DISABLED
from ramparts.ratelimit.aggregate import AggregatedAudit, DenialAggregator
from ramparts.ratelimit.headers import rate_limit_headers

if TYPE_CHECKING:
    from ramparts.node import Node
    from ramparts.runtime.types import InvocationResult

log = logging.getLogger("ramparts.gateway")

_BASE_HEADERS = [(b"x-content-type-options", b"nosniff")]
_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")
_HSTS = (b"strict-transport-security", b"max-age=31536000; includeSubDomains")
TOKEN_PATH = "/oauth/token"  # noqa: S105 - a path, not a secret
JWKS_PATH = "/.well-known/jwks.json"
_IDENTITY_PATHS = frozenset({TOKEN_PATH, JWKS_PATH})
# Body refusals that are attacks rather than client bugs (invalid or too deep JSON is
# not audited: a flood of those would be one record each, see docs/security.md).
_HOP_HEADERS = {b"content-length", b"transfer-encoding", b"connection", b"x-request-id"}


class _Answer:
    """The HTTP response built from a handler's result before the invocation is recorded.

    Built there (``Node.invoke_spec``'s ``note`` hook) so that what the gateway
    changes in it -- a body dropped because its status may not carry one --
    is written into the invocation record.
    """

    __slots__ = ("error", "payload", "response")

    def __init__(self, payload: str = "2.0") -> None:
        self.response: tuple[int, list[tuple[bytes, bytes]], bytes] | None = None
        self.error: InvocationError | None = None
        self.payload = payload

    def build(self, result: InvocationResult) -> str | None:
        if result.status != "ok":
            return None
        try:
            status, headers, body = build_http_response(result.result, self.payload)
        except InvocationError as exc:
            self.error = exc
            return None
        if body and not may_carry_body(status):
            self.response = (status, headers, b"")
            return (
                f"[ramparts] response body dropped: status {status} carries no body "
                f"({len(body)} bytes)\n"
            )
        self.response = (status, headers, body)
        return None


def may_carry_body(status: int) -> bool:
    """RFC 9112 §6.3: 1xx, 204 and 304 responses end at their header section.

    Bytes sent after one would be read by the client as the start of the next
    response on the connection (response splitting).
    """
    return status >= 200 and status not in (204, 304)


class ReplayCache:
    """Remembers webhook delivery ids for the tolerance window (single node)."""

    def __init__(self, max_entries: int = 100_000) -> None:
        self._seen: OrderedDict[str, float] = OrderedDict()
        self._max = max_entries

    def seen(self, key: str, ttl: float) -> bool:
        now = time.monotonic()
        while self._seen:
            oldest, expires = next(iter(self._seen.items()))
            if expires > now and len(self._seen) < self._max:
                break
            self._seen.pop(oldest)
        if key in self._seen:
            return True
        self._seen[key] = now + ttl
        return False


class Gateway:
    def __init__(self, node: Node, checks: list[Check] | None = None) -> None:
        self._node = node
        limits = getattr(node, "rate_limits", None)  # ramparts.ratelimit.RateLimitService
        self._checks: list[Check] = (
            checks
            if checks is not None
            else [
                WafNetCheck(),  # the app's address lists, methods and sizes: first of all
                RateLimitCheck(limits),  # address- and route-keyed: before any credential work
                RouteAuthCheck(getattr(node, "identity", None)),  # audited in _run_checks
                PrincipalRateLimitCheck(limits, getattr(node, "identity", None)),
            ]
        )
        # Refusals a client can repeat at will are audited aggregated: one record per
        # (kind, principal, route, rule, address) and second, the first in full
        # (ramparts.ratelimit.aggregate), so a flood cannot fill the audit log.
        refusals = getattr(limits, "refusals", None)
        self._refusals: DenialAggregator | None = refusals
        self._floods: Any = AggregatedAudit(refusals) if refusals is not None else node.audit
        # Run-time blocks and non-standard methods, for every request (ramparts.gateway.waf_net).
        self._guard = NetworkGuard(getattr(node, "blocklist", None), self._floods)
        self._token_limits = TokenLimits(limits)  # ramparts.gateway.token_limits
        self._replays = ReplayCache()
        self._hsts = bool(getattr(node.settings, "tls_cert", None))
        from ramparts.aws.endpoint import AwsEndpoint  # SigV4 requests and /_ramparts/ paths

        self._aws = AwsEndpoint(node)
        self._tracing = getattr(node, "tracing", DISABLED)
        self._metrics = getattr(node, "metrics", None)
        self._wafs = WafCache()
        self._offload = Offload()  # worker-thread slots for JSON parsing and WAF inspection

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "lifespan":
            await self._lifespan(receive, send)
            return
        if scope["type"] != "http":
            return
        request_id = self._node.new_request_id()
        if self._hsts:
            send = _with_hsts(send)
        if not self._tracing.enabled:
            await self._serve(scope, receive, send, request_id)
            return
        # The request's span, continuing the caller's traceparent (ramparts.observe.tracing).
        with self._tracing.server_span(scope["method"], header_map(scope["headers"])) as span:
            span.set_attribute("ramparts.request_id", request_id)
            await self._serve(scope, receive, _recording_status(send, span), request_id)

    async def _serve(self, scope: dict[str, Any], receive: Any, send: Any, request_id: str) -> None:
        try:
            await self._handle(scope, receive, send, request_id)
        except RampartsError as exc:
            if self._metrics is not None and isinstance(exc, BackendError | StorageError):
                self._metrics.backend_error("gateway")
            await _send_error(
                send, exc.status, exc.code, exc.message, request_id, getattr(exc, "headers", None)
            )
        except Exception:
            log.exception("gateway failure (request %s)", request_id)
            await _send_error(send, 500, "internal_error", "internal error", request_id)

    async def _lifespan(self, receive: Any, send: Any) -> None:
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return

    async def _handle(
        self, scope: dict[str, Any], receive: Any, send: Any, request_id: str
    ) -> None:
        self._guard.screen(scope, request_id)  # before anything else answers, AWS included
        if self._aws.claims(scope):  # boto3 through AWS_ENDPOINT_URL: see ramparts.aws.endpoint
            await self._aws.dispatch(scope, receive, send, request_id)
            return
        method = scope["method"]
        path = scope["path"]
        if path in _IDENTITY_PATHS:
            await self._identity_endpoint(scope, receive, send, request_id)
            return
        try:
            route, params = self._node.router.match(method, path)
        except MethodNotAllowed:
            raise self._guard.undeclared(self._node.router, scope, request_id) from None
        if self._tracing.enabled:
            self._tracing.name_current_route(method, route.path)
        headers = header_map(scope["headers"])
        client = scope.get("client")
        ctx = RequestContext(
            method, path, route, headers, client[0] if client else "", request_id, scope=scope
        )
        await self._run_checks(ctx)
        node_limit = self._node.settings.max_body_bytes
        app_limit = body_limit(route)  # the app's waf.limits.body_bytes, tighter or not
        limited = ctx.notes.get(RATE_LIMIT_NOTE)
        if limited is not None:  # a limited route: its answer says how much is left
            send = _with_headers(send, rate_limit_headers(limited))
        try:
            body = await read_body(receive, headers, min(node_limit, app_limit or node_limit))
        except ClientGone:
            return
        except BodyTooLarge:
            if app_limit is not None and app_limit < node_limit:
                denied = body_refusal(app_limit)
                principal = ctx.notes.get("principal")
                self._audit(
                    ctx,
                    "waf",
                    "deny",
                    denied.reason,
                    principal.id if principal else None,
                    **denied.detail,
                )
                raise denied from None
            self._audit(ctx, "body", "deny", "payload_too_large", limit=node_limit)
            raise GatewayDenied(
                413,
                "payload_too_large",
                f"the body exceeds {self._node.settings.max_body_bytes} bytes",
            ) from None
        if route.is_webhook:
            await self._webhook(ctx, scope, body, send)
            return
        try:
            parsed = await self._validate_body(ctx, headers, body)
        except GatewayDenied as exc:  # too deep, not JSON, too many values, duplicate keys
            self._audit(ctx, "body", "deny", exc.reason, _principal_id(ctx), **exc.detail)
            raise
        await self._inspect(ctx, scope, body, parsed)
        rest = getattr(route.trigger, "rest_payload", False)
        common: dict[str, Any] = {
            "method": method,
            "raw_path": path,
            "raw_query": scope.get("query_string", b"").decode("latin-1"),
            "headers": _event_headers(scope, ctx.source_ip, request_id),
            "body": body,
            "path_parameters": params,
            "source_ip": ctx.source_ip,
            "request_id": request_id,
            "domain_name": headers.get("host", "localhost"),
            "authorizer": _authorizer(ctx),
            "account_id": account_id(route.function.app),
        }
        if rest:
            event = build_rest_event(resource=route.path, **common)
        else:
            event = build_http_event(route_key=route.route_key, **common)
        answer = _Answer("1.0" if rest else "2.0")
        result = await self._node.invoke_spec(
            route.function.spec, event, "http", request_id, note=answer.build
        )
        if result.status == "ok":
            if answer.response is None:
                code = answer.error.code if answer.error else "invalid_handler_response"
                await _send_error(
                    send, 502, code, "the function returned an invalid response", request_id
                )
                return
            await _send(send, *answer.response, request_id)
        elif result.status == "timeout":
            await _send_error(send, 504, "function_timeout", "the function timed out", request_id)
        elif result.status == "throttled" and result.error_type == "FunctionQuarantined":
            # The node audited it (function.quarantined, aggregated); the handler never ran.
            await _send_error(
                send, 503, "function_quarantined", "the function is quarantined", request_id
            )
        elif result.status == "throttled" and result.error_type == "BudgetExhausted":
            # The ledger audited it (budget.exhausted, aggregated); the handler never ran.
            await _send_error(
                send,
                429,
                "budget_exhausted",
                "the function's invocation budget is used up",
                request_id,
                [(b"retry-after", str(result.retry_after or 1).encode())],
            )
        elif result.status == "throttled":
            await _send_error(
                send,
                429,
                "function_throttled",
                "the function is at its concurrency limit",
                request_id,
            )
        elif result.status == "crashed":
            await _send_error(
                send, 502, "function_crashed", "the function's worker died", request_id
            )
        else:
            await _send_error(send, 502, "function_error", "the function failed", request_id)

    async def _run_checks(self, ctx: RequestContext) -> None:
        for check in self._checks:
            try:
                await check.check(ctx)
            except GatewayDenied as exc:
                self._authenticated(ctx, refused_by=check.name)
                if not exc.audited:
                    self._audit(ctx, check.name, "deny", exc.reason, exc.principal, **exc.detail)
                raise
            except Exception:
                log.exception("check %s failed (request %s)", check.name, ctx.request_id)
                self._authenticated(ctx, refused_by=check.name)
                self._audit(ctx, check.name, "deny", "check_failed")
                raise GatewayDenied(500, "check_failed", "a security check failed") from None
        self._authenticated(ctx, refused_by=None)

    def _authenticated(self, ctx: RequestContext, *, refused_by: str | None) -> None:
        """The ``gateway.auth`` allow record of a request the chain authenticated, if it did.

        Written once the rest of the chain has decided.  A request it admitted gets
        one full record, as every authentication always had.  A request a later
        check refused -- the principal's rate limits: 429, or 503 when they cannot
        be counted -- is recorded through the refusal aggregator, with
        ``refused_by`` naming the check, grouped by principal, route and source
        address like the refusal itself: a key sending ten times its limit costs
        one record a second and a count, not a full journalled record (and its
        store write, detection and SIEM work) per refused request.
        """
        principal = ctx.notes.get("principal")
        if principal is None:  # a public route, a webhook, or refused before authentication
            return
        fields: dict[str, Any] = {
            "decision": "allow",
            "principal": principal.id,
            "action": f"http:{ctx.method}",
            "resource": f"route:{ctx.route.route_key}",
            "request_id": ctx.request_id,
            "method": principal.method,
            "function": ctx.route.function.name,
            "source_ip": ctx.source_ip,
        }
        if refused_by is None:
            self._node.audit.emit("gateway.auth", **fields)
        elif self._refusals is None:  # no aggregator (no rate-limit service): one record each
            self._node.audit.emit("gateway.auth", refused_by=refused_by, **fields)
        else:
            self._refusals.denied(
                "gateway.auth", rule_key=f"refused_by:{refused_by}", refused_by=refused_by, **fields
            )

    def _audit(
        self,
        ctx: RequestContext,
        check: str,
        decision: str,
        reason: str,
        principal: str | None = None,
        **detail: Any,
    ) -> None:
        emit = self._floods.emit if decision == "deny" else self._node.audit.emit
        emit(
            f"gateway.{check}",
            decision=decision,
            principal=principal or f"ip:{ctx.source_ip}",
            action=f"http:{ctx.method}",
            resource=f"route:{ctx.route.route_key}",
            request_id=ctx.request_id,
            reason=reason,
            function=ctx.route.function.name,
            source_ip=ctx.source_ip,  # detections group failed authentications by address
            **detail,
        )

    async def _inspect(
        self, ctx: RequestContext, scope: dict[str, Any], body: bytes, parsed: Any = None
    ) -> None:
        """The WAF's content inspection (ramparts.gateway.waf), in the route's mode.

        block: a score at the threshold refuses with 403 ``waf_blocked``, audited
        as ``gateway.waf``; detect, or a score under the threshold: the request
        passes and the findings are audited as ``waf.detect``; off: nothing.  An
        engine that fails refuses the request (fail closed).
        """
        route = ctx.route
        mode = getattr(route.trigger, "waf", None) or route.function.waf.mode
        if mode == "off":
            return
        try:
            waf = self._wafs.for_function(route.function)
            request = WafRequest(
                method=ctx.method,
                path=(scope.get("raw_path") or ctx.path.encode()).decode("latin-1"),
                query=scope.get("query_string", b"").decode("latin-1"),
                headers=[
                    (k.decode("latin-1").lower(), v.decode("latin-1")) for k, v in scope["headers"]
                ],
                body=body,
                content_type=ctx.headers.get("content-type", ""),
                route=route.route_key,
            )
            if parsed is not None:
                request.parsed_json = parsed
            # Crafted punctuation costs the rule set far more CPU than words: such a
            # request is inspected off the event loop (ramparts.gateway.offload).
            heavy = inspection_is_heavy(
                [
                    scope.get("raw_path") or b"",
                    scope.get("query_string", b""),
                    *(v for _, v in scope["headers"]),
                    body,
                ]
            )
            try:
                verdict = await self._offload.run(
                    heavy, waf.inspect, request, None if heavy else INLINE_WORK
                )
            except WorkLimitReached:  # decoded values cost more than the quick count said
                verdict = await self._offload.run(True, waf.inspect, request)
        except Exception:
            log.exception("WAF failed (request %s)", ctx.request_id)
            self._audit(ctx, "waf", "deny", "check_failed")
            raise GatewayDenied(500, "check_failed", "a security check failed") from None
        if not verdict.matches:
            return
        detail = verdict.audit_detail()
        principal = _principal_id(ctx) or f"ip:{ctx.source_ip}"
        blocked = mode == "block" and verdict.blocked
        self._floods.emit(
            "gateway.waf" if blocked else "waf.detect",
            decision="deny" if blocked else "allow",
            principal=principal,
            action=f"http:{ctx.method}",
            resource=f"route:{route.route_key}",
            request_id=ctx.request_id,
            reason="waf_blocked" if blocked else f"waf_{mode}",
            function=route.function.name,
            source_ip=ctx.source_ip,
            mode=mode,
            **detail,
        )
        if blocked:
            raise GatewayDenied(
                403, "waf_blocked", "the request was blocked by the web application firewall"
            )

    async def _validate_body(
        self, ctx: RequestContext, headers: dict[str, str], body: bytes
    ) -> Any:
        """The parsed JSON body (None when there is none), after its checks.

        A large body is measured and parsed in a worker thread, few at a time
        (ramparts.gateway.json_body): its cost grows with the values it holds, and
        it must not hold the event loop other requests are served on.
        """
        route = ctx.route
        ctype = headers.get("content-type", "").split(";", 1)[0].strip().lower()
        if "," in ctype:  # two Content-Type fields, joined: which one the handler obeys is a guess
            raise GatewayDenied(
                400, "invalid_content_type", "the request carries more than one Content-Type"
            )
        is_json = ctype == "application/json" or ctype.endswith("+json")
        parsed: Any = None
        if body and is_json:
            limit = self._node.settings.max_json_values
            parsed = await self._offload.run(
                len(body) > INLINE_JSON_BYTES, parse_json_body, body, limit
            )
        if route.validator is not None:
            if not is_json or not body:
                raise GatewayDenied(
                    415 if body else 400, "json_body_required", "this route takes a JSON body"
                )
            try:
                route.validator(parsed)
            except Exception as exc:  # fastjsonschema.JsonSchemaException
                message = getattr(exc, "message", "the body does not match the schema")
                raise GatewayDenied(400, "schema_validation_failed", str(message)[:200]) from None
        return parsed

    async def _webhook(
        self, ctx: RequestContext, scope: dict[str, Any], body: bytes, send: Any
    ) -> None:
        trigger = ctx.route.trigger
        secret = self._node.secrets.get(  # only this app's secret, or one shared with it
            trigger.secret,
            app=ctx.route.function.app,  # type: ignore[union-attr]
        )
        if secret is None:
            self._audit(ctx, "webhook", "deny", "webhook_secret_unavailable")
            raise GatewayDenied(
                503, "webhook_secret_unavailable", "this webhook cannot verify deliveries right now"
            )
        try:
            delivery = verify_webhook(
                trigger.scheme,
                secret.reveal(),
                ctx.headers,
                body,  # type: ignore[union-attr]
                tolerance=trigger.tolerance,
            )  # type: ignore[union-attr]
        except WebhookError as exc:
            self._audit(ctx, "webhook", "deny", exc.code)
            raise GatewayDenied(401, exc.code, "the webhook signature was not accepted") from None
        except Exception:
            self._audit(ctx, "webhook", "deny", "check_failed")
            raise GatewayDenied(500, "check_failed", "a security check failed") from None
        # Inspected once the sender is known to be the signer: an unsigned spray costs
        # nothing, and a signed delivery carrying an attack is still refused (app mode).
        await self._inspect(ctx, scope, body)
        replay_key = f"{ctx.route.path}:{delivery.id or ''}:{delivery.timestamp or ''}:" + (
            ctx.headers.get("stripe-signature")
            or ctx.headers.get("x-hub-signature-256")
            or ctx.headers.get("x-slack-signature")
            or ctx.headers.get("webhook-signature")
            or ""
        )
        if self._replays.seen(replay_key, max(trigger.tolerance, 60.0) * 2):  # type: ignore[union-attr]
            self._audit(ctx, "webhook", "deny", "webhook_replayed")
            raise GatewayDenied(409, "webhook_replayed", "this delivery was already accepted")
        self._audit(ctx, "webhook", "allow", "signature_valid")
        event = build_http_event(
            method=ctx.method,
            raw_path=ctx.path,
            raw_query=scope.get("query_string", b"").decode("latin-1"),
            headers=_event_headers(scope, ctx.source_ip, ctx.request_id),
            body=body,
            route_key=ctx.route.route_key,
            path_parameters={},
            source_ip=ctx.source_ip,
            request_id=ctx.request_id,
            domain_name=ctx.headers.get("host", "localhost"),
            account_id=account_id(ctx.route.function.app),
        )
        message_id = await self._node.enqueue_webhook(ctx.route, event)
        await _send(
            send,
            202,
            [_JSON],
            orjson.dumps({"accepted": True, "message_id": message_id}),
            ctx.request_id,
        )

    # -- the built-in OAuth2 issuer's two public endpoints ---------------------------------------
    async def _identity_endpoint(
        self, scope: dict[str, Any], receive: Any, send: Any, request_id: str
    ) -> None:
        identity = getattr(self._node, "identity", None)
        method, path = scope["method"], scope["path"]
        if identity is None:
            raise GatewayDenied(503, "auth_unavailable", "the issuer is unavailable")
        if path == JWKS_PATH:
            if method not in ("GET", "HEAD"):
                raise GatewayDenied(405, "method_not_allowed", f"{method} is not allowed here")
            body = orjson.dumps(identity.issuer.jwks())
            await _send(
                send,
                200,
                [_JSON, (b"cache-control", b"public, max-age=60")],
                body,
                request_id,
            )
            return
        if method != "POST":
            raise GatewayDenied(405, "method_not_allowed", f"{method} is not allowed here")
        headers = header_map(scope["headers"])
        client = scope.get("client")
        source_ip = client[0] if client else ""
        await self._token_limits.by_address(source_ip, request_id)  # before any credential work
        try:
            body = await read_body(receive, headers, 8 * 1024)
        except ClientGone:
            return
        except BodyTooLarge:
            self._floods.emit(
                "gateway.body",
                principal=f"ip:{source_ip}",
                action="http:POST",
                resource="issuer:builtin",
                request_id=request_id,
                reason="payload_too_large",
                source_ip=source_ip,
            )
            raise GatewayDenied(413, "payload_too_large", "the body exceeds 8192 bytes") from None
        from ramparts.identity.issuer import TokenError

        try:
            answer = await identity.issuer.token(
                headers, body, admit=self._token_limits.by_client(source_ip, request_id)
            )
        except TokenError as exc:
            # an unknown client or a wrong secret proves nothing: the client is only claimed
            proved = exc.client if exc.reason not in _UNPROVED_CLIENT else None
            claimed = (
                {"claimed_client": exc.client.removeprefix("client:")}
                if exc.client and not proved
                else {}
            )
            self._floods.emit(
                "oauth.token",
                decision="deny",
                principal=proved or f"ip:{source_ip}",
                action="oauth:IssueToken",
                resource="issuer:builtin",
                request_id=request_id,
                reason=exc.reason,
                source_ip=source_ip,
                **claimed,
            )
            extra = [(b"www-authenticate", b'Basic realm="ramparts"')] if exc.status == 401 else []
            await _send(
                send,
                exc.status,
                [_JSON, _NO_STORE, *extra],
                orjson.dumps({**exc.body(), "request_id": request_id}),
                request_id,
            )
            return
        self._node.audit.emit(
            "oauth.token",
            decision="allow",
            principal=f"client:{answer_sub(answer)}",
            action="oauth:IssueToken",
            resource="issuer:builtin",
            request_id=request_id,
            scope=answer["scope"],
            source_ip=source_ip,
        )
        await _send(send, 200, [_JSON, _NO_STORE], orjson.dumps(answer), request_id)


def answer_sub(answer: dict[str, Any]) -> str:
    """The client id of an issued token, read back from our own claims (for the audit)."""
    from joserfc.jws import extract_compact

    try:
        return str(orjson.loads(extract_compact(answer["access_token"].encode()).payload)["sub"])
    except Exception:
        return "unknown"


def header_map(raw: list[tuple[bytes, bytes]]) -> dict[str, str]:
    """Request headers by lower-case name; a repeated field's values joined with ", ".

    RFC 9110 §5.3 defines that join.  It matters for security checks: the last
    of two ``Authorization`` fields must not silently win, and a joined value
    is one that the identity service recognises as ambiguous and refuses.
    """
    out: dict[str, str] = {}
    for k, v in raw:
        name = k.decode("latin-1").lower()
        value = v.decode("latin-1")
        if name in out:
            out[name] = f"{out[name]}, {value}"
        else:
            out[name] = value
    return out


def _recording_status(send: Any, span: Any) -> Any:
    """Put the response status on the request's span (5xx marks it failed)."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            status = int(message["status"])
            span.set_attribute("http.response.status_code", status)
            if status >= 500:
                from opentelemetry.trace import Status, StatusCode

                span.set_status(Status(StatusCode.ERROR, str(status)))
        await send(message)

    return wrapped


def _with_headers(send: Any, extra: list[tuple[bytes, bytes]]) -> Any:
    """Add ``extra`` to the response's header fields (the rate-limit fields)."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), *extra]}
        await send(message)

    return wrapped


def _with_hsts(send: Any) -> Any:
    """Add HSTS to every response of a TLS gateway (RFC 6797: only ever over TLS)."""

    async def wrapped(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", []), _HSTS]}
        await send(message)

    return wrapped


def _event_headers(
    scope: dict[str, Any], source_ip: str, request_id: str
) -> list[tuple[bytes, bytes]]:
    """The request's headers as a handler sees them, ``x-forwarded-*`` and ``x-request-id`` ours.

    ``source_ip`` and the scheme are what the gateway trusts (uvicorn applies a
    trusted proxy's headers to them); the port is the listener's own.  The
    client's ``x-request-id`` is replaced by the gateway's id (the one in the
    answer and the audit log): the WAF does not inspect it, and handlers log and
    forward correlation ids as if they were trusted.
    """
    server = scope.get("server")
    headers = with_forwarded(
        [(k, v) for k, v in scope["headers"] if k.lower() != b"x-request-id"],
        client_ip=source_ip,
        proto=str(scope.get("scheme", "http")),
        port=server[1] if server and len(server) > 1 and server[1] is not None else None,
    )
    headers.append((b"x-request-id", request_id.encode("ascii")))
    return headers


_UNPROVED_CLIENT = frozenset({"client_unknown", "client_secret_mismatch"})


def _principal_id(ctx: RequestContext) -> str | None:
    """Who sent a request, for audit records: the authenticated principal's id, if any."""
    principal = ctx.notes.get("principal")
    return str(principal.id) if principal is not None else None


def _authorizer(ctx: RequestContext) -> dict[str, Any] | None:
    if not ctx.principal or ctx.principal.get("type") == "anonymous":
        return None
    return ctx.principal


async def _send(
    send: Any, status: int, headers: list[tuple[bytes, bytes]], body: bytes, request_id: str
) -> None:
    headers = [(k, v) for k, v in headers if k.lower() not in _HOP_HEADERS]
    headers += [*_BASE_HEADERS, (b"x-request-id", request_id.encode())]
    if may_carry_body(status):
        headers.append((b"content-length", str(len(body)).encode()))
    else:
        body = b""  # never on the wire, whoever built it (see may_carry_body)
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def _send_error(
    send: Any,
    status: int,
    code: str,
    message: str,
    request_id: str,
    extra_headers: list[tuple[bytes, bytes]] | None = None,
) -> None:
    body = orjson.dumps({"code": code, "message": message, "request_id": request_id})
    await _send(send, status, [_JSON, *(extra_headers or [])], body, request_id)
