"""SSM Parameter Store: the app's secrets read by path, each one authorized and audited."""

from __future__ import annotations

from collections.abc import Iterator

import orjson
import pytest
from botocore.exceptions import ClientError

from ramparts.aws.accounts import account_id
from ramparts.aws.ssm import PLACEHOLDER, SSM
from tests.aws.host import REGION, Host, moto_client

MANIFEST = """
app: param-app
functions:
  listed:
    handler: h.py:handler
    secrets: [app.db.password]
  reader:
    handler: h.py:handler
    role:
      statements:
        - {effect: allow, actions: ["secrets:GetSecretValue"], resources: ["secret:app.*"]}
        - {effect: deny, actions: ["secrets:GetSecretValue"], resources: ["secret:app.db.admin"]}
  nothing:
    handler: h.py:handler
"""
VALUES = {
    "app.db.password": "pw-value-0001",
    "app.db.user": "user-value-0002",
    "app.db.admin": "admin-value-0003",
    "app.api.key": "key-value-0004",
    "app.api.deep.token": "tok-value-0005",
    "app.flag": "flag-value-0006",
    "top-level": "top-value-0007",
}
for i in range(12):
    VALUES[f"app.many.p{i:02d}"] = f"many-value-{i:04d}"
api = SSM()


def code(body: dict) -> str:
    return body["__type"].split("#")[-1]


@pytest.fixture(scope="module")
def host(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Host]:
    h = Host(tmp_path_factory.mktemp("ssm"), MANIFEST)
    for name, value in VALUES.items():
        h.vault.secrets.put("param-app", name, value)
    h.vault.secrets.put("param-app", "app.db.password", "pw-value-0001-v2")  # version 2
    VALUES["app.db.password"] = "pw-value-0001-v2"
    yield h
    h.close()


def get(host: Host, body: dict, function: str = "listed") -> tuple[int, dict]:
    status, answer, _ = host.call(api, "AmazonSSM.GetParameter", body, function=function)
    return status, answer


def test_get_parameter(host: Host) -> None:
    status, body = get(host, {"Name": "/app/db/password", "WithDecryption": True})
    assert status == 200, body
    p = body["Parameter"]
    assert p["Value"] == "pw-value-0001-v2"
    assert (p["Name"], p["Type"], p["Version"], p["DataType"]) == (
        "/app/db/password",
        "SecureString",
        2,
        "text",
    )
    assert p["ARN"] == f"arn:aws:ssm:{REGION}:{account_id('param-app')}:parameter/app/db/password"
    by_arn = {"Name": p["ARN"], "WithDecryption": True}
    assert get(host, by_arn)[1]["Parameter"]["Value"] == "pw-value-0001-v2"


def test_without_decryption_the_value_is_not_read(host: Host) -> None:
    status, body = get(host, {"Name": "/app/db/password"})
    assert status == 200 and body["Parameter"]["Value"] == PLACEHOLDER
    # still authorized: a function that may not read it learns nothing
    status, body = get(host, {"Name": "/app/db/password"}, "nothing")
    assert code(body) == "AccessDeniedException"


def test_denied_and_missing(host: Host) -> None:
    status, body = get(host, {"Name": "/app/db/password", "WithDecryption": True}, "nothing")
    assert (status, code(body)) == (400, "AccessDeniedException")
    status, body = get(host, {"Name": "/app/db/admin", "WithDecryption": True}, "reader")
    assert code(body) == "AccessDeniedException"
    assert "admin-value" not in orjson.dumps(body).decode()
    status, body = get(host, {"Name": "/app/none", "WithDecryption": True}, "reader")
    assert (status, code(body)) == (400, "ParameterNotFound")
    other = f"arn:aws:ssm:{REGION}:{account_id('other-app')}:parameter/app/db/password"
    status, body = get(host, {"Name": other, "WithDecryption": True}, "reader")
    assert code(body) == "AccessDeniedException"


@pytest.mark.parametrize("name", ["app/db", "/a.b/c", "/app/db/password:1", "/x//y", "/"])
def test_invalid_names(host: Host, name: str) -> None:
    status, body = get(host, {"Name": name, "WithDecryption": True}, "reader")
    assert (status, code(body)) == (400, "ValidationException"), body


def test_get_parameters(host: Host) -> None:
    status, body, _ = host.call(
        api,
        "AmazonSSM.GetParameters",
        {
            "Names": ["/app/db/user", "/app/none", "/app/api/key", "bad/name"],
            "WithDecryption": True,
        },
        function="reader",
    )
    assert status == 200, body
    assert {p["Name"]: p["Value"] for p in body["Parameters"]} == {
        "/app/db/user": "user-value-0002",
        "/app/api/key": "key-value-0004",
    }
    assert sorted(body["InvalidParameters"]) == ["/app/none", "bad/name"]
    # one name the role denies refuses the whole call, and nothing is revealed
    status, body, rid = host.call(
        api,
        "AmazonSSM.GetParameters",
        {"Names": ["/app/db/user", "/app/db/admin"], "WithDecryption": True},
        function="reader",
    )
    assert code(body) == "AccessDeniedException"
    assert "user-value" not in orjson.dumps(body).decode()
    denies = [e for e in host.audit_events() if e["request_id"] == rid and e["decision"] == "deny"]
    assert [e["resource"] for e in denies] == ["arn:ramparts:secrets:param-app:secret/app.db.admin"]


def by_path(host: Host, function: str = "reader", **body: object) -> tuple[int, dict, str]:
    return host.call(api, "AmazonSSM.GetParametersByPath", body, function=function)


def test_by_path_omits_what_the_role_denies(host: Host) -> None:
    status, body, rid = by_path(host, Path="/app/db", WithDecryption=True)
    assert status == 200, body
    assert {p["Name"]: p["Value"] for p in body["Parameters"]} == {
        "/app/db/password": "pw-value-0001-v2",
        "/app/db/user": "user-value-0002",
    }
    events = [e for e in host.audit_events() if e["request_id"] == rid]
    assert sorted((e["decision"], e["resource"].rsplit("/", 1)[1]) for e in events) == [
        ("allow", "app.db.password"),
        ("allow", "app.db.user"),
        ("deny", "app.db.admin"),
    ]


def test_by_path_recursion(host: Host) -> None:
    _, flat, _ = by_path(host, Path="/app/api", WithDecryption=True)
    assert [p["Name"] for p in flat["Parameters"]] == ["/app/api/key"]
    _, deep, _ = by_path(host, Path="/app/api", Recursive=True, WithDecryption=True)
    assert [p["Name"] for p in deep["Parameters"]] == ["/app/api/deep/token", "/app/api/key"]
    _, root, _ = by_path(host, Path="/app", WithDecryption=True)
    assert [p["Name"] for p in root["Parameters"]] == ["/app/flag"]


def test_by_path_pages(host: Host) -> None:
    seen: list[str] = []
    token = None
    pages = 0
    while True:
        args: dict[str, object] = {"Path": "/app/many", "MaxResults": 5}
        if token:
            args["NextToken"] = token
        status, body, _ = by_path(host, **args)
        assert status == 200, body
        assert len(body["Parameters"]) <= 5
        seen += [p["Name"] for p in body["Parameters"]]
        pages += 1
        token = body.get("NextToken")
        if not token:
            break
    assert seen == [f"/app/many/p{i:02d}" for i in range(12)] and pages == 3
    status, body, _ = by_path(host, Path="/app/many", NextToken="garbage!")
    assert code(body) == "InvalidNextToken"
    status, body, _ = by_path(host, Path="/app/many", MaxResults=11)
    assert code(body) == "ValidationException"


def test_by_path_with_nothing_allowed_is_denied(host: Host) -> None:
    status, body, _ = by_path(host, "nothing", Path="/app/db", WithDecryption=True)
    assert code(body) == "AccessDeniedException"
    status, body, _ = by_path(host, "nothing", Path="/empty/path")
    assert status == 200 and body["Parameters"] == []


def test_values_never_in_audit(host: Host) -> None:
    dump = orjson.dumps(host.audit_events()).decode()
    assert not [v for v in VALUES.values() if v in dump]


def test_shapes_match_moto(host: Host, moto_server: str) -> None:
    client = moto_client(moto_server, "ssm")
    client.put_parameter(Name="/app/db/user", Value="x", Type="SecureString")
    theirs = client.get_parameter(Name="/app/db/user", WithDecryption=True)["Parameter"]
    _, ours = get(host, {"Name": "/app/db/user", "WithDecryption": True}, "reader")
    assert set(ours["Parameter"]) <= set(theirs) | {"ARN"}
    assert {"Name", "Type", "Value", "Version", "ARN", "LastModifiedDate"} <= set(ours["Parameter"])
    with pytest.raises(ClientError) as missing:
        client.get_parameter(Name="/app/none")
    _, body = get(host, {"Name": "/app/none"}, "reader")
    assert code(body) == missing.value.response["Error"]["Code"]
    many = client.get_parameters(Names=["/app/db/user", "/app/none"])
    _, ours_many, _ = host.call(
        api, "AmazonSSM.GetParameters", {"Names": ["/app/db/user", "/app/none"]}, function="reader"
    )
    assert ours_many["InvalidParameters"] == many["InvalidParameters"] == ["/app/none"]
