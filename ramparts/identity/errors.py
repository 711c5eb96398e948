"""The errors of the identity package.

``AuthFailed`` carries two things on purpose: a public ``code`` (stable, coarse:
``invalid_token``, ``invalid_api_key``...) that callers see, and a private
``reason`` (``unknown_kid``, ``api_key_revoked``...) that only the audit log
sees, so a refusal never tells an attacker which check it tripped.

    RampartsError
    └── AuthFailed          a credential was missing, malformed or refused (401/403/503)
"""

from __future__ import annotations

from ramparts.errors import RampartsError

_MESSAGES = {
    "missing_credentials": "this route requires authentication",
    "malformed_credentials": "the credentials are malformed",
    "invalid_api_key": "the API key was not accepted",
    "invalid_token": "the token was not accepted",
    "token_expired": "the token has expired",
    "credential_not_accepted": "this route does not accept this kind of credential",
    "insufficient_scope": "the credentials lack a required scope or claim",
    "auth_unavailable": "authentication is unavailable right now; retry later",
}


class AuthFailed(RampartsError):
    """A request's credentials were refused; ``reason`` is for the audit log only."""

    def __init__(
        self,
        code: str,
        reason: str,
        *,
        status: int = 401,
        principal: str | None = None,
        claimed_key: str | None = None,
    ) -> None:
        super().__init__(_MESSAGES.get(code, "authentication failed"), code=code)
        self.status = status
        self.reason = reason
        self.principal = principal
        # The key id a refused request named without proving it holds the key (unknown id
        # or wrong secret): audited apart from ``principal`` so that no response step ever
        # takes it for the caller (anyone who knows a key's public id could name it).
        self.claimed_key = claimed_key


def denied(reason: str, principal: str | None = None) -> AuthFailed:
    """403: authenticated, but the route needs a scope or claim this principal lacks."""
    return AuthFailed("insufficient_scope", reason, status=403, principal=principal)
