"""Expired AWS credentials on the endpoint: refused as ExpiredToken, audited, leaked
nowhere; a worker that outlives its credentials renews them.  Credentials live 4
seconds on this node (the other attacks, tests/aws/test_endpoint.py, use the default
hour so a slow machine cannot expire them mid-test)."""

from __future__ import annotations

import time
from collections.abc import Iterator

import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import boto_client, function_credentials
from tests.aws.endpoint_attacks import assert_not_leaked, denials, start_attack_node
from tests.conftest import RunningNode


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    running = start_attack_node(tmp_path_factory, credentials_ttl=4)
    try:
        yield running
    finally:
        running.close()


def test_expired_credentials_are_expired_token(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    sts = boto_client(node, "sts", "alpha")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            sts.get_caller_identity()
        except ClientError as exc:
            assert exc.response["Error"]["Code"] == "ExpiredToken"
            break
        time.sleep(0.5)
    else:
        raise AssertionError("credentials with a 4 s lifetime never expired")
    assert denials(node, "token_expired")
    assert_not_leaked(node, creds["SecretAccessKey"], creds["Token"])



def test_a_long_lived_worker_renews_its_credentials(node: RunningNode) -> None:
    """botocore's container provider refreshes; a worker never keeps an expired key."""
    # the handler sleeps past its 4 s credentials between two STS calls (the control
    # API takes the event under "event": a bare {"sleep": 6} slept 0 s and proved nothing)
    r = node.control.post("/v1/functions/alpha/invoke", json={"event": {"sleep": 6}})
    assert r.status_code == 200, r.text
    out = r.json().get("result", r.json())
    assert "assumed-role/alpha/" in out["second"], out
    env_calls = [e for e in node.audit() if e["kind"] == "aws.credentials"]
    assert len([e for e in env_calls if e["decision"] == "allow"]) >= 2


