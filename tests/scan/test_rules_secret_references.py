"""CloudFormation dynamic references (``{{resolve:secretsmanager:NAME}}``) name a
secret, they do not hold one: a SAM template that uses them deploys.  A value
that only wraps or sits beside a real credential is still a finding."""

from __future__ import annotations

from pathlib import Path

from ramparts.scan import secrets
from ramparts.scan.source import load_tree

ARN = "arn:aws:secretsmanager:us-east-1:123456789012:secret:api-AbCdEf"
TEMPLATE = """\
Resources:
  Fn:
    Type: AWS::Serverless::Function
    Properties:
      Handler: app.handler
      Environment:
        Variables:
          DB_PASSWORD: '{{resolve:ssm-secure:/shop/db/password:3}}'
          WEBHOOK_SECRET: "{{resolve:secretsmanager:webhook-signing:SecretString:key}}"
          API_TOKEN: '{{resolve:secretsmanager:ARN}}'
          MASTER_PASSWORD: '{{resolve:ssm:/db/master}}'
""".replace("ARN", ARN)

ATTACKS = """\
Resources:
  Fn:
    Properties:
      Environment:
        Variables:
          DB_PASSWORD: 'Zq8vN3xR7pL2mK9tWq4{{resolve:ssm:/x}}'
          API_PASSWORD: "{{resolve:ssm:/x}}"  # password = "hunter2hunter2XyZ"
          AWS_KEY: "{{resolve:ssm:/x}}" AKIAIOSFODNN7EXAMPLE
          OTHER_PASSWORD: 'hunter2hunter2XyZ'
"""


def _lines(tmp_path: Path, name: str, text: str) -> set[int]:
    (tmp_path / name).write_text(text)
    return {f.line for f in secrets.run(load_tree(tmp_path)) if f.rule_id == "RP-S001"}


def test_dynamic_references_are_not_secrets(tmp_path: Path) -> None:
    assert _lines(tmp_path, "template.yaml", TEMPLATE) == set()


def test_json_templates_too(tmp_path: Path) -> None:
    text = '{"Variables": {\n  "DB_PASSWORD": "{{resolve:secretsmanager:db:SecretString:pw}}"\n}}\n'
    assert _lines(tmp_path, "template.json", text) == set()


def test_a_reference_does_not_hide_a_credential_on_its_line(tmp_path: Path) -> None:
    # every line still holds a literal secret: each stays a finding
    assert _lines(tmp_path, "template.yaml", ATTACKS) == {6, 7, 8, 9}
