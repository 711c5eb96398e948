"""REST API (payload format 1.0) routes end to end, and the x-forwarded-* headers.

Handlers here are written the way AWS documents REST API Lambda proxy
integrations: they read ``event["httpMethod"]``,
``multiValueQueryStringParameters``, ``pathParameters`` and
``requestContext.identity.sourceIp``, and answer with ``multiValueHeaders``
and ``isBase64Encoded``.  Each runs on a real node.
"""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest

from tests.conftest import RunningNode, make_app

MANIFEST = """
app: rest
functions:
  rest-echo:
    handler: handlers.py:echo
    triggers:
      - http: {method: ANY, path: "/items/{id}", auth: none, payload: "1.0"}
      - http: {method: GET, path: "/items", auth: none, payload: 1.0}
  v2-echo:
    handler: handlers.py:echo
    triggers:
      - http: {method: GET, path: /v2, auth: none}
  cookies:
    handler: handlers.py:cookies
    triggers:
      - http: {method: GET, path: /cookies, auth: none, payload: "1.0"}
  png:
    handler: handlers.py:png
    triggers:
      - http: {method: GET, path: /png, auth: none, payload: "1.0"}
  malformed:
    handler: handlers.py:malformed
    triggers:
      - http: {method: GET, path: /malformed, auth: none, payload: "1.0"}
  no-status:
    handler: handlers.py:no_status
    triggers:
      - http: {method: GET, path: /no-status, auth: none, payload: "1.0"}
"""

HANDLERS = """
import base64
import json


def echo(event, context):
    # A REST API handler as AWS's examples write it.
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "application/json"},
        "body": json.dumps(event),
    }


def cookies(event, context):
    return {
        "statusCode": 201,
        "headers": {"Content-Type": "text/plain"},
        "multiValueHeaders": {"Set-Cookie": ["a=1; Path=/", "b=2; Secure"]},
        "body": "baked",
        "isBase64Encoded": False,
    }


def png(event, context):
    return {
        "statusCode": 200,
        "headers": {"Content-Type": "image/png"},
        "body": base64.b64encode(bytes(range(256))).decode(),
        "isBase64Encoded": True,
    }


def malformed(event, context):
    return {"statusCode": 200, "multiValueHeaders": {"x-a": "not a list"}, "body": "x"}


def no_status(event, context):
    # API Gateway 2.0's shortcut is not part of the 1.0 format: REST refuses it.
    return {"message": "hello"}
"""


@pytest.fixture(scope="module")
def rest(node: RunningNode, tmp_path_factory: pytest.TempPathFactory) -> RunningNode:
    app = make_app(tmp_path_factory.mktemp("rest") / "app", MANIFEST, {"handlers.py": HANDLERS})
    node.deploy_ok(app)
    return node


def test_rest_event_carries_the_documented_fields(rest: RunningNode) -> None:
    r = rest.gateway.post(
        "/items/42?tag=a&tag=b&one=1",
        content=b'{"n": 1}',
        headers={"content-type": "application/json", "x-multi": "v1"},
    )
    assert r.status_code == 200, r.text
    event = r.json()
    assert event["resource"] == "/items/{id}"
    assert event["path"] == "/items/42"
    assert event["httpMethod"] == "POST"
    assert event["pathParameters"] == {"id": "42"}
    assert event["queryStringParameters"] == {"tag": "b", "one": "1"}
    assert event["multiValueQueryStringParameters"] == {"tag": ["a", "b"], "one": ["1"]}
    assert event["headers"]["x-multi"] == "v1"
    assert event["multiValueHeaders"]["x-multi"] == ["v1"]
    assert event["stageVariables"] is None
    assert event["body"] == '{"n": 1}' and event["isBase64Encoded"] is False
    ctx = event["requestContext"]
    assert ctx["identity"]["sourceIp"] == "127.0.0.1"
    assert ctx["httpMethod"] == "POST"
    assert ctx["path"] == "/items/42"
    assert ctx["resourcePath"] == "/items/{id}"
    assert ctx["stage"] == "$default"
    assert ctx["requestId"] == r.headers["x-request-id"]
    assert "authorizer" not in ctx  # an open route authenticated no one
    assert "version" not in event and "routeKey" not in event  # those are 2.0's


def test_rest_event_without_query_or_parameters_has_nulls(rest: RunningNode) -> None:
    # The YAML number 1.0 means the same as the string "1.0".
    event = rest.gateway.get("/items").json()
    assert event["httpMethod"] == "GET"
    assert event["queryStringParameters"] is None
    assert event["multiValueQueryStringParameters"] is None
    assert event["pathParameters"] is None
    assert event["body"] is None


def test_default_payload_stays_2_0(rest: RunningNode) -> None:
    event = rest.gateway.get("/v2").json()
    assert event["version"] == "2.0" and "httpMethod" not in event


def test_multi_value_response_headers(rest: RunningNode) -> None:
    r = rest.gateway.get("/cookies")
    assert r.status_code == 201 and r.text == "baked"
    assert r.headers.get_list("set-cookie") == ["a=1; Path=/", "b=2; Secure"]
    assert r.headers["content-type"] == "text/plain"


def test_base64_response(rest: RunningNode) -> None:
    r = rest.gateway.get("/png")
    assert r.status_code == 200 and r.content == bytes(range(256))
    assert r.headers["content-type"] == "image/png"


@pytest.mark.parametrize("path", ["/malformed", "/no-status"])
def test_malformed_rest_response_is_502(rest: RunningNode, path: str) -> None:
    r = rest.gateway.get(path)
    assert r.status_code == 502
    assert r.json()["code"] == "invalid_handler_response"
    assert "not a list" not in r.text and "hello" not in r.text


def test_app_level_default_payload(rest: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "defaults",
        """
        app: rest-defaults
        defaults:
          http: {payload: "1.0"}
        functions:
          by-default:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /by-default, auth: none}
              - http: {method: GET, path: /explicit-v2, auth: none, payload: "2.0"}
        """,
        {
            "h.py": """
            def handler(event, context):
                return {"statusCode": 200, "body": event.get("httpMethod") or event["version"]}
            """
        },
    )
    rest.deploy_ok(app)
    assert rest.gateway.get("/by-default").text == "GET"
    assert rest.gateway.get("/explicit-v2").text == "2.0"


def test_unknown_payload_version_is_refused_at_deploy(rest: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "v3",
        """
        app: rest-v3
        functions:
          three:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /three, auth: none, payload: "3.0"}
        """,
        {"h.py": "def handler(event, context):\n    return 'x'\n"},
    )
    out = rest.cli("deploy", str(app))
    assert out.returncode != 0
    assert f"{app / 'ramparts.yaml'}: functions.three.triggers[0].http.payload" in out.stderr
    assert "Traceback" not in out.stderr
    assert rest.gateway.get("/three").status_code == 404  # nothing was deployed
    bad_default = make_app(
        tmp_path / "v3-default",
        """
        app: rest-v3
        defaults:
          http: {payload: "3.0"}
        functions:
          three:
            handler: h.py:handler
        """,
        {"h.py": "def handler(event, context):\n    return 'x'\n"},
    )
    out = rest.cli("deploy", str(bad_default))
    assert out.returncode != 0
    assert f"{bad_default / 'ramparts.yaml'}: defaults.http.payload" in out.stderr


# -- x-forwarded-* ------------------------------------------------------------------------------

FORWARDED_APP = """
app: fwd
functions:
  fwd-v1:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /fwd-v1, auth: none, payload: "1.0"}
  fwd-v2:
    handler: h.py:handler
    triggers:
      - http: {method: GET, path: /fwd-v2, auth: none}
"""

FORWARDED_HANDLER = """
import json

def handler(event, context):
    return {"statusCode": 200, "body": json.dumps(event["headers"])}
"""


def _forwarded_headers(node: RunningNode, path: str, sent: dict[str, str]) -> dict[str, str]:
    r = node.gateway.get(path, headers=sent)
    assert r.status_code == 200, r.text
    return json.loads(r.text)


@pytest.mark.parametrize("path", ["/fwd-v1", "/fwd-v2"])
def test_forwarded_headers_come_from_the_gateway(
    rest: RunningNode, tmp_path: Path, path: str
) -> None:
    rest.deploy_ok(make_app(tmp_path / "fwd", FORWARDED_APP, {"h.py": FORWARDED_HANDLER}))
    plain = _forwarded_headers(rest, path, {})
    assert plain["x-forwarded-for"] == "127.0.0.1"
    assert plain["x-forwarded-proto"] == "http"
    assert plain["x-forwarded-port"] == str(rest.port)
    # A client that is not a trusted proxy cannot choose what the handler reads.
    forged = _forwarded_headers(
        rest,
        path,
        {"X-Forwarded-For": "10.1.2.3", "X-Forwarded-Proto": "https", "X-Forwarded-Port": "443"},
    )
    assert forged["x-forwarded-for"] == "127.0.0.1"
    assert forged["x-forwarded-proto"] == "http"
    assert forged["x-forwarded-port"] == str(rest.port)


class _ProxiedNode(RunningNode):
    """A node that trusts 127.0.0.1 as its reverse proxy."""

    def command(self) -> list[str]:
        return [*super().command(), "--forwarded-allow-ips", "127.0.0.1"]


def test_forwarded_headers_from_a_trusted_proxy(tmp_path: Path) -> None:
    node = _ProxiedNode(tmp_path / "data").start()
    try:
        node.deploy_ok(make_app(tmp_path / "fwd", FORWARDED_APP, {"h.py": FORWARDED_HANDLER}))
        seen = _forwarded_headers(
            node, "/fwd-v1", {"X-Forwarded-For": "203.0.113.9", "X-Forwarded-Proto": "https"}
        )
        assert seen["x-forwarded-for"] == "203.0.113.9"
        assert seen["x-forwarded-proto"] == "https"
        r = node.gateway.get("/fwd-v1", headers={"X-Forwarded-For": "203.0.113.9"})
        assert r.status_code == 200
    finally:
        node.close()


def test_base64_request_body_in_rest_event(rest: RunningNode) -> None:
    payload = bytes(range(256))
    r = rest.gateway.put(
        "/items/7", content=payload, headers={"content-type": "application/octet-stream"}
    )
    event = r.json()
    assert event["isBase64Encoded"] is True
    assert base64.b64decode(event["body"]) == payload


def test_rest_event_carries_the_authenticated_principal(rest: RunningNode, tmp_path: Path) -> None:
    app = make_app(
        tmp_path / "keyed",
        """
        app: rest-keyed
        functions:
          keyed:
            handler: h.py:handler
            triggers:
              - http: {method: GET, path: /keyed-rest, auth: api_key, payload: "1.0"}
        """,
        {
            "h.py": """
            import json

            def handler(event, context):
                return {"statusCode": 200,
                        "body": json.dumps(event["requestContext"]["authorizer"])}
            """
        },
    )
    rest.deploy_ok(app)
    out = rest.cli("keys", "create", "--name", "rest", "--scopes", "todos:read")
    assert out.returncode == 0, out.stderr
    key = out.stdout.strip()
    r = rest.gateway.get("/keyed-rest", headers={"x-api-key": key})
    assert r.status_code == 200, r.text
    authorizer = r.json()
    assert authorizer["principalId"] == f"key:{key.split('_')[1]}"
    assert authorizer["method"] == "api_key" and authorizer["scopes"] == ["todos:read"]
    assert rest.gateway.get("/keyed-rest").status_code == 401
