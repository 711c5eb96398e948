"""The rate-limit checks of the gateway's chain: one before authentication, one right after.

A route's limits (``rate:`` on its http trigger) count per ``rate_key``:

* ``ip``: the source address (``ctx.source_ip``, trusted-proxy aware; an IPv6
  address counts as its /64, which one host usually holds whole);
* ``route``: one counter shared by every caller;
* ``api_key`` / ``client`` / ``subject``: the API key's id, the OAuth2 client
  id (``client_id`` claim), the JWT's issuer and subject; a request that has
  no such principal (a public route, another credential type) counts by its
  source address instead;
* ``auto`` (default): the authenticated principal on private routes, the
  source address on public (``auth: none``) ones.

Counters are keyed by app, route (``METHOD /path``), rate_key and identity.
Address-keyed limits, and route-keyed ones of public routes, run *before*
authentication (``RateLimitCheck``), so a flood costs no credential check;
principal-keyed ones need the principal, and a private route's route-wide
counter must count only callers who authenticate, so they run right after it
(``PrincipalRateLimitCheck``), which also applies the
principal's own limit (``keys create --rate``, ``clients create --rate``): one
counter per key or client over every route of every app.

A refusal is ``429 rate_limited`` with ``Retry-After`` and the RateLimit-*
fields (``ramparts.ratelimit.headers``); a storage that cannot answer is ``503
rate_limit_unavailable`` (fail closed).  Both are audited through the node's
refusal aggregator (``gateway.rate_limit``), not once per request.
"""

from __future__ import annotations

import hashlib
import ipaddress
from typing import TYPE_CHECKING

from ramparts.gateway.checks import Check, GatewayDenied, RequestContext
from ramparts.gateway.routing import Route
from ramparts.ratelimit.headers import rate_limit_headers, tighter
from ramparts.ratelimit.limiter import Limit, Outcome, RateLimitUnavailable, parse_limits

if TYPE_CHECKING:
    from ramparts.identity.principal import Principal
    from ramparts.identity.service import IdentityService
    from ramparts.ratelimit.service import RateLimitService

NOTE = "rate_limit"  # ctx.notes key: the admitted Outcome whose headers the response carries
_MAX_IDENTITY = 200


def route_policy(route: Route) -> tuple[Limit, ...]:
    """The route's limits (parsed once per rate list; the manifest already validated them)."""
    rates = getattr(route.trigger, "rates", None)
    return parse_limits(rates) if rates else ()


def effective_key(route: Route) -> str:
    """``rate_key`` with ``auto`` resolved: ``ip`` on public routes, ``principal`` on private."""
    key = getattr(route.trigger, "rate_key", "auto")
    if key == "auto":
        return "ip" if getattr(route.trigger, "auth", None) == "none" else "principal"
    return str(key)


def before_auth(route: Route, kind: str) -> bool:
    """Whether a limit of this (resolved) kind is counted before authentication.

    Address-keyed limits always are: a flood from one address costs no
    credential check.  A route-wide counter is, on a public route only: on a
    private one, requests that fail authentication must not use up the quota
    of the callers who pass it (anyone could otherwise lock them out).
    """
    if kind == "ip":
        return True
    return kind == "route" and getattr(route.trigger, "auth", None) == "none"


def address_identity(source_ip: str) -> str:
    """``ip:ADDR``; an IPv6 address as its /64 (rotating within one's own /64 gains nothing)."""
    if ":" in source_ip:
        try:
            net = ipaddress.IPv6Network(f"{source_ip}/64", strict=False)
        except ValueError:
            return f"ip:{source_ip}"
        return f"ip:{net.network_address}/64"
    return f"ip:{source_ip}"


def _bounded(value: str) -> str:
    """A counter identity of bounded size (a JWT subject is the caller's choice)."""
    if len(value) <= _MAX_IDENTITY:
        return value
    return "sha256:" + hashlib.sha256(value.encode()).hexdigest()


def client_id_of(principal: Principal) -> str | None:
    """The OAuth2 client a token was issued to (RFC 9068 ``client_id``, else ``azp``)."""
    for claim in ("client_id", "azp"):
        value = principal.claims.get(claim)
        if isinstance(value, str) and value:
            return value
    return None


def principal_identity(kind: str, principal: Principal | None, source_ip: str) -> tuple[str, str]:
    """(the rate_key actually used, the identity counted) for a principal-keyed limit."""
    if principal is not None:
        if kind == "principal":
            return kind, principal.id
        if kind == "api_key" and principal.method == "api_key":
            return kind, principal.id
        if kind == "client" and principal.method in ("oauth2", "jwt", "introspection"):
            client = client_id_of(principal)
            if client:
                return kind, f"client:{client}"
        if kind == "subject" and principal.method != "api_key":
            sub = principal.claims.get("sub")
            if isinstance(sub, str) and sub:
                return kind, principal.id  # sub:<issuer>#<sub>: subjects of two issuers differ
    return "ip", address_identity(source_ip)  # no such principal: the source address counts


def over_limit(outcome: Outcome) -> GatewayDenied:
    """The 429 of a refused ``outcome`` (already audited, through the refusal aggregator)."""
    return GatewayDenied(
        429,
        "rate_limited",
        f"rate limit exceeded ({outcome.limit.text}); retry after {outcome.reset} s",
        headers=rate_limit_headers(outcome),
        audited=True,
    )


class _Counting(Check):
    name = "rate_limit"

    def __init__(self, service: RateLimitService | None) -> None:
        self._service = service

    async def _count(
        self,
        ctx: RequestContext,
        policy: tuple[Limit, ...],
        identity: tuple[str, ...],
        who: str,
        *,
        rate_key: str,
        scope: str,
    ) -> None:
        service = self._service
        if service is None:  # limits are declared but nothing can count them: fail closed
            raise GatewayDenied(503, "rate_limit_unavailable", "rate limits cannot be checked")
        try:
            outcome = await service.limiter.hit(policy, identity)
        except RateLimitUnavailable as exc:
            self._refused(ctx, who, "unavailable", rate_key, scope, "rate_limit_unavailable")
            raise GatewayDenied(503, exc.code, exc.message, audited=True) from None
        if not outcome.allowed:
            self._refused(ctx, who, outcome.limit.text, rate_key, scope, "rate_limited")
            raise over_limit(outcome)
        ctx.notes[NOTE] = tighter(ctx.notes.get(NOTE), outcome)

    def _refused(
        self, ctx: RequestContext, who: str, limit: str, rate_key: str, scope: str, reason: str
    ) -> None:
        assert self._service is not None
        self._service.refusals.refused(
            principal=who,
            method=ctx.method,
            route_key=ctx.route.route_key,
            limit=limit,
            request_id=ctx.request_id,
            reason=reason,
            rate_key=rate_key,
            scope=scope,  # "route": the route's rate:, "principal": the key's or client's own
            app=ctx.route.function.app,
            function=ctx.route.function.name,
            source_ip=ctx.source_ip,
        )


class RateLimitCheck(_Counting):
    """Before authentication: the route's limits keyed by source address or by route."""

    async def check(self, ctx: RequestContext) -> None:
        policy = route_policy(ctx.route)
        if not policy:
            return
        kind = effective_key(ctx.route)
        if not before_auth(ctx.route, kind):
            return  # counted after authentication: PrincipalRateLimitCheck
        who = address_identity(ctx.source_ip) if kind == "ip" else "route"
        app = ctx.route.function.app
        await self._count(
            ctx, policy, ("route", app, ctx.route.route_key, kind, who), who,
            rate_key=kind, scope="route",
        )


class PrincipalRateLimitCheck(_Counting):
    """Right after authentication: principal-keyed route limits, then the principal's own."""

    def __init__(
        self, service: RateLimitService | None, identity: IdentityService | None = None
    ) -> None:
        super().__init__(service)
        self._identity = identity

    async def check(self, ctx: RequestContext) -> None:
        if ctx.route.is_webhook:
            return
        principal: Principal | None = ctx.notes.get("principal")
        policy = route_policy(ctx.route)
        if policy:
            kind = effective_key(ctx.route)
            if kind == "route" and not before_auth(ctx.route, kind):
                app = ctx.route.function.app
                await self._count(
                    ctx, policy, ("route", app, ctx.route.route_key, kind, "route"), "route",
                    rate_key=kind, scope="route",
                )
            elif not before_auth(ctx.route, kind):
                used, who = principal_identity(kind, principal, ctx.source_ip)
                app = ctx.route.function.app
                await self._count(
                    ctx, policy, ("route", app, ctx.route.route_key, used, _bounded(who)),
                    _bounded(who), rate_key=used, scope="route",
                )
        if principal is None:
            return
        own, who = await self._own(principal)
        if own:
            await self._count(
                ctx, parse_limits(own), ("principal", who), who, rate_key="principal",
                scope="principal",
            )

    async def _own(self, principal: Principal) -> tuple[tuple[str, ...], str]:
        """The principal's own limits: an API key's, or its built-in OAuth2 client's."""
        if principal.method == "api_key":
            return tuple(getattr(principal, "rate", ()) or ()), principal.id
        if principal.method != "oauth2" or self._identity is None:
            return (), principal.id
        client = client_id_of(principal)
        if client is None:
            return (), principal.id
        try:
            rates = await self._identity.client_rate(client, principal.claims.get("iss"))
        except Exception as exc:  # the identity store is down: fail closed
            raise GatewayDenied(
                503, "rate_limit_unavailable", "rate limits cannot be checked right now"
            ) from exc
        return rates, f"client:{client}"

