"""AWS secret/parameter names <-> Ramparts secret names (pure mapping)."""

from __future__ import annotations

import pytest

from ramparts.aws.accounts import account_id
from ramparts.aws.secretnames import (
    SECRET_NAME_RE,
    SecretNameError,
    parameter_arn,
    parameter_to_secret,
    parse_parameter,
    parse_secret_id,
    path_prefix,
    secret_arn,
    secret_from_id,
    secret_to_parameter,
    suffix,
)
from ramparts.secrets.store import NAME_RE


def test_name_rule_is_the_stores() -> None:
    assert SECRET_NAME_RE.pattern == NAME_RE.pattern


def test_arn_has_the_apps_account_and_a_stable_suffix() -> None:
    arn = secret_arn("shop", "eu-west-1", "db.password")
    assert arn == (
        f"arn:aws:secretsmanager:eu-west-1:{account_id('shop')}:secret:db.password-"
        f"{suffix('db.password')}"
    )
    assert len(suffix("db.password")) == 6 and suffix("db.password").isalnum()
    assert suffix("db.password") == suffix("db.password") != suffix("db.passwore")


@pytest.mark.parametrize(
    "secret_id",
    [
        "db.password",
        "db/password",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db.password",
        "arn:aws:secretsmanager:us-east-1:123456789012:secret:db/password",
    ],
)
def test_secret_ids_name_one_secret(secret_id: str) -> None:
    assert secret_from_id(secret_id) == "db.password"


def test_full_arn_strips_only_our_suffix() -> None:
    full = secret_arn("shop", "us-east-1", "api-key")
    ref = parse_secret_id(full)
    assert (ref.name, ref.region, ref.account) == ("api-key", "us-east-1", account_id("shop"))
    # a dash-6 tail that is not our suffix is part of the name (a partial ARN)
    partial = f"arn:aws:secretsmanager:us-east-1:{account_id('shop')}:secret:api-key-ZZZZZZ"
    assert parse_secret_id(partial).name == "api-key-ZZZZZZ"


@pytest.mark.parametrize(
    "bad",
    ["", "a..b", "/leading", "a//b", "x" * 129, "sp ace", "arn:aws:s3:::bucket", "ok/.hidden"],
)
def test_bad_secret_ids(bad: str) -> None:
    with pytest.raises(SecretNameError):
        secret_from_id(bad)


def test_parameters() -> None:
    assert parameter_to_secret("/app/db/password") == "app.db.password"
    assert parameter_to_secret("db-password") == "db-password"
    assert secret_to_parameter("app.db.password") == "/app/db/password"
    assert secret_to_parameter("db-password") == "db-password"
    for p in ("/app/db/password", "db-password", "/x"):
        assert secret_to_parameter(parameter_to_secret(p)) in (p, p.lstrip("/"))
    assert (
        parse_parameter("arn:aws:ssm:us-east-1:123456789012:parameter/app/db/password").name
        == "app.db.password"
    )
    assert parse_parameter("arn:aws:ssm:us-east-1:123456789012:parameter/plain").name == "plain"
    assert parameter_arn("shop", "us-east-1", "app.db") == (
        f"arn:aws:ssm:us-east-1:{account_id('shop')}:parameter/app/db"
    )
    assert parameter_arn("shop", "us-east-1", "plain").endswith(":parameter/plain")


@pytest.mark.parametrize(
    "bad", ["a/b", "/a.b/c", "/a.b", "/a//b", "/", "/a/", "/app/db:3", "/-x", "/a/b c", ""]
)
def test_bad_parameters(bad: str) -> None:
    with pytest.raises(SecretNameError):
        parameter_to_secret(bad)


def test_path_prefix() -> None:
    assert path_prefix("/") == ""
    assert path_prefix("/app/db") == "app.db."
    assert path_prefix("/app/db/") == "app.db."
    with pytest.raises(SecretNameError):
        path_prefix("app")
    with pytest.raises(SecretNameError):
        path_prefix("/a.b")
