"""HTTP API payload format 2.0: the event we build and the responses we accept.

Expected events copy the structure of AWS's documented example ("Working
with AWS Lambda proxy integrations for HTTP APIs", format 2.0) with our
values filled in.
"""

from __future__ import annotations

import base64
import json
from decimal import Decimal

import pytest

from ramparts.errors import InvocationError
from ramparts.events.http import build_http_event, build_http_response

# The documented example's timeEpoch, 1583348638390 ms (04/Mar/2020:19:03:58.390 UTC).
NOW = 1583348638.390


def _event(**overrides: object) -> dict:
    args: dict = {
        "method": "GET",
        "raw_path": "/health",
        "raw_query": "",
        "headers": [(b"host", b"api.example.com")],
        "body": b"",
        "route_key": "GET /health",
        "path_parameters": {},
        "source_ip": "203.0.113.7",
        "request_id": "req-1",
        "domain_name": "api.example.com",
        "now": NOW,
    }
    args.update(overrides)
    return build_http_event(**args)


def test_event_matches_the_documented_2_0_structure() -> None:
    event = build_http_event(
        method="POST",
        raw_path="/my/path",
        raw_query="parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            (b"Header1", b"value1"),
            (b"Header2", b"value1"),
            (b"Header2", b"value2"),
            (b"Cookie", b"cookie1=a; cookie2=b"),
            (b"User-Agent", b"agent"),
            (b"Content-Type", b"text/plain"),
        ],
        body=b"Hello from Lambda",
        route_key="POST /my/{name}",
        path_parameters={"name": "path"},
        source_ip="192.0.2.1",
        request_id="id",
        domain_name="id.execute-api.local",
        authorizer={
            "jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1", "scope2"]},
        },
        now=NOW,
    )
    assert event == {
        "version": "2.0",
        "routeKey": "POST /my/{name}",
        "rawPath": "/my/path",
        "rawQueryString": "parameter1=value1&parameter1=value2&parameter2=value",
        "cookies": ["cookie1=a", "cookie2=b"],
        "headers": {
            "header1": "value1",
            "header2": "value1,value2",
            "user-agent": "agent",
            "content-type": "text/plain",
        },
        "queryStringParameters": {"parameter1": "value1,value2", "parameter2": "value"},
        "requestContext": {
            "accountId": "local",
            "apiId": "ramparts",
            "authorizer": {
                "jwt": {"claims": {"claim1": "value1"}, "scopes": ["scope1", "scope2"]},
            },
            "domainName": "id.execute-api.local",
            "domainPrefix": "id",
            "http": {
                "method": "POST",
                "path": "/my/path",
                "protocol": "HTTP/1.1",
                "sourceIp": "192.0.2.1",
                "userAgent": "agent",
            },
            "requestId": "id",
            "routeKey": "POST /my/{name}",
            "stage": "$default",
            "time": "04/Mar/2020:19:03:58 +0000",
            "timeEpoch": 1583348638390,
        },
        "body": "Hello from Lambda",
        "pathParameters": {"name": "path"},
        "isBase64Encoded": False,
    }


def test_optional_fields_are_omitted_not_empty() -> None:
    event = _event()
    for absent in ("cookies", "queryStringParameters", "pathParameters", "body"):
        assert absent not in event
    assert "authorizer" not in event["requestContext"]
    assert "stageVariables" not in event
    assert event["isBase64Encoded"] is False
    assert event["requestContext"]["http"]["userAgent"] == ""


def test_every_cookie_header_is_split_into_cookies_and_removed_from_headers() -> None:
    event = _event(headers=[(b"cookie", b"a=1; b=2"), (b"COOKIE", b"c=3"), (b"x-y", b"z")])
    assert event["cookies"] == ["a=1", "b=2", "c=3"]
    assert event["headers"] == {"x-y": "z"}


def test_header_names_are_lowercased_and_repeats_comma_joined() -> None:
    event = _event(headers=[(b"Accept", b"text/html"), (b"ACCEPT", b"application/json")])
    assert event["headers"] == {"accept": "text/html,application/json"}


def test_query_values_are_decoded_and_blank_values_kept() -> None:
    event = _event(raw_query="q=a%20b&flag&q=c")
    assert event["rawQueryString"] == "q=a%20b&flag&q=c"
    assert event["queryStringParameters"] == {"q": "a b,c", "flag": ""}


@pytest.mark.parametrize(
    ("content_type", "body", "text"),
    [
        (None, b'{"a": 1}', True),
        (b"application/json; charset=utf-8", "caf\u00e9".encode(), True),
        (b"application/vnd.api+json", b"{}", True),
        (b"application/x-www-form-urlencoded", b"a=1&b=2", True),
        (b"application/xml", b"<a/>", True),
        (b"text/csv", b"a,b\n1,2", True),
        (b"text/plain", b"\xff\xfe not utf-8", False),
        (b"application/octet-stream", b"plain ascii but binary type", False),
        (b"image/png", b"\x89PNG\r\n\x1a\n", False),
        (b"multipart/form-data; boundary=x", b"--x--", False),
    ],
)
def test_body_is_text_or_base64(content_type: bytes | None, body: bytes, text: bool) -> None:
    headers = [(b"content-type", content_type)] if content_type else []
    event = _event(method="POST", headers=headers, body=body)
    assert event["isBase64Encoded"] is (not text)
    if text:
        assert event["body"] == body.decode("utf-8")
    else:
        assert base64.b64decode(event["body"]) == body


def test_user_agent_override_and_request_context_values() -> None:
    event = _event(
        headers=[(b"user-agent", b"curl/8")],
        user_agent="explicit",
        stage="prod",
        account_id="orders",
        api_id="gw",
        domain_name="localhost:8080",
        now=0.0,
    )
    ctx = event["requestContext"]
    assert ctx["http"]["userAgent"] == "explicit"
    assert event["headers"]["user-agent"] == "curl/8"
    assert (ctx["stage"], ctx["accountId"], ctx["apiId"]) == ("prod", "orders", "gw")
    assert ctx["domainPrefix"] == "localhost"
    assert (ctx["time"], ctx["timeEpoch"]) == ("01/Jan/1970:00:00:00 +0000", 0)


@pytest.mark.parametrize(
    ("when", "expected"),
    [(1584039838.0, "12/Mar/2020:19:03:58 +0000"), (1703980800.5, "31/Dec/2023:00:00:00 +0000")],
)
def test_time_uses_english_months_in_utc(when: float, expected: str) -> None:
    assert _event(now=when)["requestContext"]["time"] == expected


# --- responses ---------------------------------------------------------------------

JSON_CT = (b"content-type", b"application/json")


def test_documented_shortcut_for_a_string_sends_it_as_is() -> None:
    assert build_http_response("Hello from Lambda!") == (200, [JSON_CT], b"Hello from Lambda!")


def test_documented_shortcut_for_an_object_sends_its_json() -> None:
    status, headers, body = build_http_response({"message": "Hello from Lambda!"})
    assert (status, headers) == (200, [JSON_CT])
    assert json.loads(body) == {"message": "Hello from Lambda!"}


@pytest.mark.parametrize(
    ("value", "body"),
    [
        ([1, "two"], b'[1, "two"]'),
        (42, b"42"),
        (1.5, b"1.5"),
        (None, b"null"),
        (True, b"true"),
        ({"price": Decimal("9.99"), "n": Decimal("3")}, b'{"price": 9.99, "n": 3}'),
        ({"name": "caf\u00e9"}, '{"name": "caf\u00e9"}'.encode()),
    ],
)
def test_shortcut_for_other_values(value: object, body: bytes) -> None:
    assert build_http_response(value) == (200, [JSON_CT], body)


def test_full_response() -> None:
    status, headers, body = build_http_response(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "text/plain", "X-Count": 3},
            "multiValueHeaders": {"Vary": ["Accept", "Origin"]},
            "cookies": ["a=1; Path=/", "b=2; HttpOnly"],
            "body": "created",
            "isBase64Encoded": False,
        }
    )
    assert status == 201
    assert headers == [
        (b"content-type", b"text/plain"),
        (b"x-count", b"3"),
        (b"vary", b"Accept"),
        (b"vary", b"Origin"),
        (b"set-cookie", b"a=1; Path=/"),
        (b"set-cookie", b"b=2; HttpOnly"),
    ]
    assert body == b"created"


def test_full_response_base64_body_is_decoded() -> None:
    raw = b"\x89PNG\r\n\x1a\n\x00"
    result = {
        "statusCode": 200,
        "headers": {"content-type": "image/png"},
        "body": base64.b64encode(raw).decode(),
        "isBase64Encoded": True,
    }
    assert build_http_response(result) == (200, [(b"content-type", b"image/png")], raw)


def test_full_response_without_body_or_headers() -> None:
    assert build_http_response({"statusCode": 204}) == (204, [], b"")


def test_a_dict_without_status_code_is_the_shortcut_even_with_other_response_keys() -> None:
    status, headers, body = build_http_response({"body": "x", "headers": {"a": "b"}})
    assert (status, headers) == (200, [JSON_CT])
    assert json.loads(body) == {"body": "x", "headers": {"a": "b"}}


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": "200"},
        {"statusCode": 200.0},
        {"statusCode": True},
        {"statusCode": None},
        {"statusCode": 99},
        {"statusCode": 600},
        {"statusCode": 200, "body": {"not": "a string"}},
        {"statusCode": 200, "body": b"bytes"},
        {"statusCode": 200, "body": "%%%not base64", "isBase64Encoded": True},
        {"statusCode": 200, "body": "caf\u00e9", "isBase64Encoded": True},
        {"statusCode": 200, "body": "eA==", "isBase64Encoded": "yes"},
        {"statusCode": 200, "headers": ["content-type", "text/plain"]},
        {"statusCode": 200, "headers": {"x-a": ["list"]}},
        {"statusCode": 200, "headers": {"x-a": None}},
        {"statusCode": 200, "multiValueHeaders": {"x-a": "not a list"}},
        {"statusCode": 200, "cookies": "a=1"},
        {"statusCode": 200, "cookies": [1]},
        {"statusCode": 200, "headers": {"x-a": "\u2603 snowman"}},
    ],
)
def test_invalid_responses_are_refused(result: object) -> None:
    with pytest.raises(InvocationError) as info:
        build_http_response(result)
    assert info.value.code == "invalid_handler_response"
    assert info.value.status == 502
    assert info.value.message == "the function returned an invalid HTTP response"
    assert info.value.__cause__ is not None  # the reason, for logs only


@pytest.mark.parametrize(
    "result",
    [
        {"statusCode": 200, "headers": {"x-a": "ok\r\nSet-Cookie: evil=1"}},
        {"statusCode": 200, "headers": {"x-a": "ok\nInjected: 1"}},
        {"statusCode": 200, "headers": {"x-a": "ok\rInjected: 1"}},
        {"statusCode": 200, "headers": {"x-a": "nul\x00byte"}},
        {"statusCode": 200, "headers": {"x-a\r\nevil": "1"}},
        {"statusCode": 200, "headers": {"bad name": "1"}},
        {"statusCode": 200, "headers": {"": "1"}},
        {"statusCode": 200, "multiValueHeaders": {"x-a": ["fine", "bad\r\nX: 1"]}},
        {"statusCode": 200, "cookies": ["a=1\r\nLocation: https://evil.example"]},
    ],
)
def test_response_splitting_is_refused(result: object) -> None:
    with pytest.raises(InvocationError) as info:
        build_http_response(result)
    assert info.value.code == "invalid_handler_response"


@pytest.mark.parametrize("value", [{1, 2}, b"bytes", float("nan"), {"x": object()}, Decimal("NaN")])
def test_shortcut_values_json_cannot_express_are_refused(value: object) -> None:
    with pytest.raises(InvocationError) as info:
        build_http_response(value)
    assert info.value.code == "invalid_handler_response"


def test_deeply_nested_result_is_refused_not_crashed() -> None:
    value: list = []
    for _ in range(100_000):
        value = [value]
    with pytest.raises(InvocationError):
        build_http_response(value)


# -- payload format 1.0 (REST APIs) -------------------------------------------------------------


def test_rest_event_matches_the_documented_1_0_structure() -> None:
    from ramparts.events.http import build_rest_event

    event = build_rest_event(
        method="GET",
        raw_path="/my/path",
        raw_query="parameter1=value1&parameter1=value2&parameter2=value",
        headers=[
            (b"Header1", b"value1"),
            (b"Header2", b"value1"),
            (b"Header2", b"value2"),
            (b"Cookie", b"a=1; b=2"),
            (b"User-Agent", b"agent"),
        ],
        body=b"",
        resource="/my/{name}",
        path_parameters={"name": "path"},
        source_ip="192.0.2.1",
        request_id="id=",
        domain_name="id.execute-api.local",
        authorizer={"jwt": {"claims": {"sub": "u1"}, "scopes": ["s1"]}},
        now=NOW,
    )
    assert event == {
        "resource": "/my/{name}",
        "path": "/my/path",
        "httpMethod": "GET",
        "headers": {
            "header1": "value1",
            "header2": "value2",
            "cookie": "a=1; b=2",
            "user-agent": "agent",
        },
        "multiValueHeaders": {
            "header1": ["value1"],
            "header2": ["value1", "value2"],
            "cookie": ["a=1; b=2"],
            "user-agent": ["agent"],
        },
        "queryStringParameters": {"parameter1": "value2", "parameter2": "value"},
        "multiValueQueryStringParameters": {
            "parameter1": ["value1", "value2"],
            "parameter2": ["value"],
        },
        "pathParameters": {"name": "path"},
        "stageVariables": None,
        "requestContext": {
            "accountId": "local",
            "apiId": "ramparts",
            "authorizer": {"claims": {"sub": "u1"}, "scopes": ["s1"]},
            "domainName": "id.execute-api.local",
            "domainPrefix": "id",
            "extendedRequestId": "id=",
            "httpMethod": "GET",
            "identity": {
                "accessKey": None,
                "accountId": None,
                "caller": None,
                "cognitoAuthenticationProvider": None,
                "cognitoAuthenticationType": None,
                "cognitoIdentityId": None,
                "cognitoIdentityPoolId": None,
                "principalOrgId": None,
                "sourceIp": "192.0.2.1",
                "user": None,
                "userAgent": "agent",
                "userArn": None,
            },
            "path": "/my/path",
            "protocol": "HTTP/1.1",
            "requestId": "id=",
            "requestTime": "04/Mar/2020:19:03:58 +0000",
            "requestTimeEpoch": 1583348638390,
            "resourceId": None,
            "resourcePath": "/my/{name}",
            "stage": "$default",
        },
        "body": None,
        "isBase64Encoded": False,
    }


def test_rest_event_lambda_authorizer_context_is_flattened() -> None:
    from ramparts.events.http import build_rest_event

    event = build_rest_event(
        method="GET", raw_path="/", raw_query="", headers=[], body=b"", resource="/",
        path_parameters={}, source_ip="192.0.2.1", request_id="r", domain_name="h",
        authorizer={"lambda": {"principalId": "key:k1", "method": "api_key", "scopes": []}},
        now=NOW,
    )
    assert event["requestContext"]["authorizer"] == {
        "principalId": "key:k1", "method": "api_key", "scopes": [],
    }


def test_rest_responses_have_no_shortcut_and_no_cookies_field() -> None:
    with pytest.raises(InvocationError) as err:
        build_http_response({"message": "hi"}, "1.0")
    assert err.value.code == "invalid_handler_response"
    status, headers, body = build_http_response(
        {"statusCode": 200, "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
         "cookies": ["ignored=1"], "body": "ok"},
        "1.0",
    )
    assert status == 200 and body == b"ok"
    assert headers == [(b"set-cookie", b"a=1"), (b"set-cookie", b"b=2")]


def test_forwarded_headers_replace_the_clients() -> None:
    from ramparts.events.http import with_forwarded

    out = with_forwarded(
        [(b"host", b"h"), (b"X-Forwarded-For", b"10.0.0.1"), (b"x-forwarded-port", b"1")],
        client_ip="192.0.2.1",
        proto="http",
        port=8080,
    )
    assert out == [
        (b"host", b"h"),
        (b"x-forwarded-for", b"192.0.2.1"),
        (b"x-forwarded-proto", b"http"),
        (b"x-forwarded-port", b"8080"),
    ]
