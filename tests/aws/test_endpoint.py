"""Attacks on the AWS endpoint: each refused with the AWS error code botocore expects, audited,
and no credential, token or signature in logs, audit events or invocation records.

Credentials live the default hour here, so a slow deploy on a loaded machine cannot turn
a refusal into ExpiredToken; the expiry attacks run on a node of their own
(tests/aws/test_endpoint_expiry.py)."""

from __future__ import annotations

import datetime as dt
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from botocore.exceptions import ClientError

from tests.aws.conftest import BOTO_CONFIG, boto_client, function_credentials
from tests.aws.endpoint_attacks import (
    STS_BODY,
    assert_not_leaked,
    attack_app,
    code,
    denials,
    send,
    signed,
    start_attack_node,
)
from tests.conftest import RunningNode, make_app


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningNode]:
    running = start_attack_node(tmp_path_factory)
    try:
        yield running
    finally:
        running.close()


def test_a_correctly_signed_call_is_accepted_and_audited(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    r = send(signed(creds))
    assert r.status_code == 200, r.text
    assert "assumed-role/alpha/" in r.text
    allowed = [e for e in node.audit() if e["kind"] == "aws.auth" and e["decision"] == "allow"]
    assert allowed and allowed[-1]["principal"].startswith("function:alpha@")


def test_a_wrong_secret_is_signature_does_not_match(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    request = signed(creds, secret="x" * 40)
    r = send(request)
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")
    assert denials(node, "mismatch")
    signature = request.headers["Authorization"].rsplit("Signature=", 1)[1]
    assert_not_leaked(node, creds["SecretAccessKey"], creds["Token"], signature)


def test_a_real_token_with_a_wrong_signature_is_audited_as_the_address(
    node: RunningNode,
) -> None:
    """A leaked token does not prove the function: evidence must not aim at it (F8)."""
    creds = function_credentials(node, "alpha")
    r = send(signed(creds, secret="y" * 40))
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")
    denied = denials(node, "mismatch")
    assert denied
    last = denied[-1]
    assert last["principal"].startswith("ip:"), last
    assert last["detail"]["claimed_function"] == f"alpha@{creds['Version'][:12]}"
    assert "function" not in last["detail"]  # nothing an alert's context reads as the target
    # a verified call names the function as principal and carries no claim
    assert send(signed(creds)).status_code == 200
    allowed = [e for e in node.audit() if e["kind"] == "aws.auth" and e["decision"] == "allow"]
    assert allowed[-1]["principal"] == f"function:alpha@{creds['Version'][:12]}"
    assert "claimed_function" not in allowed[-1]["detail"]


def test_a_tampered_body_or_signed_header_is_refused(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    request = signed(creds)
    tampered = send(request, body=STS_BODY.replace(b"2011", b"2012"))
    assert (tampered.status_code, code(tampered)) == (403, "SignatureDoesNotMatch")
    other_type = send(request, **{"Content-Type": "text/plain"})
    assert (other_type.status_code, code(other_type)) == (403, "SignatureDoesNotMatch")
    assert send(request).status_code == 200  # the untouched request still verifies


def test_another_functions_token_with_this_functions_key_is_refused(node: RunningNode) -> None:
    mine = function_credentials(node, "alpha")
    theirs = function_credentials(node, "beta")
    r = send(signed(mine, token=theirs["Token"]))
    assert (r.status_code, code(r)) == (403, "InvalidClientTokenId")
    assert denials(node, "token_mismatch")
    # and their key id + token signed with my secret does not verify either
    r = send(signed(theirs, secret=mine["SecretAccessKey"]))
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")


def test_forged_or_missing_tokens_are_invalid_client_token_id(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    for token in ("", "A" * 120, creds["Token"][:-4] + "AAAA"):
        r = send(signed(creds, token=token))
        assert (r.status_code, code(r)) == (403, "InvalidClientTokenId"), token
    r = send(signed(creds, key="AKIAIOSFODNN7EXAMPLE"))
    assert (r.status_code, code(r)) == (403, "InvalidClientTokenId")


def test_clock_skew_over_15_minutes_is_refused(
    node: RunningNode, monkeypatch: pytest.MonkeyPatch
) -> None:
    import botocore.auth

    creds = function_credentials(node, "alpha")
    past = dt.datetime.now(dt.UTC).replace(tzinfo=None) - dt.timedelta(minutes=20)
    monkeypatch.setattr(botocore.auth, "get_current_datetime", lambda: past)
    r = send(signed(creds))
    assert (r.status_code, code(r)) == (403, "InvalidSignatureException")
    assert denials(node, "skewed")


def test_a_credential_scoped_to_another_region_is_refused(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    r = send(signed(creds, region="eu-west-1"))
    assert (r.status_code, code(r)) == (403, "SignatureDoesNotMatch")


def test_an_expired_presigned_url_is_refused(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    sts = boto3.session.Session().client(
        "sts",
        endpoint_url=creds["Endpoint"],
        region_name=creds["Region"],
        aws_access_key_id=creds["AccessKeyId"],
        aws_secret_access_key=creds["SecretAccessKey"],
        aws_session_token=creds["Token"],
        config=BOTO_CONFIG,
    )
    url = sts.generate_presigned_url("get_caller_identity", ExpiresIn=5)
    # botocore presigns awsQuery operations with their own method, POST
    first = httpx.post(url, timeout=30)
    assert first.status_code == 200, first.text  # within its lifetime
    wrong_method = httpx.get(url, timeout=30)
    assert (wrong_method.status_code, code(wrong_method)) == (403, "SignatureDoesNotMatch")
    time.sleep(6)
    r = httpx.post(url, timeout=30)
    assert (r.status_code, code(r)) == (403, "AccessDenied")
    assert "Request has expired" in r.text
    assert denials(node, "url_expired")


def test_an_unknown_service_is_named(node: RunningNode) -> None:
    cfn = boto_client(node, "cloudformation", "alpha")
    with pytest.raises(ClientError) as err:
        cfn.list_stacks()
    assert err.value.response["Error"]["Code"] == "UnrecognizedService"
    assert "cloudformation" in err.value.response["Error"]["Message"]
    assert denials(node, "unknown_service")


def test_an_oversized_body_is_refused_and_the_connection_closed(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    body = STS_BODY + b"&Pad=" + b"x" * 70_000
    r = send(signed(creds, body))
    assert (r.status_code, code(r)) == (413, "RequestEntityTooLarge")
    assert r.headers.get("connection") == "close"
    assert denials(node, "body_too_large")


def test_credentials_of_a_retired_version_are_refused(node: RunningNode, tmp_path: Path) -> None:
    old = function_credentials(node, "alpha")
    assert send(signed(old)).status_code == 200
    node.deploy_ok(attack_app(tmp_path, version=2))
    r = send(signed(old))
    assert (r.status_code, code(r)) == (403, "InvalidClientTokenId")
    retired = denials(node, "version_not_live")
    assert retired
    # the signature was never checked: the function is only claimed, the address is blamed
    assert retired[-1]["principal"].startswith("ip:")
    assert retired[-1]["detail"]["claimed_function"] == f"alpha@{old['Version'][:12]}"
    fresh = function_credentials(node, "alpha")
    assert fresh["Version"] != old["Version"]
    assert send(signed(fresh)).status_code == 200


def test_the_container_endpoint_refuses_missing_and_forged_tokens(node: RunningNode) -> None:
    url = f"http://127.0.0.1:{node.port}/_ramparts/aws/credentials"
    assert httpx.get(url, timeout=30).status_code == 401
    creds = function_credentials(node, "alpha")
    for token in ("rpct_" + "A" * 80, creds["Token"], "nonsense"):
        r = httpx.get(url, headers={"Authorization": token}, timeout=30)
        assert r.status_code == 403, token
    assert httpx.post(url, timeout=30).status_code == 405
    assert httpx.get(f"http://127.0.0.1:{node.port}/_ramparts/other", timeout=30).status_code == 404
    denied = [e for e in node.audit() if e["kind"] == "aws.credentials" and e["decision"] == "deny"]
    assert {e["detail"]["reason"] for e in denied} >= {
        "missing_token",
        "token_unknown",
        "token_malformed",
    }


def test_a_manifest_route_under_ramparts_is_refused(node: RunningNode, tmp_path: Path) -> None:
    root = make_app(
        tmp_path / "bad",
        """
        app: bad
        functions:
          f:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /_ramparts/aws/credentials, auth: none}
        """,
        {"h.py": "def handler(event, context):\n    return {}\n"},
    )
    r = node.deploy(root)
    assert r.status_code == 422, r.text
    assert "/_ramparts/" in r.text


def test_a_captured_request_sent_again_is_refused(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    request = signed(creds)
    headers = {"amz-sdk-invocation-id": "11111111-2222-3333-4444-555555555555"}
    assert send(request, **headers).status_code == 200
    again = send(request, **headers)
    assert (again.status_code, code(again)) == (403, "InvalidSignatureException")
    assert denials(node, "replayed")


def test_identical_calls_in_one_second_are_not_replays(node: RunningNode) -> None:
    """botocore does not sign amz-sdk-invocation-id; identical calls share a signature."""
    sts = boto_client(node, "sts", "beta")
    seen: list[str] = []

    def grab(request: Any, **_: Any) -> None:
        seen.append(request.headers["Authorization"].decode().rsplit("Signature=", 1)[1])

    sts.meta.events.register("before-send", grab)
    for _ in range(10):
        assert sts.get_caller_identity()["Arn"]
    assert len(seen) == 10


def test_a_refusal_before_the_body_is_read_closes_the_connection(node: RunningNode) -> None:
    creds = function_credentials(node, "alpha")
    request = signed(creds, service="cloudformation")
    r = send(request)
    assert (r.status_code, code(r)) == (400, "UnrecognizedService")
    assert r.headers.get("connection") == "close"
