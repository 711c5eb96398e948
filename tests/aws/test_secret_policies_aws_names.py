"""Roles written in AWS names decide Secrets Manager, SSM and KMS calls as the native names do."""

from __future__ import annotations

import base64
from collections.abc import Iterator

import pytest

from ramparts.aws.kms import KMS
from ramparts.aws.secretnames import secret_arn
from ramparts.aws.secretsmanager import SecretsManager
from ramparts.aws.ssm import SSM
from tests.aws.host import REGION, Host

MANIFEST = """
app: named-app
functions:
  aws-named:
    handler: h.py:handler
    role:
      statements:
        - effect: allow
          actions: [secretsmanager:GetSecretValue]
          resources: ["arn:aws:secretsmanager:*:*:secret:prod/db/*"]
        - effect: allow
          actions: [ssm:GetParameter]
          resources: ["arn:aws:ssm:*:*:parameter/app/*"]
        - effect: allow
          actions: [kms:Encrypt, kms:Decrypt]
          resources: ["arn:aws:kms:*:*:alias/orders"]
        - effect: allow
          actions: [kms:Encrypt]
          resources: ["arn:aws:kms:*:*:key/*"]
        - effect: deny
          actions: [secretsmanager:GetSecretValue]
          resources: ["arn:aws:secretsmanager:*:*:secret:prod/db/root-??????"]
"""


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    h = Host(tmp_path_factory.mktemp("named"), MANIFEST)
    for name in ("prod.db.password", "prod.db.root", "prod.other", "app.flag", "elsewhere"):
        h.vault.secrets.put("named-app", name, f"value-of-{name}")
    yield h
    h.close()


def code(body: dict) -> str:
    return body.get("__type", "").split("#")[-1]


@pytest.mark.parametrize(
    ("secret_id", "allowed"),
    [
        ("prod/db/password", True),
        ("prod.db.password", True),
        (secret_arn("named-app", REGION, "prod.db.password"), True),
        ("prod/db/root", False),  # the explicit deny (AWS's NAME-?????? form)
        ("prod/other", False),
        ("elsewhere", False),
    ],
)
def test_secrets_manager(host: Host, secret_id: str, allowed: bool) -> None:
    _, body, _ = host.call(
        SecretsManager(),
        "secretsmanager.GetSecretValue",
        {"SecretId": secret_id},
        function="aws-named",
    )
    if allowed:
        assert body["SecretString"].startswith("value-of-prod.db"), body
    else:
        assert code(body) == "AccessDeniedException", body


@pytest.mark.parametrize(("name", "allowed"), [("/app/flag", True), ("/prod/other", False)])
def test_ssm(host: Host, name: str, allowed: bool) -> None:
    _, body, _ = host.call(
        SSM(),
        "AmazonSSM.GetParameter",
        {"Name": name, "WithDecryption": True},
        function="aws-named",
    )
    assert ("Parameter" in body) is allowed, body


def test_kms(host: Host) -> None:
    plain = base64.b64encode(b"x").decode()
    _, enc, _ = host.call(
        KMS(),
        "TrentService.Encrypt",
        {"KeyId": "alias/orders", "Plaintext": plain},
        function="aws-named",
    )
    assert "CiphertextBlob" in enc, enc
    _, dec, _ = host.call(
        KMS(),
        "TrentService.Decrypt",
        {"CiphertextBlob": enc["CiphertextBlob"]},
        function="aws-named",
    )
    assert dec["Plaintext"] == plain
    _, other, _ = host.call(
        KMS(),
        "TrentService.Encrypt",
        {"KeyId": "alias/payroll", "Plaintext": plain},
        function="aws-named",
    )
    assert "CiphertextBlob" in other, other  # key/* allows Encrypt with any key of the app
    _, other, _ = host.call(
        KMS(),
        "TrentService.Decrypt",
        {"CiphertextBlob": other["CiphertextBlob"]},
        function="aws-named",
    )
    assert code(other) == "AccessDeniedException"  # and nothing more
