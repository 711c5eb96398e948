"""JWT verification with joserfc: pinned algorithms, our keys only, strict claims.

Order of checks, each refusal with its own audit reason (the caller only
sees ``invalid_token`` or ``token_expired``):

1. size (``token_too_large``) and shape: three base64url segments
   (``malformed_token``), parsed by joserfc, never by hand;
2. the issuer is picked by the (unverified) ``iss``; unknown -> ``unknown_issuer``;
3. ``alg`` must be one the issuer pins (``alg_not_allowed``): this refuses
   ``none`` and the HS256-with-an-RSA-public-key confusion before any key is
   touched, and an issuer never mixes HMAC with public-key algorithms;
4. any ``crit`` header is refused (``unsupported_crit``): we implement no
   extension, and RFC 7515 says a verifier that does not understand one must
   reject the token;
5. the key is looked up by ``kid`` among the issuer's configured keys only;
   ``jku``/``x5u``/``jwk`` headers are ignored (``unknown_kid``);
6. signature (``bad_signature``);
7. claims: ``exp`` required (``missing_exp``), ``exp``/``nbf``/``iat`` with
   the issuer's leeway (``expired``, ``not_yet_valid``), ``iss``
   (``wrong_issuer``) and ``aud`` (``wrong_audience``).
"""

from __future__ import annotations

import json
import re
import warnings
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from joserfc.errors import (
    BadSignatureError,
    ExpiredTokenError,
    InvalidClaimError,
    JoseError,
    MissingClaimError,
    SecurityWarning,
    UnsupportedAlgorithmError,
)
from joserfc.jwk import Key
from joserfc.jws import JWSRegistry, extract_compact, validate_compact
from joserfc.jwt import JWTClaimsRegistry

from ramparts.identity.errors import AuthFailed
from ramparts.identity.principal import Principal, scopes_from_claims

MAX_TOKEN_BYTES = 8 * 1024
_SEGMENTS = re.compile(r"^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$")
HMAC_ALGS = frozenset({"HS256", "HS384", "HS512"})
PUBLIC_ALGS = frozenset(
    {"RS256", "RS384", "RS512", "PS256", "PS384", "PS512", "ES256", "ES384", "EdDSA"}
)

# joserfc warns that EdDSA is superseded by RFC 9864's names; we pin it on purpose.
warnings.filterwarnings("ignore", category=SecurityWarning)


class _Registry(JWSRegistry):
    """joserfc's registry with header room for x5c/jwk headers; the token cap is ours."""

    max_header_length = 4096
    max_payload_length = MAX_TOKEN_BYTES


_PARSE_REGISTRY = _Registry(strict_check_header=False)

KeyLookup = Callable[[str | None], Awaitable[Key | None]]


def looks_like_jwt(token: str) -> bool:
    return token.count(".") == 2


@dataclass
class IssuerVerifier:
    """One trusted issuer: its pinned algorithms, audiences, leeway and key source."""

    issuer: str
    audiences: list[str]
    algorithms: list[str]
    leeway: int
    keys: KeyLookup
    method: str = "jwt"  # "oauth2" for the built-in issuer

    def __post_init__(self) -> None:
        self._registry = _Registry(algorithms=self.algorithms, strict_check_header=False)
        self._claims = JWTClaimsRegistry(
            leeway=self.leeway,
            iss={"essential": True, "value": self.issuer},
            aud={"essential": True, "values": self.audiences},
            exp={"essential": True},
        )


def parse_unverified(token: str) -> tuple[Any, dict[str, Any], dict[str, Any]]:
    """joserfc's compact parse; returns (parsed object, header, claims) before any check."""
    if len(token) > MAX_TOKEN_BYTES:
        raise AuthFailed("invalid_token", "token_too_large")
    if not _SEGMENTS.match(token):
        raise AuthFailed("invalid_token", "malformed_token")
    try:
        obj = extract_compact(token.encode("ascii"), registry=_PARSE_REGISTRY)
        header = obj.headers()
        claims = json.loads(obj.payload)
    except (JoseError, ValueError, TypeError, UnicodeError):
        raise AuthFailed("invalid_token", "malformed_token") from None
    if not isinstance(claims, dict) or not isinstance(header, dict):
        raise AuthFailed("invalid_token", "malformed_token")
    return obj, header, claims


class JwtVerifier:
    """The issuers one app trusts, chosen by ``iss``."""

    def __init__(self, issuers: list[IssuerVerifier]) -> None:
        self._issuers = {i.issuer: i for i in issuers}

    def __bool__(self) -> bool:
        return bool(self._issuers)

    def trusts(self, claims: dict[str, Any]) -> bool:
        return isinstance(claims.get("iss"), str) and claims["iss"] in self._issuers

    async def verify(
        self, token: str, parsed: tuple[Any, dict[str, Any], dict[str, Any]] | None = None
    ) -> Principal:
        return (await self.verify_keyed(token, parsed)).principal

    async def verify_keyed(
        self, token: str, parsed: tuple[Any, dict[str, Any], dict[str, Any]] | None = None
    ) -> Verified:
        obj, header, claims = parsed or parse_unverified(token)
        iss = claims.get("iss")
        issuer = self._issuers.get(iss) if isinstance(iss, str) else None
        if issuer is None:
            raise AuthFailed("invalid_token", "unknown_issuer")
        return await verify_keyed(issuer, obj, header, claims)


@dataclass(frozen=True)
class Verified:
    """A verified token: who it names, and the issuer key that verified it.

    Kept by the verified-token cache, which re-asks the issuer for ``kid`` on
    every hit and accepts only if it still answers with this very ``key``: a
    key dropped from the JWKS, or a retired built-in signing key, stops
    verifying cached tokens as soon as the issuer stops returning it.
    """

    principal: Principal
    issuer: IssuerVerifier
    kid: str | None
    key: Key


async def verify_with(
    issuer: IssuerVerifier, obj: Any, header: dict[str, Any], claims: dict[str, Any]
) -> Principal:
    return (await verify_keyed(issuer, obj, header, claims)).principal


async def verify_keyed(
    issuer: IssuerVerifier, obj: Any, header: dict[str, Any], claims: dict[str, Any]
) -> Verified:
    alg = header.get("alg")
    if not isinstance(alg, str) or alg not in issuer.algorithms:
        raise AuthFailed("invalid_token", "alg_not_allowed")
    if "crit" in header:
        raise AuthFailed("invalid_token", "unsupported_crit")
    kid = header.get("kid")
    if kid is not None and not isinstance(kid, str):
        raise AuthFailed("invalid_token", "malformed_token")
    key = await issuer.keys(kid)
    if key is None:
        raise AuthFailed("invalid_token", "unknown_kid")
    try:
        if not validate_compact(obj, key, registry=issuer._registry):
            raise AuthFailed("invalid_token", "bad_signature")
    except AuthFailed:
        raise
    except UnsupportedAlgorithmError:
        raise AuthFailed("invalid_token", "alg_not_allowed") from None
    except (BadSignatureError, JoseError, ValueError, TypeError):
        raise AuthFailed("invalid_token", "bad_signature") from None
    try:
        issuer._claims.validate(claims)
    except MissingClaimError as exc:
        missing = getattr(exc, "claim", "") or str(exc)
        reason = "missing_exp" if "exp" in missing else "missing_claim"
        if "iss" in missing:
            reason = "wrong_issuer"
        elif "aud" in missing:
            reason = "wrong_audience"
        raise AuthFailed("invalid_token", reason) from None
    except ExpiredTokenError:
        raise AuthFailed("token_expired", "expired") from None
    except InvalidClaimError as exc:
        name = getattr(exc, "claim", "") or str(exc)
        reason = {
            "nbf": "not_yet_valid",
            "iat": "not_yet_valid",
            "iss": "wrong_issuer",
            "aud": "wrong_audience",
            "exp": "bad_exp",
        }.get(name, "invalid_claim")
        raise AuthFailed("invalid_token", reason) from None
    except (JoseError, ValueError, TypeError):
        raise AuthFailed("invalid_token", "invalid_claim") from None
    sub = claims.get("sub")
    who = f"sub:{issuer.issuer}#{sub}" if isinstance(sub, str) else f"iss:{issuer.issuer}"
    principal = Principal(
        method=issuer.method,
        id=who,
        scopes=scopes_from_claims(claims),
        claims=claims,
    )
    return Verified(principal, issuer, kid, key)
