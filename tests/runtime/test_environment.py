"""A worker's environment the Lambda way, on a real node: the runtime variables
Lambda sets, and ``environment: {VAR: {secret: NAME}}`` read from ``os.environ``."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

# A handler written as AWS documents it: configuration and secrets come from os.environ.
HANDLER = """
import os

LAMBDA_VARS = (
    "AWS_LAMBDA_FUNCTION_NAME", "AWS_LAMBDA_FUNCTION_VERSION",
    "AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "AWS_REGION", "AWS_DEFAULT_REGION",
    "LAMBDA_TASK_ROOT", "_HANDLER", "AWS_EXECUTION_ENV",
    "AWS_LAMBDA_LOG_GROUP_NAME", "AWS_LAMBDA_LOG_STREAM_NAME",
)
SECRET_AT_INIT = os.environ.get("WEBHOOK_SECRET")


def env(event, context):
    return {name: os.environ.get(name) for name in LAMBDA_VARS}


def secret(event, context):
    value = os.environ["WEBHOOK_SECRET"]
    print("the secret is", value)
    return {"value": value, "at_init": SECRET_AT_INIT == value,
            "queue": os.environ.get("QUEUE_ARN")}
"""

MANIFEST = """
app: envapp
functions:
  show-env:
    handler: h.env
    memory: 256Mi
  by-list:
    handler: h.secret
    secrets: [hook-secret]
    environment:
      WEBHOOK_SECRET: {secret: hook-secret}
      QUEUE_ARN: "arn:aws:sqs:us-east-1:123456789012:orders-queue"
  by-role:
    handler: h.secret
    role:
      statements:
        - {effect: allow, actions: ["secrets:GetSecretValue"], resources: ["secret:hook-*"]}
    environment:
      WEBHOOK_SECRET: {secret: hook-secret}
"""

FIRST = "whk-first-Zq8vN3xR7pL2mK9t"
SECOND = "whk-second-Yb4cT6wQ1sJ5hG8d"


@pytest.fixture(scope="module")
def envnode(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    base = tmp_path_factory.mktemp("envnode")
    running = RunningNode(base / "data")
    running.start()
    try:
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def envapp(envnode: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    r = envnode.control.put(
        "/v1/secrets/hook-secret", params={"app": "envapp"}, json={"value": FIRST}
    )
    assert r.status_code == 200, r.text
    app = make_app(tmp_path_factory.mktemp("envapp") / "app", MANIFEST, {"h.py": HANDLER})
    envnode.deploy_ok(app)
    return envnode


def _call(node: RunningNode, function: str) -> dict:
    r = node.control.post(f"/v1/functions/{function}/invoke", json={})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["status"] == "ok", body
    return body


def _invoke(node: RunningNode, function: str) -> dict:
    body = _call(node, function)
    assert FIRST not in body["logs"] and SECOND not in body["logs"]
    return body["result"]


def test_lambda_runtime_variables(envapp: RunningNode) -> None:
    body = _call(envapp, "show-env")
    out = body["result"]
    assert out["AWS_LAMBDA_FUNCTION_NAME"] == "show-env"
    assert out["AWS_LAMBDA_FUNCTION_VERSION"] == body["version"]
    assert out["AWS_LAMBDA_FUNCTION_MEMORY_SIZE"] == "256"
    assert out["AWS_REGION"] == out["AWS_DEFAULT_REGION"] == "us-east-1"
    assert out["LAMBDA_TASK_ROOT"] == "/var/task"
    assert out["_HANDLER"] == "h.env"
    assert out["AWS_EXECUTION_ENV"] == "AWS_Lambda_python3.11"
    assert out["AWS_LAMBDA_LOG_GROUP_NAME"] == "/aws/lambda/show-env"
    assert out["AWS_LAMBDA_LOG_STREAM_NAME"]


def test_region_flag(tmp_path: Path) -> None:
    running = RunningNode(tmp_path / "data")

    class _Regional(RunningNode):
        def command(self) -> list[str]:
            return [*super().command(), "--region", "eu-west-3"]

    running.__class__ = _Regional
    running.start()
    try:
        app = make_app(
            tmp_path / "app", "app: reg\nfunctions:\n  e:\n    handler: h.env\n", {"h.py": HANDLER}
        )
        running.deploy_ok(app)
        out = _invoke(running, "e")
        assert out["AWS_REGION"] == out["AWS_DEFAULT_REGION"] == "eu-west-3"
    finally:
        running.close()
    bad = RunningNode(tmp_path / "data2").cli("up", "--region", "mars/1", "--port", "0")
    assert bad.returncode != 0 and "--region" in bad.stderr
    assert "Traceback" not in bad.stderr


def test_secret_from_environment_via_secrets_list_and_role(envapp: RunningNode) -> None:
    for function in ("by-list", "by-role"):
        out = _invoke(envapp, function)
        assert out["value"] == FIRST and out["at_init"] is True, function
    assert out["queue"] is None  # by-role has no QUEUE_ARN
    assert _invoke(envapp, "by-list")["queue"].startswith("arn:aws:sqs:")
    # The value never reaches the evidence: invocation records, logs, audit.
    for function in ("by-list", "by-role"):
        rows = envapp.invocations(function)
        assert rows and FIRST not in json.dumps(rows)
        logs = envapp.cli("logs", function)
        assert logs.returncode == 0, logs.stderr
        assert FIRST not in logs.stdout
    audit = envapp.audit()
    assert FIRST not in json.dumps(audit)
    reads = [
        e
        for e in audit
        if e.get("action") == "secrets:GetSecretValue"
        and e.get("resource") == "arn:ramparts:secrets:envapp:secret/hook-secret"
        and str(e.get("principal", "")).startswith("function:by-")
    ]
    assert {e["principal"].split("@")[0] for e in reads} == {"function:by-list", "function:by-role"}
    assert all(e["decision"] == "allow" for e in reads)


def test_rotation_reaches_new_workers(envapp: RunningNode) -> None:
    assert _invoke(envapp, "by-list")["value"] == FIRST
    r = envapp.control.post(
        "/v1/secrets/hook-secret/rotate", params={"app": "envapp"}, json={"value": SECOND}
    )
    assert r.status_code == 200, r.text
    deadline = time.monotonic() + 30
    seen = None
    while time.monotonic() < deadline:
        seen = _invoke(envapp, "by-list")["value"]
        if seen == SECOND:
            break
        time.sleep(0.2)
    assert seen == SECOND
    assert _invoke(envapp, "by-role")["value"] == SECOND
    assert SECOND not in json.dumps(envapp.invocations("by-list"))


def test_secret_reference_the_policy_does_not_allow_is_refused(
    envapp: RunningNode, tmp_path: Path
) -> None:
    before = _invoke(envapp, "by-list")["value"]
    denied = """
    app: envapp
    functions:
      by-list:
        handler: h.secret
        environment:
          WEBHOOK_SECRET: {secret: hook-secret}
    """
    r = envapp.deploy(make_app(tmp_path / "denied", denied, {"h.py": HANDLER}))
    assert r.status_code == 422, r.text
    assert r.json()["code"] == "invalid_manifest"
    assert "functions.by-list.environment.WEBHOOK_SECRET" in r.text
    assert "secrets:GetSecretValue" in r.text
    # nothing changed: the live version still reads its secret
    assert _invoke(envapp, "by-list")["value"] == before


def test_secret_denied_at_start_fails_closed(envnode: RunningNode, tmp_path: Path) -> None:
    """A role whose decision needs run-time context: refused at worker start, audited."""
    manifest = """
    app: envapp2
    functions:
      gated:
        handler: h.secret
        role:
          statements:
            - effect: allow
              actions: ["secrets:GetSecretValue"]
              resources: ["secret:hook-secret"]
              conditions: {StringEquals: {"ramparts:requestid": "never"}}
        environment:
          WEBHOOK_SECRET: {secret: hook-secret}
    """
    envnode.control.put("/v1/secrets/hook-secret", params={"app": "envapp2"}, json={"value": FIRST})
    r = envnode.deploy(make_app(tmp_path / "gated", manifest, {"h.py": HANDLER}))
    # the deploy's own start of the zygote is where it fails: refused, value not shown
    assert r.status_code >= 400, r.text
    assert "WEBHOOK_SECRET" in r.text and "hook-secret" in r.text and FIRST not in r.text
    assert envnode.control.post("/v1/functions/gated/invoke", json={}).status_code == 404
    denials = [
        e
        for e in envnode.audit()
        if e.get("action") == "secrets:GetSecretValue"
        and str(e.get("principal", "")).startswith("function:gated")
        and e.get("decision") == "deny"
    ]
    assert denials


@pytest.mark.parametrize(
    ("value", "refused"),
    [
        ("arn:aws:secretsmanager:us-east-1:123456789012:secret:db-pass-AbCdEf", False),
        ("prod/db/password", False),
        ("/myapp/prod/db-password", False),
        ("db-password", True),  # without a path it may be a passphrase
        ("correct-horse-battery", True),
        ("hunter2hunter2XyZ", True),
        ("sk_live_4eC39HqLyjWDarjtT1zdp7dc", True),
    ],
)
def test_secret_named_variables_take_references(value: str, refused: bool) -> None:
    from ramparts.errors import ManifestError
    from ramparts.manifest import parse_manifest

    data = {
        "app": "a",
        "functions": {"f": {"handler": "h.f", "environment": {"DB_PASSWORD_SECRET": value}}},
    }
    if refused:
        with pytest.raises(ManifestError) as exc:
            parse_manifest(data)
        assert "environment.DB_PASSWORD_SECRET" in str(exc.value)
    else:
        parse_manifest(data)


def test_user_set_aws_variables_stay_refused() -> None:
    from ramparts.errors import ManifestError
    from ramparts.manifest import parse_manifest

    for name in ("AWS_REGION", "AWS_LAMBDA_FUNCTION_NAME", "_HANDLER"):
        data = {"app": "a", "functions": {"f": {"handler": "h.f", "environment": {name: "x"}}}}
        with pytest.raises(ManifestError) as exc:
            parse_manifest(data)
        assert f"functions.f.environment.{name}" in str(exc.value) or name in str(exc.value)
    bad_ref = {
        "app": "a",
        "functions": {
            "f": {"handler": "h.f", "secrets": ["x"], "environment": {"V": {"secret": "../x"}}}
        },
    }
    with pytest.raises(ManifestError) as exc:
        parse_manifest(bad_ref)
    assert "functions.f.environment.V" in str(exc.value)
