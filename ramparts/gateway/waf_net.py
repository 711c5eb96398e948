"""The WAF's network rules: address lists, run-time blocks, method and size limits.

Where they sit in a request's path, all before authentication:

1. ``NetworkGuard.screen`` -- every request the gateway receives, before
   routing, including ``/oauth/token``, ``/.well-known/jwks.json``, webhooks
   and the AWS-compatible endpoint: a source in the run-time block list
   (``ip-runtime-block``), or a method outside the standard set
   (``method-not-standard``: TRACE, CONNECT, WebDAV's and invented ones).
2. ``NetworkGuard.undeclared`` -- a path that exists under other methods
   only (the router's 405): the app's lists still apply first (a denied
   source learns nothing about the app's routes), then the refusal is a
   ``405 method_not_allowed`` with ``Allow``, audited as ``method-not-declared``.
3. ``WafNetCheck`` -- the first check of the chain on an app's route: the
   app's ``waf.deny`` (``ip-deny``) and ``waf.allow`` (``ip-not-allowed``),
   ``waf.methods`` (``method-not-allowed``), and ``waf.limits`` on the URL
   (``url-too-long``), the header fields (``headers-too-large``) and a
   declared ``Content-Length`` (``body-too-large``); a body without one is
   held to ``body_limit`` while the gateway reads it.

Every refusal but the 405 answers ``403 waf_blocked`` and is audited as
``gateway.waf`` with the rule's name as ``reason``.  The lists, methods and
limits are what the app accepts, not signatures with false positives: they
block whatever the app's or route's WAF ``mode`` is (``detect`` and ``off``
govern the signature rules).
"""

from __future__ import annotations

import ipaddress
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from ramparts.gateway.checks import Check, GatewayDenied, RequestContext
from ramparts.gateway.netset import NetworkSet, address_key, parse_address, parse_network

if TYPE_CHECKING:
    from ramparts.gateway.blocklist import BlockList
    from ramparts.gateway.routing import Route, Router
    from ramparts.manifest import WafConfig

log = logging.getLogger("ramparts.gateway.waf")

STANDARD_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""What ``waf.methods`` allows when an app leaves it out, and all any app can allow."""

CHECK = "waf"
BLOCKED = "waf_blocked"
_ADDRESS_REFUSED = "requests from your address are not accepted"


def refusal(rule: str, message: str, **detail: Any) -> GatewayDenied:
    """A ``403 waf_blocked`` whose audit record names ``rule``."""
    return GatewayDenied(403, BLOCKED, message, reason=rule, detail={"rule": rule, **detail})


@dataclass(frozen=True)
class AppLists:
    """An app's ``waf:`` network section, compiled for lookups."""

    allow: NetworkSet[bool]
    deny: NetworkSet[bool]
    methods: frozenset[str]
    url_bytes: int | None
    header_bytes: int | None
    body_bytes: int | None

    @classmethod
    def compile(cls, waf: WafConfig) -> AppLists:
        return cls(
            allow=NetworkSet((parse_network(n, strict=False), True) for n in waf.allow),
            deny=NetworkSet((parse_network(n, strict=False), True) for n in waf.deny),
            methods=frozenset(waf.methods) if waf.methods is not None else STANDARD_METHODS,
            url_bytes=waf.limits.url_bytes,
            header_bytes=waf.limits.header_bytes,
            body_bytes=waf.limits.body_bytes,
        )

    def address_rule(self, source_ip: str) -> str | None:
        """``ip-deny`` or ``ip-not-allowed`` for ``source_ip``, or None when it may pass.

        Deny wins over allow; a non-empty allow list admits only its networks,
        and a source that is not an address at all is outside every list.
        """
        if not self.deny and not self.allow:
            return None
        key = address_key(source_ip)
        if self.deny and key is not None and self.deny.contains_key(*key):
            return "ip-deny"
        if self.allow and (key is None or not self.allow.contains_key(*key)):
            return "ip-not-allowed"
        return None

    def refuse(self, source_ip: str, method: str) -> GatewayDenied | None:
        """The address and method rules, in that order."""
        rule = self.address_rule(source_ip)
        if rule is not None:
            return refusal(rule, _ADDRESS_REFUSED)
        if method not in self.methods:
            return refusal(
                "method-not-allowed", f"this app does not accept {method} requests", method=method
            )
        return None


class _Compiled:
    """Each live ``WafConfig`` compiled once (they change only with the router)."""

    def __init__(self) -> None:
        self._cache: dict[int, tuple[WafConfig, AppLists]] = {}

    def lists(self, waf: WafConfig) -> AppLists:
        hit = self._cache.get(id(waf))
        if hit is not None and hit[0] is waf:
            return hit[1]
        if len(self._cache) > 4096:  # old routers' configs: drop them all, recompile live ones
            self._cache.clear()
        compiled = AppLists.compile(waf)
        self._cache[id(waf)] = (waf, compiled)  # holding ``waf`` keeps its id unique
        return compiled


_compiled = _Compiled()


def app_lists(route: Route) -> AppLists:
    return _compiled.lists(route.function.waf)


def body_limit(route: Route) -> int | None:
    """The route's app's own body limit (``waf.limits.body_bytes``), if it sets one."""
    return app_lists(route).body_bytes


def body_refusal(limit: int) -> GatewayDenied:
    return refusal(
        "body-too-large", f"the body exceeds this app's limit of {limit} bytes", limit=limit
    )


def url_size(scope: dict[str, Any]) -> int:
    """The request target's bytes as sent: the (still percent-encoded) path and query."""
    raw = scope.get("raw_path")
    path_len = len(raw) if raw is not None else len(str(scope.get("path", "")).encode())
    query = scope.get("query_string") or b""
    return path_len + (1 + len(query) if query else 0)


def header_size(scope: dict[str, Any]) -> int:
    """The header fields' bytes as sent: ``name: value`` plus CRLF for each."""
    return sum(len(k) + len(v) + 4 for k, v in scope.get("headers", ()))


class WafNetCheck(Check):
    """The app's address lists, methods and size limits on its routes (see the module)."""

    name = CHECK

    async def check(self, ctx: RequestContext) -> None:
        lists = app_lists(ctx.route)
        denied = lists.refuse(ctx.source_ip, ctx.method)
        if denied is not None:
            raise denied
        scope = ctx.scope
        if lists.url_bytes is not None and (size := url_size(scope)) > lists.url_bytes:
            raise refusal(
                "url-too-long",
                f"the URL exceeds this app's limit of {lists.url_bytes} bytes",
                limit=lists.url_bytes,
                size=size,
            )
        if lists.header_bytes is not None and (size := header_size(scope)) > lists.header_bytes:
            raise refusal(
                "headers-too-large",
                f"the header fields exceed this app's limit of {lists.header_bytes} bytes",
                limit=lists.header_bytes,
                size=size,
            )
        if lists.body_bytes is not None:
            declared = ctx.headers.get("content-length", "")
            if declared.isdigit() and int(declared) > lists.body_bytes:
                raise body_refusal(lists.body_bytes)


class NetworkGuard:
    """The rules that apply to every request, before routing (see the module)."""

    def __init__(self, blocks: BlockList | None, audit: Any) -> None:
        self._blocks = blocks
        self._audit = audit

    def screen(self, scope: dict[str, Any], request_id: str) -> None:
        """Refuse (``GatewayDenied``, audited) a blocked source or a non-standard method."""
        try:
            denied = self._screen(scope)
        except Exception:  # fail closed: a guard that cannot decide refuses
            log.exception("the WAF's network guard failed (request %s)", request_id)
            self._emit(scope, request_id, "check_failed")
            raise GatewayDenied(500, "check_failed", "a security check failed") from None
        if denied is not None:
            self._emit(scope, request_id, denied.reason, **denied.detail)
            raise denied

    def _screen(self, scope: dict[str, Any]) -> GatewayDenied | None:
        if scope["method"] not in STANDARD_METHODS:
            return refusal("method-not-standard", "this method is not accepted")
        if self._blocks is not None:
            client = scope.get("client")
            record = self._blocks.match(client[0] if client else "")
            if record is not None:
                return refusal("ip-runtime-block", _ADDRESS_REFUSED, network=record.network)
        return None

    def undeclared(
        self, router: Router, scope: dict[str, Any], request_id: str
    ) -> GatewayDenied:
        """The refusal, audited, of a method that the path's routes do not declare."""
        method, path = scope["method"], scope["path"]
        client = scope.get("client")
        source_ip = client[0] if client else ""
        routes = router.on_path(path)
        for route in routes:
            denied = app_lists(route).refuse(source_ip, method)
            if denied is not None:
                self._emit(scope, request_id, denied.reason, route=route, **denied.detail)
                return denied
        # What the path answers: its declared methods that its app accepts (HEAD with GET).
        accepted: set[str] = set()
        for route in routes:
            methods = app_lists(route).methods
            accepted |= {route.method} & methods
            if route.method == "GET" and "HEAD" in methods:
                accepted.add("HEAD")
        allowed = sorted(accepted)
        self._emit(scope, request_id, "method-not-declared", rule="method-not-declared",
                   allowed=allowed)
        return GatewayDenied(
            405,
            "method_not_allowed",
            f"{method} is not allowed on this path",
            reason="method-not-declared",
            headers=[(b"allow", ", ".join(allowed).encode())],
        )

    def _emit(
        self,
        scope: dict[str, Any],
        request_id: str,
        reason: str,
        route: Route | None = None,
        **detail: Any,
    ) -> None:
        client = scope.get("client")
        source_ip = client[0] if client else ""
        method = str(scope.get("method", ""))[:32]
        resource = (
            f"route:{route.route_key}" if route is not None else f"path:{scope['path'][:256]}"
        )
        extra = {"function": route.function.name} if route is not None else {}
        self._audit.emit(
            f"gateway.{CHECK}",
            decision="deny",
            principal=f"ip:{source_ip}",
            action=f"http:{method}",
            resource=resource,
            request_id=request_id,
            reason=reason,
            source_ip=source_ip,
            **extra,
            **detail,
        )


_WIDEST_PREFIX = {4: 8, 6: 32}  # broader blocks need force


def loopback_or_self(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    admin_ip: str,
    proxies: Sequence[ipaddress.IPv4Network | ipaddress.IPv6Network] = (),
) -> str | None:
    """Why blocking ``network`` needs ``--force``, or None.

    Every address (a /0), a block broader than a /8 (IPv4) or a /32 (IPv6),
    loopback (the node's own sandboxes reach the gateway
    from 127.0.0.1, and so does a local reverse proxy: blocking it blocks every
    client behind it), any of ``proxies`` (the ``--forwarded-allow-ips``
    networks: a trusted proxy's own address is shared by its health checks and
    by every request it forwards without a valid ``X-Forwarded-For``), or the
    address the admin is working from.
    """
    if network.prefixlen == 0:
        return f"{network} blocks every {'IPv4' if network.version == 4 else 'IPv6'} source"
    widest = _WIDEST_PREFIX[network.version]
    if network.prefixlen < widest:  # 128.0.0.0/1 is every other address: as good as a /0
        return f"{network} is broader than /{widest}: it blocks a large share of all sources"
    loopback = (
        ipaddress.IPv4Network("127.0.0.0/8")
        if network.version == 4
        else ipaddress.IPv6Network("::1/128")
    )
    if network.overlaps(loopback):  # type: ignore[arg-type]
        return (
            f"{network} covers loopback: the node's own sandboxes and a local reverse proxy "
            "reach the gateway from there"
        )
    for proxy in proxies:
        if proxy.version == network.version and network.overlaps(proxy):  # type: ignore[arg-type]
            return (
                f"{network} covers {proxy}, a trusted proxy (--forwarded-allow-ips): "
                "blocking it blocks the clients it carries"
            )
    admin = parse_address(admin_ip)
    if admin is not None and admin.version == network.version and admin in network:
        return f"{network} holds {admin}, the address this admin request came from"
    return None
