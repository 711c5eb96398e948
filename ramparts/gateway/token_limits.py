"""Rate limits of the built-in OAuth2 token endpoint (``POST /oauth/token``).

Each token costs an RSA signature and a credential check, so the endpoint is
limited twice, through the node's rate-limit storage:

* per source address (``ADDRESS_RATE``, the address as the route limits count
  it: an IPv6 address as its /64), before any credential work, so guessing
  secrets and flooding cost nothing beyond a counter;
* per client, by the client's own rate (``clients create --rate``), counted
  only once the client has proved its secret (so nobody who merely knows a
  client id can use up its quota) and before the token is signed.  The
  counter is the client's token counter, apart from the one its tokens'
  requests use: minting a token does not spend a request.

A refusal is ``429 rate_limited`` with ``Retry-After`` and the RateLimit-*
fields, audited through the refusal aggregator (``gateway.rate_limit`` on
``route:POST /oauth/token``); a storage that cannot answer refuses with ``503
rate_limit_unavailable`` (fail closed), as on the routes.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING

from ramparts.gateway.checks import GatewayDenied
from ramparts.gateway.ratelimit import address_identity, over_limit
from ramparts.ratelimit.limiter import Limit, RateLimitUnavailable, parse_limits

if TYPE_CHECKING:
    from ramparts.identity.records import ClientRecord
    from ramparts.ratelimit.service import RateLimitService

ADDRESS_RATE = "60/minute"  # token requests per source address, whatever the client
ROUTE_KEY = "POST /oauth/token"
_ADDRESS_POLICY = parse_limits([ADDRESS_RATE])


class TokenLimits:
    """The token endpoint's two limits (see the module)."""

    def __init__(self, service: RateLimitService | None) -> None:
        self._service = service

    async def by_address(self, source_ip: str, request_id: str) -> None:
        """Count one token request of ``source_ip``; raise ``GatewayDenied`` past the limit."""
        who = address_identity(source_ip)
        await self._count(_ADDRESS_POLICY, ("token", "ip", who), who, "ip", source_ip, request_id)

    def by_client(
        self, source_ip: str, request_id: str
    ) -> Callable[[ClientRecord], Awaitable[None]]:
        """The issuer's ``admit`` hook: count one token of an authenticated client."""

        async def admit(client: ClientRecord) -> None:
            if not client.rate:
                return
            who = f"client:{client.id}"
            await self._count(
                parse_limits(client.rate), ("token", who), who, "client", source_ip, request_id
            )

        return admit

    async def _count(
        self,
        policy: tuple[Limit, ...],
        identity: tuple[str, ...],
        who: str,
        rate_key: str,
        source_ip: str,
        request_id: str,
    ) -> None:
        service = self._service
        if service is None:  # nothing can count: fail closed
            raise GatewayDenied(503, "rate_limit_unavailable", "rate limits cannot be checked")
        try:
            outcome = await service.limiter.hit(policy, identity, stats=False)
        except RateLimitUnavailable as exc:
            self._refused(service, who, "unavailable", rate_key, source_ip, request_id,
                          "rate_limit_unavailable")
            raise GatewayDenied(503, exc.code, exc.message, audited=True) from None
        if not outcome.allowed:
            self._refused(service, who, outcome.limit.text, rate_key, source_ip, request_id,
                          "rate_limited")
            raise over_limit(outcome)

    @staticmethod
    def _refused(
        service: RateLimitService,
        who: str,
        limit: str,
        rate_key: str,
        source_ip: str,
        request_id: str,
        reason: str,
    ) -> None:
        service.refusals.refused(
            principal=who,
            method="POST",
            route_key=ROUTE_KEY,
            limit=limit,
            request_id=request_id,
            reason=reason,
            rate_key=rate_key,
            scope="token",
            source_ip=source_ip,
        )
