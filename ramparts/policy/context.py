"""The condition keys the host knows about an invocation's caller.

Built by the broker from the event the *gateway* built for an HTTP request
(never from a payload a caller or another function could forge: for any
other trigger only ``ramparts:trigger`` is set).  Keys (case-insensitive):

=============================  ==================================================
``ramparts:trigger``           http, topic, schedule, object, table, webhook, invoke
``ramparts:principal``         the caller: API key id / principalId, or the JWT ``sub``
``ramparts:PrincipalScopes``   the caller's scopes (multivalued: use ForAnyValue/ForAllValues)
``ramparts:AuthMethod``        api_key, jwt, oauth2 ...
``aws:SourceIp``, ``ramparts:SourceIp``   the client address the gateway trusted
=============================  ==================================================

The broker adds ``ramparts:app``, ``ramparts:function``, ``ramparts:version``,
``ramparts:RequestId`` and the clock (``aws:CurrentTime``/``aws:EpochTime``
and their ``ramparts:`` twins) to every check.
"""

from __future__ import annotations

from typing import Any


def request_context(trigger: str, event: Any) -> dict[str, Any]:
    ctx: dict[str, Any] = {"ramparts:trigger": trigger}
    if trigger != "http" or not isinstance(event, dict):
        return ctx
    rc = event.get("requestContext")
    if not isinstance(rc, dict):
        return ctx
    http = rc.get("http")
    if isinstance(http, dict) and isinstance(http.get("sourceIp"), str) and http["sourceIp"]:
        ctx["aws:sourceip"] = ctx["ramparts:sourceip"] = http["sourceIp"]
    auth = rc.get("authorizer")
    if isinstance(auth, dict):
        principal: Any = None
        scopes: Any = None
        method: Any = None
        if isinstance(auth.get("jwt"), dict):
            jwt = auth["jwt"]
            claims = jwt.get("claims") if isinstance(jwt.get("claims"), dict) else {}
            principal = claims.get("sub") or claims.get("client_id")
            scopes = jwt.get("scopes")
            method = "jwt"
        elif isinstance(auth.get("lambda"), dict):
            lam = auth["lambda"]
            principal = lam.get("principalId")
            scopes = lam.get("scopes")
            method = lam.get("method")
        if isinstance(principal, str) and principal:
            ctx["ramparts:principal"] = principal
        if isinstance(scopes, list):
            ctx["ramparts:principalscopes"] = [s for s in scopes if isinstance(s, str)]
        if isinstance(method, str) and method:
            ctx["ramparts:authmethod"] = method
    return ctx
