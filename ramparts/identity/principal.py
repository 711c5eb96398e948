"""Who is calling: the authenticated principal, and the shape handlers receive.

The handler sees the principal as ``event["requestContext"]["authorizer"]`` in
the shapes AWS HTTP APIs use, so handlers move between Ramparts and Lambda:

* a JWT (an outside issuer or the built-in OAuth2 issuer):
  ``{"jwt": {"claims": {...}, "scopes": [...]}}``, exactly as API Gateway's
  JWT authorizer sends it;
* an API key or an introspected opaque token, in the Lambda-authorizer shape
  ``{"lambda": {"principalId": ..., "method": "api_key" | "introspection",
  "scopes": [...], ...}}`` (documented in docs/identity.md).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Principal:
    method: str  # "api_key" | "jwt" | "oauth2" | "introspection"
    id: str  # "key:<id>", "sub:<iss>#<sub>", "client:<id>" - what the audit log names
    scopes: frozenset[str]
    claims: dict[str, Any] = field(default_factory=dict)
    app: str | None = None  # a key or client bound to one app is refused elsewhere
    extra: dict[str, Any] = field(default_factory=dict)
    # An API key's own limits (``keys create --rate``): every request made with it counts.
    rate: tuple[str, ...] = ()

    def authorizer(self) -> dict[str, Any]:
        scopes = sorted(self.scopes)
        if self.method in ("jwt", "oauth2"):
            return {"jwt": {"claims": self.claims, "scopes": scopes}}
        return {
            "lambda": {
                "principalId": self.id,
                "method": self.method,
                "scopes": scopes,
                **self.extra,
            }
        }


def scopes_from_claims(claims: dict[str, Any]) -> frozenset[str]:
    """OAuth2 ``scope`` (space-separated) or ``scp`` (list or string), as IdPs send them."""
    out: set[str] = set()
    for name in ("scope", "scp"):
        value = claims.get(name)
        if isinstance(value, str):
            out.update(value.split())
        elif isinstance(value, list):
            out.update(v for v in value if isinstance(v, str))
    return frozenset(out)
