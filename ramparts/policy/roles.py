"""Checks of the role section of ``ramparts.yaml`` (short statements, IAM documents, shared roles).

Called from the manifest's validators so a malformed role is refused at
deploy with the path of the bad field, e.g.
``functions.api.role.statements[0].conditions.IpAddress.aws:SourceIp: invalid ip value``.
Resources are checked with a placeholder app: the app name does not change
whether a short name or an ARN is well formed.
"""

from __future__ import annotations

from typing import Any

from ramparts.policy.conditions import parse_condition
from ramparts.policy.document import VERSION, _check_action, _check_resource, parse_policy
from ramparts.policy.errors import PolicyError, PolicyValueError
from ramparts.policy.variables import check_variables, has_variables

_PLACEHOLDER_APP = "app"


def check_short_statement(
    *,
    actions: list[str],
    resources: list[str],
    not_actions: list[str],
    not_resources: list[str],
    conditions: dict[str, Any],
) -> None:
    """Raise ``PolicyValueError`` (a ``ValueError`` pydantic reports) naming the bad field."""
    try:
        if bool(actions) == bool(not_actions):
            raise PolicyError("actions", "give exactly one of actions or not_actions")
        if bool(resources) == bool(not_resources):
            raise PolicyError("resources", "give exactly one of resources or not_resources")
        for name, items in (("actions", actions), ("not_actions", not_actions)):
            for i, a in enumerate(items):
                _check_action(a, f"{name}[{i}]")
        for name, items in (("resources", resources), ("not_resources", not_resources)):
            for i, r in enumerate(items):
                if has_variables(r):
                    try:
                        check_variables(r)
                    except ValueError as exc:
                        raise PolicyError(f"{name}[{i}]", str(exc)) from None
                _check_resource(r, f"{name}[{i}]", _PLACEHOLDER_APP)
        if conditions:
            parse_condition(conditions, "conditions", variables=True)
    except PolicyError as exc:
        raise PolicyValueError(exc) from None


def check_policy_documents(documents: list[dict[str, Any]]) -> None:
    """Each of a role's ``policies`` must be a valid IAM identity-policy document."""
    for i, doc in enumerate(documents):
        try:
            parse_policy(doc, path=f"[{i}]", app=_PLACEHOLDER_APP)
        except PolicyError as exc:
            raise PolicyValueError(exc) from None


__all__ = ["VERSION", "check_policy_documents", "check_short_statement"]
