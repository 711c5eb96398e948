"""``ramparts policy lint``: each rule on a small app, and the exit code."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from ramparts.policy.lint import lint_app
from ramparts.policy.static import scan_source
from tests.conftest import make_app

MANIFEST = """
app: lint
functions:
  admin:
    handler: h.py:admin
    role:
      statements:
        - {effect: allow, actions: ["*"], resources: ["*"]}
  escalate:
    handler: h.py:escalate
    role:
      statements:
        - {effect: allow, actions: ["secrets:*"], resources: ["secret:*"]}
  broad:
    handler: h.py:broad
    role:
      statements:
        - {effect: allow, actions: ["kv:*"], resources: ["kv:orders/*"]}
        - {effect: allow, actions: ["topics:Publish"], resources: ["topic:unused"]}
    secrets: [never-read]
  tidy:
    handler: h.py:tidy
    role:
      statements:
        - {effect: allow, actions: ["kv:GetItem"], resources: ["kv:orders/*"]}
        - {effect: deny, actions: ["kv:DeleteItem"], resources: ["kv:orders/*"]}
"""

CODE = """
def admin(event, context):
    return context.kv.get("orders", event["id"])


def escalate(event, context):
    return context.secrets.get("x")


def broad(event, context):
    context.kv.put("orders", event["id"], {})
    context.publish("other-topic", {})


def tidy(event, context):
    return helper(context, event)


def helper(ctx, event):
    return ctx.kv.get("orders", f"o-{event['id']}")
"""


def rules(findings: list, function: str) -> set[tuple[str, str]]:
    return {(f.rule, f.severity) for f in findings if f.function == function}


def test_rules(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", MANIFEST, {"h.py": CODE})
    findings = lint_app(app)
    assert {("RP-P001", "high"), ("RP-P002", "high"), ("RP-P003", "high")} <= rules(
        findings, "admin"
    )
    escalate = rules(findings, "escalate")
    assert ("RP-P003", "high") in escalate  # may write secrets and read everyone's
    assert ("RP-P002", "medium") in escalate
    broad = rules(findings, "broad")
    assert ("RP-P005", "medium") in broad  # kv:* and no deny
    assert ("RP-P004", "low") in broad  # topic:unused and the unread secret
    assert ("RP-P006", "medium") in broad  # publishes to a topic it may not
    assert not any(s == "high" for _, s in broad)
    assert rules(findings, "tidy") == set()  # reachable helper counts as use


def test_cli_exit_codes(tmp_path: Path) -> None:
    app = make_app(tmp_path / "app", MANIFEST, {"h.py": CODE})
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "policy", "lint", str(app), "--format", "json"],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 1
    assert any(f["severity"] == "high" for f in json.loads(done.stdout))
    tidy = MANIFEST.split("  admin:")[0] + "  tidy:" + MANIFEST.split("  tidy:")[1]
    app2 = make_app(tmp_path / "tidy", tidy, {"h.py": CODE})
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "policy", "lint", str(app2)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "no findings" in done.stdout
    bad = make_app(tmp_path / "bad", tidy.replace("kv:GetItem", "kv GetItem"), {"h.py": CODE})
    done = subprocess.run(
        [sys.executable, "-m", "ramparts.cli.main", "policy", "lint", str(bad)],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "functions.tidy.role.statements[0].actions[0]" in done.stderr


def test_static_read() -> None:
    found = scan_source(
        """
def handler(event, ctx):
    ctx.kv.get("orders", "o-1")
    ctx.kv.query("orders", prefix="o-")
    ctx.objects.put("uploads", f"images/{event['id']}.png", b"")
    ctx.publish(event["topic"], {})
    ctx.secrets.get(name="api-key")
    ctx.invoke("ship", {})
    event.publish("not-a-context-call")
""",
        entry="handler",
    )
    assert [(a.action, a.resource) for a in found] == [
        ("kv:GetItem", "kv:orders/o-1"),
        ("kv:Query", "kv:orders/*"),
        ("objects:PutObject", "objects:uploads/images/*.png"),
        ("topics:Publish", None),
        ("secrets:GetSecretValue", "secret:api-key"),
        ("functions:Invoke", "function:ship"),
    ]


AWS_MANIFEST = """
app: lintaws
functions:
  own:
    handler: h.py:tidy
    role:
      statements:
        - {effect: allow, actions: ["s3:GetObject"], resources: ["arn:aws:s3:::uploads/*"]}
        - {effect: allow, actions: ["s3:ListBucket"], resources: ["arn:aws:s3:::uploads"]}
  foreign:
    handler: h.py:tidy
    role:
      statements:
        - effect: allow
          actions: ["dynamodb:GetItem"]
          resources: ["arn:aws:dynamodb:us-east-1:111111111111:table/orders"]
"""


def test_aws_arns_are_scoped_like_the_native_resources_they_stand_for(tmp_path: Path) -> None:
    app = make_app(tmp_path / "aws", AWS_MANIFEST, {"h.py": "def tidy(e, c):\n    return 1\n"})
    findings = lint_app(app)
    # an S3 ARN names no account: it is this app's bucket, not another app's
    assert not any(f.function == "own" and "outside app" in f.message for f in findings), findings
    # another account's ARN reaches nothing of this app: still flagged
    assert any(f.function == "foreign" and "outside app" in f.message for f in findings)


def test_aws_arns_of_the_app_are_not_outside_it(tmp_path: Path) -> None:
    """A role in AWS names (``arn:aws:...:*:...``) reaches this app's resources; another
    account's ARN is still access outside the app."""
    from ramparts.aws.accounts import account_id

    other = account_id("someone-else")
    manifest = f"""
app: lint-aws
functions:
  named:
    handler: h.py:handler
    role:
      statements:
        - {{effect: allow, actions: ["secretsmanager:GetSecretValue"],
            resources: ["arn:aws:secretsmanager:*:*:secret:db-??????",
                        "arn:aws:secretsmanager:us-east-1:{account_id('lint-aws')}:secret:x"]}}
        - {{effect: allow, actions: ["kms:Decrypt"], resources: ["arn:aws:kms:*:*:alias/orders"]}}
  foreign:
    handler: h.py:handler
    role:
      statements:
        - {{effect: allow, actions: ["secretsmanager:GetSecretValue"],
            resources: ["arn:aws:secretsmanager:*:{other}:secret:db"]}}
"""
    code = "def handler(event, context):\n    return 1\n"
    findings = lint_app(make_app(tmp_path / "app", manifest, {"h.py": code}))
    assert ("RP-P002", "high") not in rules(findings, "named")
    assert ("RP-P002", "high") in rules(findings, "foreign")
