"""The gateway's check chain: each check may only let a request pass or refuse it.

Checks run in order before a request reaches a handler.  A check refuses by
raising ``GatewayDenied`` with a status and a stable code; a check that
raises anything else has failed, and a failed check refuses the request
(fail closed) with ``500 check_failed``.  Either way the refusal is audited.
The WAF's network rules (``waf_net.WafNetCheck``) run first; authentication is
``RouteAuthCheck``; the rate limits (``ramparts.gateway.ratelimit``) run before
and right after it.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from ramparts.errors import RampartsError
from ramparts.gateway.routing import Route
from ramparts.identity.errors import AuthFailed

if TYPE_CHECKING:
    from ramparts.identity.service import IdentityService


class GatewayDenied(RampartsError):
    """A check refused the request.

    ``reason`` (default: the code) goes to the audit log only, with ``detail``;
    ``principal`` names who was refused when a check got that far (e.g. a
    revoked key's id).  ``audited``: the check recorded the refusal itself (the
    rate limits aggregate theirs under a flood), so the chain runner does not
    record it again.
    """

    def __init__(
        self,
        status: int,
        code: str,
        message: str,
        *,
        reason: str | None = None,
        principal: str | None = None,
        headers: list[tuple[bytes, bytes]] | None = None,
        detail: dict[str, Any] | None = None,
        audited: bool = False,
    ) -> None:
        super().__init__(message, code=code)
        self.audited = audited
        self.status = status
        self.reason = reason or code
        self.principal = principal
        self.headers = headers or []
        self.detail = detail or {}  # more fields for the audit record (a WAF rule's limit)


@dataclass
class RequestContext:
    method: str
    path: str
    route: Route
    headers: dict[str, str]
    source_ip: str
    request_id: str
    principal: dict[str, Any] | None = None  # set by an authentication check
    notes: dict[str, Any] = field(default_factory=dict)
    scope: dict[str, Any] = field(default_factory=dict)  # the ASGI scope: the request as sent


class Check(abc.ABC):
    name: str = "check"

    @abc.abstractmethod
    async def check(self, ctx: RequestContext) -> None:
        """Return to let the request pass; raise ``GatewayDenied`` to refuse it."""


class RouteAuthCheck(Check):
    """Private by default: only an explicit ``auth: none`` route is public.

    Every other route needs a principal that ``IdentityService`` accepts for
    the route's method, app, scopes and claims; the principal is put on the
    context in the ``requestContext.authorizer`` shape for the handler, and
    on ``ctx.notes["principal"]``.  Both outcomes are audited by the chain
    runner (``Gateway._run_checks``): a denial with its private reason; an
    allowed authentication once the rest of the chain has decided, so that a
    request the principal's own rate limit then refuses is recorded with the
    refusal's aggregation instead of one full record each (a key flooding at
    ten times its limit must not cost a durable record per refused request).
    Without an identity service nothing but public routes is served.
    """

    name = "auth"

    def __init__(self, identity: IdentityService | None = None) -> None:
        self._identity = identity

    async def check(self, ctx: RequestContext) -> None:
        if ctx.route.is_webhook:
            return  # webhooks authenticate by signature, checked by the webhook handler
        trigger = ctx.route.trigger
        if getattr(trigger, "auth", None) == "none":
            ctx.principal = {"type": "anonymous"}
            return
        if self._identity is None:
            raise GatewayDenied(
                503, "auth_unavailable", "authentication is unavailable right now; retry later"
            )
        try:
            principal = await self._identity.authenticate(
                ctx.route.function,
                trigger,  # type: ignore[arg-type]
                ctx.headers,
            )
        except AuthFailed as exc:
            challenge = (
                [(b"www-authenticate", b'Bearer realm="ramparts"')] if exc.status == 401 else []
            )
            raise GatewayDenied(
                exc.status,
                exc.code,
                exc.message,
                reason=exc.reason,
                principal=exc.principal,
                headers=challenge,
                detail={"claimed_key": exc.claimed_key} if exc.claimed_key else None,
            ) from None
        ctx.principal = principal.authorizer()
        ctx.notes["principal"] = principal
