"""Policy lint on AWS ARNs: the app's own resources written in AWS names (as
``ramparts import`` writes SAM policy templates) are scoped grants, not access
outside the app; another account's ARN still is outside it."""

from __future__ import annotations

from pathlib import Path

from ramparts.aws.accounts import account_id
from ramparts.policy.lint import lint_app
from tests.conftest import make_app

OWN = account_id("awslint")
OTHER = "111122223333"

MANIFEST = f"""
app: awslint
functions:
  crud:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [dynamodb:GetItem, dynamodb:PutItem]
          resources: ["arn:aws:dynamodb:*:{OWN}:table/orders",
                      "arn:aws:dynamodb:*:{OWN}:table/orders/index/*"]
        - effect: allow
          actions: [s3:GetObject, s3:ListBucket]
          resources: ["arn:aws:s3:::uploads", "arn:aws:s3:::uploads/*"]
        - effect: allow
          actions: [sqs:SendMessage]
          resources: ["arn:aws:sqs:*:*:jobs"]
        - effect: deny
          actions: [dynamodb:DeleteItem]
          resources: ["*"]
  foreign:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [dynamodb:GetItem]
          resources: ["arn:aws:dynamodb:us-east-1:{OTHER}:table/orders"]
"""

CODE = """
def handler(event, context):
    return None
"""


def _p002(findings: list, function: str) -> set[str]:
    return {f.severity for f in findings if f.function == function and f.rule == "RP-P002"}


def test_own_resources_in_aws_names_are_not_outside_the_app(tmp_path: Path) -> None:
    findings = lint_app(make_app(tmp_path / "app", MANIFEST, {"h.py": CODE}))
    assert _p002(findings, "crud") == set()


def test_another_accounts_arn_is_still_outside_the_app(tmp_path: Path) -> None:
    findings = lint_app(make_app(tmp_path / "app", MANIFEST, {"h.py": CODE}))
    assert _p002(findings, "foreign") == {"high"}
    assert any("outside app awslint" in f.message for f in findings if f.function == "foreign")
