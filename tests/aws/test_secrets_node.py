"""Secrets Manager, SSM and KMS through boto3 inside sandboxed handlers on a real node."""

from __future__ import annotations

import base64
import hashlib
import json
from typing import Any

import pytest

from ramparts.aws.secretnames import secret_arn
from tests.conftest import RunningNode, make_app

APP = "sec-app"
DB_VALUE = "Db-Pa55-Value-3e9a41"
API_VALUE = "Api-Token-Value-77c2b0"
ARN = secret_arn(APP, "us-east-1", "db.password")

MANIFEST = f"""
app: {APP}
functions:
  sm-reader:
    handler: h.py:handler
    environment: {{SECRET_ARN: "{ARN}"}}
    secrets: [db.password]
  ssm-reader:
    handler: h.py:handler
    environment: {{SECRET_ARN: "{ARN}"}}
    role:
      statements:
        - {{effect: allow, actions: ["secrets:GetSecretValue"], resources: ["secret:app.*"]}}
  kms-user:
    handler: h.py:handler
    environment: {{SECRET_ARN: "{ARN}"}}
    role:
      statements:
        - {{effect: allow, resources: ["key:orders"],
            actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"]}}
  aws-named:
    handler: h.py:handler
    environment: {{SECRET_ARN: "{ARN}"}}
    role:
      statements:
        - {{effect: allow, actions: ["secretsmanager:GetSecretValue", "ssm:GetParameter*"],
            resources: ["arn:aws:secretsmanager:*:*:secret:db.password-??????",
                        "arn:aws:ssm:*:*:parameter/app/*"]}}
        - {{effect: allow, actions: ["kms:Encrypt", "kms:Decrypt", "kms:GenerateDataKey"],
            resources: ["arn:aws:kms:*:*:alias/orders"]}}
  denied:
    handler: h.py:handler
    environment: {{SECRET_ARN: "{ARN}"}}
    role:
      statements:
        - {{effect: deny, actions: ["secrets:*", "kms:*"], resources: ["*"]}}
"""

HANDLER = """
import base64
import hashlib
import os

import boto3
from botocore.exceptions import ClientError


def digest(value):
    return hashlib.sha256(value.encode()).hexdigest()


def sm(event):
    client = boto3.client("secretsmanager")
    value = client.get_secret_value(SecretId=os.environ["SECRET_ARN"])["SecretString"]
    print("read the secret:", value)
    return {"sha": digest(value)}


def ssm(event):
    client = boto3.client("ssm")
    param = client.get_parameter(Name="/app/db/password", WithDecryption=True)["Parameter"]
    print("read the parameter:", param["Value"])
    listed = client.get_parameters_by_path(Path="/app", Recursive=True, WithDecryption=True)
    return {"sha": digest(param["Value"]), "type": param["Type"],
            "names": sorted(p["Name"] for p in listed["Parameters"])}


def kms(event):
    client = boto3.client("kms")
    ctx = {"order": "o-1"}
    blob = client.encrypt(KeyId="alias/orders", Plaintext=b"card 4242",
                          EncryptionContext=ctx)["CiphertextBlob"]
    plain = client.decrypt(CiphertextBlob=blob, EncryptionContext=ctx)["Plaintext"]
    try:
        client.decrypt(CiphertextBlob=blob, EncryptionContext={"order": "o-2"})
        wrong = "decrypted"
    except ClientError as exc:
        wrong = exc.response["Error"]["Code"]
    data_key = client.generate_data_key(KeyId="alias/orders", KeySpec="AES_256")
    again = client.decrypt(CiphertextBlob=data_key["CiphertextBlob"])["Plaintext"]
    # (the sandbox has no cryptography package; the test does the local AES with these)
    return {"round_trip": plain.decode(), "wrong_context": wrong,
            "data_key": base64.b64encode(data_key["Plaintext"]).decode(),
            "decrypted_key": base64.b64encode(again).decode(),
            "in_blob": b"card 4242" in blob}


OPS = {"sm": sm, "ssm": ssm, "kms": kms}


def handler(event, context):
    try:
        return OPS[event["op"]](event)
    except ClientError as exc:
        return {"error": exc.response["Error"]["Code"]}
"""


@pytest.fixture(scope="module")
def app(aws_node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    for name, value in (
        ("db.password", DB_VALUE),
        ("app.db.password", DB_VALUE),
        ("app.api.token", API_VALUE),
    ):
        r = aws_node.control.put(f"/v1/secrets/{name}", params={"app": APP}, json={"value": value})
        assert r.status_code == 200, r.text
    root = make_app(tmp_path_factory.mktemp("sec") / APP, MANIFEST, {"h.py": HANDLER})
    return aws_node.deploy_ok(root)


def invoke(node: RunningNode, function: str, op: str) -> dict[str, Any]:
    r = node.control.post(f"/v1/functions/{function}/invoke", json={"event": {"op": op}})
    assert r.status_code == 200, r.text
    out = r.json()
    assert out["status"] == "ok", (out["error_type"], out["error_message"], out["logs"])
    result = out["result"]
    return json.loads(result) if isinstance(result, str) else result


def sha(value: str) -> str:
    return hashlib.sha256(value.encode()).hexdigest()


def test_secrets_manager_by_arn(aws_node: RunningNode, app: dict[str, Any]) -> None:
    assert invoke(aws_node, "sm-reader", "sm") == {"sha": sha(DB_VALUE)}


def test_ssm_parameters(aws_node: RunningNode, app: dict[str, Any]) -> None:
    out = invoke(aws_node, "ssm-reader", "ssm")
    assert out == {
        "sha": sha(DB_VALUE),
        "type": "SecureString",
        "names": ["/app/api/token", "/app/db/password"],
    }


def test_a_role_in_aws_names(aws_node: RunningNode, app: dict[str, Any]) -> None:
    assert invoke(aws_node, "aws-named", "sm") == {"sha": sha(DB_VALUE)}
    assert invoke(aws_node, "aws-named", "ssm")["sha"] == sha(DB_VALUE)
    assert invoke(aws_node, "aws-named", "kms")["round_trip"] == "card 4242"


def test_kms_in_a_handler(aws_node: RunningNode, app: dict[str, Any]) -> None:
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    out = invoke(aws_node, "kms-user", "kms")
    assert (out["round_trip"], out["wrong_context"], out["in_blob"]) == (
        "card 4242",
        "InvalidCiphertextException",
        False,
    )
    # generate_data_key, then local AES with the plaintext key; the decrypted copy opens it
    key = base64.b64decode(out["data_key"])
    assert len(key) == 32
    sealed = AESGCM(key).encrypt(b"0" * 12, b"local data", None)
    opened = AESGCM(base64.b64decode(out["decrypted_key"])).decrypt(b"0" * 12, sealed, None)
    assert opened == b"local data"


@pytest.mark.parametrize(
    ("op", "action"),
    [("sm", "secrets:GetSecretValue"), ("ssm", "secrets:GetSecretValue"), ("kms", "kms:Encrypt")],
)
def test_a_denying_policy(aws_node: RunningNode, app: dict[str, Any], op: str, action: str) -> None:
    assert invoke(aws_node, "denied", op) == {"error": "AccessDeniedException"}
    denials = [
        e
        for e in aws_node.audit()
        if e["decision"] == "deny"
        and e["action"] == action
        and e["principal"].startswith("function:denied@")
    ]
    assert denials, f"no audited denial of {action}"


def test_values_never_in_logs_records_or_audit(aws_node: RunningNode, app: dict[str, Any]) -> None:
    invoke(aws_node, "sm-reader", "sm")
    invoke(aws_node, "ssm-reader", "ssm")
    rows = aws_node.invocations("sm-reader") + aws_node.invocations("ssm-reader")
    assert any("read the secret:" in (r.get("logs") or "") for r in rows)
    records = json.dumps(rows)
    audit = json.dumps(aws_node.audit())
    for value in (DB_VALUE, API_VALUE):
        assert value not in records
        assert value not in audit
        assert value not in aws_node.log_text()
