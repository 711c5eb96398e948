"""What a sandboxed worker sees: the AWS variables, the SDK config, boto3, and no credentials."""

from __future__ import annotations

import json
from typing import Any

import pytest

from tests.conftest import RunningNode, make_app

HANDLER = """
import os
import boto3, botocore

def handler(event, context):
    path = os.environ["AWS_CONFIG_FILE"]
    try:
        with open(path, "a") as f:
            f.write("x")
        writable = True
    except OSError:
        writable = False
    with open(path) as f:
        config = f.read()
    s3 = boto3.client("s3")
    url = s3.generate_presigned_url("get_object", Params={"Bucket": "b", "Key": "k"})
    return {
        "env": {k: v for k, v in os.environ.items() if k.startswith("AWS_")},
        "config": config,
        "writable": writable,
        "boto3": boto3.__file__,
        "botocore": botocore.__version__,
        "presigned": url,
    }
"""


@pytest.fixture(scope="module")
def seen(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = make_app(
        tmp_path_factory.mktemp("rt") / "rt",
        "app: rt\nfunctions:\n  peek:\n    handler: h.py:handler\n",
        {"h.py": HANDLER},
    )
    aws_node.deploy_ok(root)
    r = aws_node.control.post("/v1/functions/peek/invoke", json={})
    assert r.status_code == 200, r.text
    out = r.json()
    return out.get("result", out)  # type: ignore[no-any-return]


def test_workers_get_the_endpoint_and_the_container_provider_only(
    aws_node: RunningNode, seen: dict[str, Any]
) -> None:
    env = seen["env"]
    endpoint = f"http://127.0.0.1:{aws_node.port}"
    assert env["AWS_ENDPOINT_URL"] == endpoint
    assert env["AWS_CONTAINER_CREDENTIALS_FULL_URI"] == endpoint + "/_ramparts/aws/credentials"
    assert env["AWS_CONTAINER_AUTHORIZATION_TOKEN"].startswith("rpct_")
    assert env["AWS_REGION"] == env["AWS_DEFAULT_REGION"] == "us-east-1"
    # never long-lived keys in the environment: botocore would prefer them and go stale
    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"):
        assert name not in env


def test_the_sdk_config_is_read_only_and_makes_s3_path_style_sigv4(seen: dict[str, Any]) -> None:
    assert seen["env"]["AWS_CONFIG_FILE"] == "/var/runtime/aws/config"
    assert "addressing_style = path" in seen["config"]
    assert "signature_version = s3v4" in seen["config"]
    assert seen["writable"] is False
    url = seen["presigned"]
    assert "/b/k?" in url and "X-Amz-Signature=" in url and "X-Amz-Credential=" in url


def test_boto3_is_the_runtimes_own_without_requirements(seen: dict[str, Any]) -> None:
    assert seen["boto3"].startswith("/var/runtime/sdk/boto3/")


def test_the_container_token_is_not_in_the_node_log(
    aws_node: RunningNode, seen: dict[str, Any]
) -> None:
    token = seen["env"]["AWS_CONTAINER_AUTHORIZATION_TOKEN"]
    assert token not in aws_node.log_text()
    assert token not in json.dumps(aws_node.audit())


LEAKY = """
import os
import boto3

def handler(event, context):
    creds = boto3.Session().get_credentials().get_frozen_credentials()
    print("K1", creds.access_key, "K2")
    print("S1", creds.secret_key, "S2")
    print("T1", creds.token, "T2")
    print("C1", os.environ["AWS_CONTAINER_AUTHORIZATION_TOKEN"], "C2")
    return {"printed": 4}
"""


def test_credentials_a_handler_prints_are_masked_in_its_logs(
    aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory
) -> None:
    # adversarial review: the secret key, session token and container token were stored verbatim
    root = make_app(
        tmp_path_factory.mktemp("leak") / "leak",
        "app: leak\nfunctions:\n  leaky:\n    handler: h.py:handler\n",
        {"h.py": LEAKY},
    )
    aws_node.deploy_ok(root)
    r = aws_node.control.post("/v1/functions/leaky/invoke", json={})
    assert r.status_code == 200, r.text
    logs = r.json()["logs"]
    for mark in ("K", "S", "T", "C"):
        assert f"{mark}1 *** {mark}2" in logs, logs
    stored = aws_node.cli("logs", "leaky")
    assert stored.returncode == 0, stored.stderr
    for mark in ("K", "S", "T", "C"):
        assert f"{mark}1 *** {mark}2" in stored.stdout, stored.stdout
