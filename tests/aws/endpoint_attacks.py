"""What the attacks on the AWS endpoint share: the app they run against, a node for it,
SigV4-signed requests built by hand (so one part can be forged), and the audit and
leak checks (tests/aws/test_endpoint.py, tests/aws/test_endpoint_expiry.py)."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest
from botocore.auth import SigV4Auth
from botocore.awsrequest import AWSRequest
from botocore.credentials import Credentials

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: {app}
functions:
  alpha:
    handler: h.py:handler
  beta:
    handler: h.py:handler
"""

HANDLER = """
import time
import boto3

def handler(event, context):
    sts = boto3.client("sts")
    first = sts.get_caller_identity()["Arn"]
    time.sleep(event.get("sleep", 0))
    return {"first": first, "second": sts.get_caller_identity()["Arn"]}  # {version}
"""

STS_BODY = b"Action=GetCallerIdentity&Version=2011-06-15"


def attack_app(root: Path, name: str = "atk", version: int = 1) -> Path:
    return make_app(
        root / f"{name}-{version}",
        MANIFEST.format(app=name),
        {"h.py": HANDLER.replace("{version}", str(version))},
    )




def start_attack_node(
    tmp_path_factory: pytest.TempPathFactory, credentials_ttl: int | None = None
) -> RunningNode:
    """A node with the attack app deployed, AWS bodies at most 64 KiB, and credentials
    living ``credentials_ttl`` seconds (the default hour when None)."""
    env = {"RAMPARTS_AWS_MAX_BODY_BYTES": "65536"}
    if credentials_ttl is not None:
        env["RAMPARTS_AWS_CREDENTIALS_TTL"] = str(credentials_ttl)
    running = RunningNode(tmp_path_factory.mktemp("aws-attacks") / "data", env)
    running.start()
    try:
        running.deploy_ok(attack_app(tmp_path_factory.mktemp("apps")))
    except BaseException:
        running.close()
        raise
    return running


def signed(
    creds: dict[str, Any],
    body: bytes = STS_BODY,
    *,
    secret: str | None = None,
    token: str | None = None,
    key: str | None = None,
    service: str = "sts",
    region: str | None = None,
) -> AWSRequest:
    request = AWSRequest(
        method="POST",
        url=creds["Endpoint"] + "/",
        data=body,
        headers={"Content-Type": "application/x-www-form-urlencoded; charset=utf-8"},
    )
    SigV4Auth(
        Credentials(
            key or creds["AccessKeyId"],
            secret or creds["SecretAccessKey"],
            token if token is not None else creds["Token"],
        ),
        service,
        region or creds["Region"],
    ).add_auth(request)
    return request


def send(request: AWSRequest, body: bytes | None = None, **headers: str) -> httpx.Response:
    sent = dict(request.headers.items())
    sent.update(headers)
    return httpx.post(
        request.url, content=request.body if body is None else body, headers=sent, timeout=30
    )


def code(response: httpx.Response) -> str:
    text = response.text
    return text.split("<Code>", 1)[1].split("</Code>", 1)[0] if "<Code>" in text else text


def denials(node: RunningNode, reason: str) -> list[dict[str, Any]]:
    """The ``aws.auth`` denials with ``reason`` (waiting for the audit buffer to flush)."""
    deadline = time.monotonic() + 15
    while True:
        found = [
            e
            for e in node.audit()
            if e["kind"] in ("aws.auth", "aws.credentials")
            and e["decision"] == "deny"
            and e["detail"].get("reason") == reason
        ]
        if found or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def assert_not_leaked(node: RunningNode, *values: str) -> None:
    time.sleep(0.5)  # the audit buffer flushes on its own; the API flushes too
    audit = json.dumps(node.audit())
    log = node.log_text()
    records = json.dumps(node.invocations("alpha"))
    for value in values:
        assert value not in audit and value not in log and value not in records


