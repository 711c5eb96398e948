"""Errors of the policy package, all under ``RampartsError``.

InvalidRequest
└── PolicyError     a policy document is malformed (path of the bad field, reason)
"""

from __future__ import annotations

from ramparts.errors import InvalidRequest


class PolicyError(InvalidRequest):
    """A policy document was refused; ``path`` names the bad field (``Statement[1].Effect``)."""

    code = "invalid_policy"
    status = 422

    def __init__(self, path: str, reason: str) -> None:
        self.path = path
        self.reason = reason
        super().__init__(f"{path or '<root>'}: {reason}")

    def to_dict(self) -> dict[str, str]:
        return {"code": self.code, "message": self.message, "path": self.path}


class PolicyValueError(ValueError):
    """Carries a ``PolicyError`` through pydantic so the manifest error keeps the field path."""

    def __init__(self, error: PolicyError) -> None:
        super().__init__(error.message)
        self.policy_path = error.path
        self.reason = error.reason
