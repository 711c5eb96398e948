"""The deploy gate's policy lint reads AWS ARNs by the account they name (SQS names).

(The lint change itself is the aws-s3 branch's, taken verbatim so the branches merge.)

An ARN of the app's own account compiles to native resources of the app and
is scoped like them (a queue is narrow, every queue is a whole kind); an ARN
of another account reaches nothing and is still flagged as a grant outside
the app, so a role written for cross-account access is refused at deploy.
"""

from __future__ import annotations

from ramparts.aws.accounts import account_id
from ramparts.manifest import FunctionConfig
from ramparts.policy.lint import lint_function


def _findings(*resources: str) -> list[tuple[str, str, str]]:
    cfg = FunctionConfig.model_validate(
        {
            "handler": "p.py:h",
            "role": {
                "statements": [
                    {
                        "effect": "allow",
                        "actions": ["sqs:SendMessage"],
                        "resources": list(resources),
                    },
                    {"effect": "deny", "actions": ["kv:DeleteItem"], "resources": ["*"]},
                ]
            },
        }
    )
    return [(f.rule, f.severity, f.message) for f in lint_function("shop", "f", cfg, None)]


def test_an_own_account_arn_is_not_outside_the_app() -> None:
    own = account_id("shop")
    assert _findings(f"arn:aws:sqs:*:{own}:orders", f"arn:aws:sqs:us-east-1:{own}:audit") == []


def test_an_own_account_wildcard_is_a_whole_kind() -> None:
    found = _findings(f"arn:aws:sqs:*:{account_id('shop')}:*")
    assert found and {(rule, sev) for rule, sev, _ in found} == {("RP-P002", "medium")}


def test_another_accounts_arn_is_flagged_high() -> None:
    other = f"arn:aws:sqs:*:{account_id('other')}:orders"
    found = _findings(other)
    assert ("RP-P002", "high") in {(rule, sev) for rule, sev, _ in found}
    assert any(other in message for _, _, message in found)
