"""STS GetCallerIdentity from the test process and from inside a sandboxed handler."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from botocore.exceptions import ClientError

from ramparts.aws.accounts import account_id
from tests.aws.conftest import boto_client, function_credentials
from tests.conftest import RunningNode, make_app

MANIFEST = """
app: who
functions:
  whoami:
    handler: h.py:handler
  other:
    handler: h.py:handler
"""

HANDLER = """
import boto3

def handler(event, context):
    ident = boto3.client("sts").get_caller_identity()
    return {"Account": ident["Account"], "Arn": ident["Arn"], "UserId": ident["UserId"]}
"""


@pytest.fixture(scope="module")
def app(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    root = make_app(tmp_path_factory.mktemp("who") / "who", MANIFEST, {"h.py": HANDLER})
    return aws_node.deploy_ok(root)


def test_get_caller_identity_with_function_credentials(
    aws_node: RunningNode, app: dict[str, Any]
) -> None:
    sts = boto_client(aws_node, "sts", "whoami", app="who")
    ident = sts.get_caller_identity()
    creds = function_credentials(aws_node, "whoami")
    assert ident["Account"] == account_id("who")
    assert ident["Arn"] == (
        f"arn:aws:sts::{account_id('who')}:assumed-role/whoami/{creds['Version']}"
    )
    assert ident["UserId"] == f"RAMPARTS:whoami:{creds['Version'][:12]}"


def test_get_caller_identity_inside_a_handler_with_zero_configuration(
    aws_node: RunningNode, app: dict[str, Any]
) -> None:
    r = aws_node.control.post("/v1/functions/whoami/invoke", json={})
    assert r.status_code == 200, r.text
    out = r.json()
    result = out.get("result", out)
    if isinstance(result, str):
        result = json.loads(result)
    assert result["Account"] == account_id("who"), out
    assert result["Arn"].startswith(f"arn:aws:sts::{account_id('who')}:assumed-role/whoami/")


def test_an_unknown_sts_action_is_named(aws_node: RunningNode, app: dict[str, Any]) -> None:
    sts = boto_client(aws_node, "sts", "whoami")
    with pytest.raises(ClientError) as err:
        sts.get_session_token()
    assert err.value.response["Error"]["Code"] == "InvalidAction"
    assert "GetSessionToken" in err.value.response["Error"]["Message"]


def test_the_cli_prints_credentials_with_endpoint_and_region(
    aws_node: RunningNode, app: dict[str, Any], tmp_path: Path
) -> None:
    done = aws_node.cli("aws", "credentials", "whoami", "--app", "who")
    assert done.returncode == 0, done.stderr
    out = json.loads(done.stdout)
    assert out["AccessKeyId"].startswith("ASIA") and len(out["AccessKeyId"]) == 20
    assert out["Endpoint"] == f"http://127.0.0.1:{aws_node.port}"
    assert out["Region"] == "us-east-1"
    assert {"SecretAccessKey", "Token", "Expiration"} <= set(out)
    wrong = aws_node.cli("aws", "credentials", "whoami", "--app", "nope")
    assert wrong.returncode != 0 and "not found" in (wrong.stderr + wrong.stdout)
    issued = [e for e in aws_node.audit() if e["kind"] == "aws.credentials_issued"]
    assert issued and out["SecretAccessKey"] not in json.dumps(issued)


def test_the_answer_has_the_shape_of_the_reference(
    aws_node: RunningNode, app: dict[str, Any], moto_server: str
) -> None:
    import boto3

    reference = (
        boto3.session.Session()
        .client(
            "sts",
            endpoint_url=moto_server,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        .get_caller_identity()
    )
    ours = boto_client(aws_node, "sts", "whoami").get_caller_identity()
    assert set(ours) == set(reference)  # UserId, Account, Arn, ResponseMetadata
    assert len(ours["Account"]) == len(reference["Account"]) == 12
    assert ours["Arn"].split(":")[:3] == reference["Arn"].split(":")[:3] == ["arn", "aws", "sts"]


MODULE_SCOPE = """
import boto3

sts = boto3.client("sts")  # at module scope, as AWS's examples write it
AT_IMPORT = sts.get_caller_identity()["Arn"]  # init code may call AWS, as on Lambda

def handler(event, context):
    return {"at_import": AT_IMPORT, "now": sts.get_caller_identity()["Arn"]}
"""


def test_a_client_made_and_used_at_module_scope_deploys_and_works(
    aws_node: RunningNode, tmp_path: Path
) -> None:
    manifest = "app: early\nfunctions:\n  early:\n    handler: h.py:handler\n"
    aws_node.deploy_ok(make_app(tmp_path / "early", manifest, {"h.py": MODULE_SCOPE}))
    r = aws_node.control.post("/v1/functions/early/invoke", json={})
    assert r.status_code == 200, r.text
    out = r.json()
    result = out.get("result", out)
    if isinstance(result, str):
        result = json.loads(result)
    prefix = f"arn:aws:sts::{account_id('early')}:assumed-role/early/"
    assert result["at_import"].startswith(prefix), out
    assert result["now"] == result["at_import"]
