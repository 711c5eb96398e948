"""API Gateway Lambda proxy events in, handler results out.

The gateway turns each ASGI request that matched a route into the event an
AWS API Gateway Lambda proxy integration would send, and turns whatever the
handler returned back into an HTTP status, headers and body by the same
rules API Gateway applies.  Two formats exist and a route picks one
(``payload:`` in ``ramparts.yaml``):

* ``"2.0"`` (default): the *HTTP API* format (``build_http_event``), as in
  "Working with AWS Lambda proxy integrations for HTTP APIs";
* ``"1.0"``: the *REST API* format (``build_rest_event``: ``httpMethod``,
  ``multiValueHeaders``, ``requestContext.identity``...), as in "Input
  format of a Lambda function for proxy integration", which most SAM
  templates and Powertools' ``APIGatewayRestResolver`` expect.

Both follow AWS's documentation so a handler moves between Ramparts and
Lambda unchanged.  ``with_forwarded`` puts the gateway's own
``x-forwarded-for``/``-proto``/``-port`` into the request headers, replacing
whatever the client sent, so a handler reading them sees the client address
the gateway trusts rather than one a client chose.

The response side is also a security boundary: a handler's result is
untrusted input to the gateway, so anything malformed, and any header that
could split the response, is refused with a generic
``InvocationError("invalid_handler_response")`` whose cause (kept for logs,
never sent to the caller) names the reason.
"""

from __future__ import annotations

import base64
import binascii
import decimal
import json
import re
import time
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from ramparts.errors import InvocationError

__all__ = ["build_http_event", "build_http_response", "build_rest_event", "with_forwarded"]

# strftime's %b follows the process locale; AWS always writes English months.
_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Bodies of these media types reach the handler as text; anything else (and
# anything that is not valid UTF-8) is base64, as API Gateway does for binary.
_TEXT_TYPES = frozenset(
    {
        "application/json",
        "application/xml",
        "application/x-www-form-urlencoded",
        "application/javascript",
        "application/x-javascript",
        "application/graphql",
    }
)

# RFC 9110 token: what a header field name may consist of.
_TOKEN = re.compile(r"^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$")
_CONTROL = re.compile(r"[\x00-\x08\x0a-\x1f\x7f]")  # field values: HTAB only
_INVALID_RESPONSE = "the function returned an invalid HTTP response"
_FORWARDED = frozenset({b"x-forwarded-for", b"x-forwarded-proto", b"x-forwarded-port"})

# requestContext.identity of a REST API event: the caller's IAM/Cognito identity,
# which Ramparts never has, is null as in an event for an unauthenticated caller.
_IDENTITY_NULLS = (
    "accessKey",
    "accountId",
    "caller",
    "cognitoAuthenticationProvider",
    "cognitoAuthenticationType",
    "cognitoIdentityId",
    "cognitoIdentityPoolId",
    "principalOrgId",
)


def with_forwarded(
    headers: Iterable[tuple[bytes, bytes]], *, client_ip: str, proto: str, port: int | None
) -> list[tuple[bytes, bytes]]:
    """The request headers with ``x-forwarded-*`` set by the gateway.

    Any ``x-forwarded-for``, ``-proto`` or ``-port`` the client sent is
    dropped: whether a proxy's values are trusted has already been decided
    (``ramparts up --forwarded-allow-ips``) and is reflected in
    ``client_ip`` and ``proto``.  ``port`` is the port the gateway accepted
    the connection on (omitted when unknown).
    """
    out = [(k, v) for k, v in headers if k.lower() not in _FORWARDED]
    out.append((b"x-forwarded-for", client_ip.encode("latin-1", "replace")))
    out.append((b"x-forwarded-proto", proto.encode("latin-1", "replace")))
    if port is not None:
        out.append((b"x-forwarded-port", str(port).encode("ascii")))
    return out


def build_http_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    route_key: str,
    path_parameters: Mapping[str, str],
    source_ip: str,
    request_id: str,
    domain_name: str,
    user_agent: str | None = None,
    stage: str = "$default",
    account_id: str = "local",
    api_id: str = "ramparts",
    authorizer: dict[str, Any] | None = None,
    protocol: str = "HTTP/1.1",
    now: float | None = None,
) -> dict[str, Any]:
    """Build the HTTP API payload-format-2.0 event for one request.

    Args:
        method: the request method, e.g. ``"POST"``.
        raw_path: the path as sent, without the query string.
        raw_query: the query string as sent, without the ``?``.
        headers: ASGI-style ``(name, value)`` byte pairs, in arrival order.
        body: the full request body.
        route_key: the matched route, e.g. ``"POST /orders/{id}"``.
        path_parameters: values captured by the route's ``{placeholders}``.
        source_ip: the client address the gateway trusts.
        request_id: the gateway's id for this request.
        domain_name: the host the request was addressed to.
        user_agent: defaults to the ``User-Agent`` header (``""`` if absent).
        authorizer: what authentication established (``{"jwt": {...}}`` and
            so on); included only when given, as AWS omits it for open routes.
        now: request time in epoch seconds; the current time if ``None``.

    Returns:
        A dict with exactly AWS's keys; optional keys (``cookies``,
        ``queryStringParameters``, ``pathParameters``, ``body``) are absent
        rather than empty, as in events API Gateway sends.
    """
    if now is None:
        now = time.time()
    merged, cookies = _merge_headers(headers)
    if user_agent is None:
        user_agent = merged.get("user-agent", "")
    query = _query_parameters(raw_query)
    body_text, is_base64 = _encode_body(body, merged.get("content-type"))

    request_context: dict[str, Any] = {"accountId": account_id, "apiId": api_id}
    if authorizer is not None:
        request_context["authorizer"] = authorizer
    request_context.update(
        {
            "domainName": domain_name,
            "domainPrefix": _domain_prefix(domain_name),
            "http": {
                "method": method.upper(),
                "path": raw_path,
                "protocol": protocol,
                "sourceIp": source_ip,
                "userAgent": user_agent,
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": stage,
            "time": _clf_time(now),
            "timeEpoch": round(now * 1000),
        }
    )

    event: dict[str, Any] = {
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": raw_path,
        "rawQueryString": raw_query,
    }
    if cookies:
        event["cookies"] = cookies
    event["headers"] = merged
    if query:
        event["queryStringParameters"] = query
    event["requestContext"] = request_context
    if body_text is not None:
        event["body"] = body_text
    if path_parameters:
        event["pathParameters"] = dict(path_parameters)
    event["isBase64Encoded"] = is_base64
    return event


def build_rest_event(
    *,
    method: str,
    raw_path: str,
    raw_query: str,
    headers: Iterable[tuple[bytes, bytes]],
    body: bytes,
    resource: str,
    path_parameters: Mapping[str, str],
    source_ip: str,
    request_id: str,
    domain_name: str,
    stage: str = "$default",
    account_id: str = "local",
    api_id: str = "ramparts",
    authorizer: dict[str, Any] | None = None,
    protocol: str = "HTTP/1.1",
    now: float | None = None,
) -> dict[str, Any]:
    """Build the REST API (payload format 1.0) event for one request.

    Arguments are those of ``build_http_event``, except ``resource``: the
    route's path template (``/orders/{id}``), which REST APIs send as
    ``resource`` and ``requestContext.resourcePath``.  ``authorizer`` takes
    the 2.0 shape the identity service builds and is converted to 1.0's.

    Returns:
        A dict with AWS's keys.  Unlike 2.0, absent values are ``null``
        (``queryStringParameters``, ``pathParameters``, ``stageVariables``,
        ``body``), repeated headers and query parameters keep every value in
        the ``multiValue*`` maps and their last value in the single-value
        maps, and ``Cookie`` stays a header.  Header names are lower case.
    """
    if now is None:
        now = time.time()
    single: dict[str, str] = {}
    multi: dict[str, list[str]] = {}
    for name_b, value_b in headers:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1").strip()
        single[name] = value
        multi.setdefault(name, []).append(value)
    query: dict[str, str] = {}
    multi_query: dict[str, list[str]] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True, errors="replace"):
        query[name] = value
        multi_query.setdefault(name, []).append(value)
    body_text, is_base64 = _encode_body(body, single.get("content-type"))

    request_context: dict[str, Any] = {"accountId": account_id, "apiId": api_id}
    rest_authorizer = _rest_authorizer(authorizer)
    if rest_authorizer is not None:
        request_context["authorizer"] = rest_authorizer
    identity: dict[str, Any] = dict.fromkeys(_IDENTITY_NULLS)
    identity.update(
        {"sourceIp": source_ip, "user": None, "userAgent": single.get("user-agent", ""),
         "userArn": None}
    )
    request_context.update(
        {
            "domainName": domain_name,
            "domainPrefix": _domain_prefix(domain_name),
            "extendedRequestId": request_id,
            "httpMethod": method.upper(),
            "identity": identity,
            "path": raw_path,
            "protocol": protocol,
            "requestId": request_id,
            "requestTime": _clf_time(now),
            "requestTimeEpoch": round(now * 1000),
            "resourceId": None,
            "resourcePath": resource,
            "stage": stage,
        }
    )
    return {
        "resource": resource,
        "path": raw_path,
        "httpMethod": method.upper(),
        "headers": single,
        "multiValueHeaders": multi,
        "queryStringParameters": query or None,
        "multiValueQueryStringParameters": multi_query or None,
        "pathParameters": dict(path_parameters) or None,
        "stageVariables": None,
        "requestContext": request_context,
        "body": body_text,
        "isBase64Encoded": is_base64,
    }


def _rest_authorizer(authorizer: dict[str, Any] | None) -> dict[str, Any] | None:
    """2.0's ``{"jwt": {"claims", "scopes"}}`` / ``{"lambda": {...}}`` in 1.0's shape.

    1.0 puts a JWT authorizer's ``claims`` and ``scopes`` and a Lambda
    authorizer's context (with ``principalId``) directly under
    ``authorizer``, as Powertools' ``APIGatewayProxyEvent`` reads them.
    """
    if not authorizer:
        return None
    if "jwt" in authorizer:
        jwt = authorizer["jwt"]
        return {"claims": jwt.get("claims", {}), "scopes": jwt.get("scopes", [])}
    if "lambda" in authorizer:
        return dict(authorizer["lambda"])
    return dict(authorizer)


def build_http_response(
    result: object, payload: str = "2.0"
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    """Turn a handler's return value into ``(status, headers, body)``.

    A dict with a ``statusCode`` key is a full response (``statusCode``,
    ``headers``, ``multiValueHeaders``, ``body``, ``isBase64Encoded``, and
    for 2.0 ``cookies``).  For 2.0, any other value is API Gateway's
    shortcut: status 200, ``content-type: application/json`` and the value
    as the body: a returned string is sent as it is, anything else as its
    JSON.  Payload 1.0 (REST APIs) has no shortcut: a result without
    ``statusCode`` is malformed, as API Gateway answers it with a 502.

    Raises:
        InvocationError: code ``invalid_handler_response`` when the result
            cannot be sent safely; the message is generic on purpose, the
            reason is in ``__cause__`` for the logs.
    """
    try:
        if isinstance(result, dict) and "statusCode" in result:
            return _full_response(result, cookies=payload != "1.0")
        if payload == "1.0":
            raise _InvalidResponse("a payload 1.0 response must be an object with statusCode")
        return 200, [(b"content-type", b"application/json")], _shortcut_body(result)
    except _InvalidResponse as exc:
        raise InvocationError(_INVALID_RESPONSE, code="invalid_handler_response") from exc


class _InvalidResponse(ValueError):
    """Why a handler result was refused; chained under the public error."""


def _merge_headers(raw: Iterable[tuple[bytes, bytes]]) -> tuple[dict[str, str], list[str]]:
    """Lowercase names, comma-join repeats, move ``Cookie`` into a list.

    Header bytes are decoded as Latin-1, the charset HTTP/1.1 defines for
    field values, so no byte sequence can make decoding fail.
    """
    merged: dict[str, str] = {}
    cookies: list[str] = []
    for name_b, value_b in raw:
        name = name_b.decode("latin-1").lower()
        value = value_b.decode("latin-1").strip()
        if name == "cookie":
            cookies.extend(part.strip() for part in value.split(";") if part.strip())
            continue
        merged[name] = f"{merged[name]},{value}" if name in merged else value
    return merged, cookies


def _query_parameters(raw_query: str) -> dict[str, str]:
    """Decode the query string; repeated names are comma-joined, as AWS does."""
    params: dict[str, str] = {}
    for name, value in parse_qsl(raw_query, keep_blank_values=True, errors="replace"):
        params[name] = f"{params[name]},{value}" if name in params else value
    return params


def _encode_body(body: bytes, content_type: str | None) -> tuple[str | None, bool]:
    """Return the event's ``body`` and ``isBase64Encoded``.

    Text goes through as a string so handlers can ``json.loads`` it; binary
    is base64 so no byte is lost crossing the JSON boundary.
    """
    if not body:
        return None, False
    if _is_textual(content_type):
        try:
            return body.decode("utf-8"), False
        except UnicodeDecodeError:
            pass
    return base64.b64encode(body).decode("ascii"), True


def _is_textual(content_type: str | None) -> bool:
    if content_type is None:
        return True
    media = content_type.split(";", 1)[0].strip().lower()
    if not media:
        return True
    return (
        media.startswith("text/")
        or media in _TEXT_TYPES
        or media.endswith("+json")
        or media.endswith("+xml")
    )


def _domain_prefix(domain_name: str) -> str:
    """First label of the host, without a port (AWS's ``domainPrefix``)."""
    host = domain_name
    if host.startswith("["):  # IPv6 literal: no labels to split
        return host.split("]", 1)[0] + "]"
    host = host.rsplit(":", 1)[0] if host.count(":") == 1 else host
    return host.split(".", 1)[0]


_clf_last: tuple[int, str] = (-1, "")


def _clf_time(now: float) -> str:
    """``12/Mar/2020:19:03:58 +0000``: the Common Log Format AWS uses.

    The text has one-second resolution and every request builds it, so the
    last second's text is kept (one tuple, replaced atomically).
    """
    global _clf_last
    second = int(now // 1)
    cached = _clf_last
    if cached[0] == second:
        return cached[1]
    t = datetime.fromtimestamp(second, UTC)
    text = f"{t.day:02d}/{_MONTHS[t.month - 1]}/{t.year:04d}:{t:%H:%M:%S} +0000"
    _clf_last = (second, text)
    return text


def _full_response(
    result: dict[str, Any], *, cookies: bool = True
) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    status = result["statusCode"]
    # 1xx are interim responses: a client reads the next response as this one's answer.
    if not isinstance(status, int) or isinstance(status, bool) or not 200 <= status <= 599:
        raise _InvalidResponse("statusCode must be an integer between 200 and 599")

    out: list[tuple[bytes, bytes]] = []
    headers = result.get("headers")
    if headers is not None:
        if not isinstance(headers, dict):
            raise _InvalidResponse("headers must be an object")
        for name, value in headers.items():
            out.append(_header(name, value))
    multi = result.get("multiValueHeaders")
    if multi is not None:
        if not isinstance(multi, dict):
            raise _InvalidResponse("multiValueHeaders must be an object")
        for name, values in multi.items():
            if not isinstance(values, list):
                raise _InvalidResponse("multiValueHeaders values must be lists")
            out.extend(_header(name, value) for value in values)
    cookie_list = result.get("cookies") if cookies else None  # a 2.0 field only
    if cookie_list is not None:
        if not isinstance(cookie_list, list):
            raise _InvalidResponse("cookies must be a list of strings")
        for cookie in cookie_list:
            if not isinstance(cookie, str):
                raise _InvalidResponse("cookies must be a list of strings")
            out.append(_header("set-cookie", cookie))

    is_base64 = result.get("isBase64Encoded", False)
    if not isinstance(is_base64, bool):
        raise _InvalidResponse("isBase64Encoded must be a boolean")
    body = result.get("body")
    if body is None:
        return status, out, b""
    if not isinstance(body, str):
        raise _InvalidResponse("body must be a string")
    if not is_base64:
        return status, out, body.encode("utf-8")
    try:
        return status, out, base64.b64decode(body.encode("ascii"), validate=True)
    except (UnicodeEncodeError, binascii.Error) as exc:
        raise _InvalidResponse("body is not valid base64") from exc


def _header(name: object, value: object) -> tuple[bytes, bytes]:
    """One validated header line; control characters but HTAB are refused.

    CR and LF would split the response; the others (NUL, VT, DEL...) are not
    field-value characters (RFC 9110 §5.5) and the HTTP server would refuse to
    send them after the status line is out, dropping the connection.
    """
    if not isinstance(name, str) or not _TOKEN.match(name):
        raise _InvalidResponse("header names must be HTTP tokens")
    if isinstance(value, bool):
        text = "true" if value else "false"
    elif isinstance(value, str | int | float):
        text = str(value)
    else:
        raise _InvalidResponse("header values must be strings")
    if _CONTROL.search(text):
        raise _InvalidResponse("header values must not contain control characters")
    try:
        return name.lower().encode("ascii"), text.encode("latin-1")
    except UnicodeEncodeError as exc:
        raise _InvalidResponse("header values must be Latin-1") from exc


def _shortcut_body(result: object) -> bytes:
    """The 2.0 shortcut's body: a string as is, other values as JSON.

    Serialized like Lambda's Python runtime (``json.dumps`` with non-ASCII
    kept and ``Decimal`` as a number) so clients get the bytes Lambda would
    send; values JSON cannot express (NaN, sets, bytes) are refused.
    """
    if isinstance(result, str):
        return result.encode("utf-8")
    try:
        text = json.dumps(result, ensure_ascii=False, allow_nan=False, default=_json_default)
    except (TypeError, ValueError, RecursionError) as exc:
        raise _InvalidResponse("the result is not JSON-serializable") from exc
    return text.encode("utf-8")


def _json_default(value: object) -> object:
    if isinstance(value, decimal.Decimal):
        if not value.is_finite():
            raise ValueError("non-finite Decimal")
        return int(value) if value == value.to_integral_value() else float(value)
    raise TypeError(f"{type(value).__name__} is not JSON-serializable")
