"""The gateway's check chain: each check may only let a request pass or refuse it.

Checks run in order before a request reaches a handler.  A check refuses by
raising ``GatewayDenied`` with a status and a stable code; a check that
raises anything else has failed, and a failed check refuses the request
(fail closed) with ``500 check_failed``.  Either way the refusal is audited.
Later issues add authentication, rate limits and the WAF as further checks.
"""

from __future__ import annotations

import abc
from dataclasses import dataclass, field
from typing import Any

from ramparts.errors import RampartsError
from ramparts.gateway.routing import Route


class GatewayDenied(RampartsError):
    """A check refused the request."""

    def __init__(self, status: int, code: str, message: str) -> None:
        super().__init__(message, code=code)
        self.status = status


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


class Check(abc.ABC):
    name: str = "check"

    @abc.abstractmethod
    async def check(self, ctx: RequestContext) -> None:
        """Return to let the request pass; raise ``GatewayDenied`` to refuse it."""


class RouteAuthCheck(Check):
    """Private by default: only an explicit ``auth: none`` route is public.

    Authentication methods arrive with the identity issue; until then any route
    that asks for one (or names none, which means "any configured method") is
    refused with 501 rather than served to unauthenticated callers.
    """

    name = "auth"

    async def check(self, ctx: RequestContext) -> None:
        if ctx.route.is_webhook:
            return  # webhooks authenticate by signature, checked by the webhook handler
        auth = getattr(ctx.route.trigger, "auth", None)
        if auth == "none":
            ctx.principal = {"type": "anonymous"}
            return
        raise GatewayDenied(
            501,
            "auth_not_implemented",
            "this route requires authentication, which this node cannot perform yet",
        )
