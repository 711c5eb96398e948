"""Secrets Manager over the app's secrets: authorized, audited, redacted as context.secrets."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from botocore.exceptions import ClientError

from ramparts.aws.accounts import account_id
from ramparts.aws.secretaccess import version_id
from ramparts.aws.secretnames import secret_arn
from ramparts.aws.secretsmanager import SecretsManager
from tests.aws.host import REGION, Host, moto_client

MANIFEST = """
app: vault-app
functions:
  listed:
    handler: h.py:handler
    secrets: [db.password]
  roled:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["secrets:GetSecretValue"], resources: ["secret:*"]}
        - {effect: deny, actions: ["secrets:GetSecretValue"], resources: ["secret:locked"]}
  nothing:
    handler: h.py:handler
"""
VALUE = "s3cr3t-Value-7c1f"
SM = SecretsManager()
GET = "secretsmanager.GetSecretValue"


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    h = Host(tmp_path_factory.mktemp("sm"), MANIFEST)
    h.vault.secrets.put("vault-app", "db.password", VALUE)
    h.vault.secrets.put("vault-app", "locked", "locked-value-1")
    h.vault.secrets.put("other-app", "theirs", "their-value-1")
    yield h
    h.close()


@pytest.mark.parametrize(
    "secret_id",
    [
        "db.password",
        "db/password",
        secret_arn("vault-app", REGION, "db.password"),
        f"arn:aws:secretsmanager:{REGION}:{account_id('vault-app')}:secret:db.password",
        "arn:aws:secretsmanager:*:*:secret:db.password",
    ],
)
def test_get_secret_value(host: Host, secret_id: str) -> None:
    status, body, _ = host.call(SM, GET, {"SecretId": secret_id}, function="listed")
    assert status == 200, body
    assert body["SecretString"] == VALUE
    assert body["Name"] == "db.password"
    assert body["ARN"] == secret_arn("vault-app", REGION, "db.password")
    assert body["VersionId"] == version_id("db.password", 1)
    assert body["VersionStages"] == ["AWSCURRENT"]
    assert isinstance(body["CreatedDate"], float)


def test_denied_is_access_denied_and_audited(host: Host) -> None:
    status, body, rid = host.call(SM, GET, {"SecretId": "db.password"}, function="nothing")
    assert (status, body["__type"].split("#")[-1]) == (400, "AccessDeniedException")
    assert VALUE not in orjson.dumps(body).decode()
    status, body, rid2 = host.call(SM, GET, {"SecretId": "locked"}, function="roled")
    assert body["__type"].endswith("AccessDeniedException")
    events = {e["request_id"]: e for e in host.audit_events()}
    assert events[rid]["decision"] == "deny"
    assert events[rid]["action"] == "secrets:GetSecretValue"
    assert events[rid]["resource"] == "arn:ramparts:secrets:vault-app:secret/db.password"
    assert events[rid2]["decision"] == "deny"


def test_role_statement_allows(host: Host) -> None:
    status, body, rid = host.call(SM, GET, {"SecretId": "db.password"}, function="roled")
    assert status == 200 and body["SecretString"] == VALUE
    events = [e for e in host.audit_events() if e["request_id"] == rid]
    assert [e["decision"] for e in events] == ["allow"]
    # the value never reaches the audit trail
    assert VALUE not in orjson.dumps(host.audit_events()).decode()


def test_unknown_secret_is_resource_not_found(host: Host) -> None:
    status, body, _ = host.call(SM, GET, {"SecretId": "no-such"}, function="roled")
    assert (status, body["__type"]) == (400, "secretsmanager#ResourceNotFoundException")
    status, body, _ = host.call(SM, GET, {"SecretId": "bad name!"}, function="roled")
    assert body["__type"].endswith("ResourceNotFoundException")


def test_another_apps_arn_is_refused_and_audited(host: Host) -> None:
    arn = secret_arn("other-app", REGION, "theirs")
    status, body, rid = host.call(SM, GET, {"SecretId": arn}, function="roled")
    assert (status, body["__type"].split("#")[-1]) == (400, "AccessDeniedException")
    assert "their-value-1" not in orjson.dumps(body).decode()
    event = next(e for e in host.audit_events() if e["request_id"] == rid)
    assert event["decision"] == "deny" and event["detail"]["reason"] == "other_account"
    # by name, another app's unshared secret is refused too (the broker's check)
    status, body, _ = host.call(SM, GET, {"SecretId": "theirs"}, function="roled")
    assert body["__type"].endswith("AccessDeniedException")
    # another region names nothing here
    other_region = secret_arn("vault-app", "eu-west-1", "db.password")
    status, body, _ = host.call(SM, GET, {"SecretId": other_region}, function="roled")
    assert body["__type"].endswith("ResourceNotFoundException")


def test_only_the_current_version(host: Host) -> None:
    ok = {"SecretId": "db.password", "VersionStage": "AWSCURRENT"}
    assert host.call(SM, GET, ok, function="listed")[0] == 200
    current = version_id("db.password", 1)
    assert (
        host.call(SM, GET, {"SecretId": "db.password", "VersionId": current}, function="listed")[0]
        == 200
    )
    for extra in ({"VersionStage": "AWSPREVIOUS"}, {"VersionId": version_id("db.password", 7)}):
        status, body, _ = host.call(
            SM, GET, {"SecretId": "db.password", **extra}, function="listed"
        )
        assert body["__type"].endswith("ResourceNotFoundException"), body
        assert VALUE not in orjson.dumps(body).decode()


def test_describe_secret(host: Host) -> None:
    status, body, _ = host.call(
        SM, "secretsmanager.DescribeSecret", {"SecretId": "db.password"}, function="listed"
    )
    assert status == 200
    assert body["Name"] == "db.password" and "SecretString" not in body
    assert body["VersionIdsToStages"] == {version_id("db.password", 1): ["AWSCURRENT"]}
    status, body, _ = host.call(
        SM, "secretsmanager.DescribeSecret", {"SecretId": "db.password"}, function="nothing"
    )
    assert body["__type"].endswith("AccessDeniedException")


@pytest.mark.parametrize(
    ("target", "raw", "code"),
    [
        (GET, b"not json", "SerializationException"),
        (GET, b"[1]", "SerializationException"),
        (GET, b"{}", "ValidationException"),
        (GET, b'{"SecretId": 5}', "ValidationException"),
        ("secretsmanager.PutSecretValue", b'{"SecretId": "db.password"}', "UnsupportedOperation"),
        ("secretsmanager.DeleteSecret", b'{"SecretId": "db.password"}', "UnsupportedOperation"),
        ("Other.GetSecretValue", b"{}", "UnsupportedOperation"),
        ("", b"{}", "UnsupportedOperation"),
    ],
)
def test_bad_requests(host: Host, target: str, raw: bytes, code: str) -> None:
    status, body, _ = host.call(SM, target, None, raw=raw, function="listed")
    assert status == 400 and body["__type"].split("#")[-1] == code, body
    assert VALUE not in orjson.dumps(body).decode()
    assert host.vault.secrets.value("vault-app", "db.password")[1].reveal() == VALUE


def test_shapes_match_moto(host: Host, moto_server: str) -> None:
    client = moto_client(moto_server, "secretsmanager")
    client.create_secret(Name="db.password", SecretString=VALUE)
    theirs = client.get_secret_value(SecretId="db.password")
    theirs.pop("ResponseMetadata")
    _, ours, _ = host.call(SM, GET, {"SecretId": "db.password"}, function="listed")
    assert set(ours) == set(theirs)
    assert ours["VersionStages"] == theirs["VersionStages"]
    # moto's ARN has the same form: name, dash, six characters
    assert ours["ARN"].rsplit("-", 1)[0] == theirs["ARN"].rsplit("-", 1)[0].replace(
        theirs["ARN"].split(":")[4], account_id("vault-app")
    )
    with pytest.raises(ClientError) as missing:
        client.get_secret_value(SecretId="no-such")
    _, body, _ = host.call(SM, GET, {"SecretId": "no-such"}, function="roled")
    assert body["__type"].split("#")[-1] == missing.value.response["Error"]["Code"]
    with pytest.raises(ClientError) as stage:
        client.get_secret_value(SecretId="db.password", VersionStage="AWSPREVIOUS")
    _, body, _ = host.call(
        SM, GET, {"SecretId": "db.password", "VersionStage": "AWSPREVIOUS"}, function="listed"
    )
    assert body["__type"].split("#")[-1] == stage.value.response["Error"]["Code"]
