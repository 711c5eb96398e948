"""RP-I002: routes anyone on the internet can call, with no authorizer, IAM auth or API key.

Read from SAM ``Api``/``HttpApi`` events (the event's ``Auth``, else the API's
``DefaultAuthorizer`` or ``ApiKeyRequired``, else ``Globals``), function URLs
(``AuthType: NONE``), CloudFormation ``AWS::ApiGateway::Method`` and
``AWS::ApiGatewayV2::Route`` (``AuthorizationType`` missing or ``NONE``) and
``AWS::Lambda::Url``, and ``serverless.yml`` ``http``/``httpApi`` events and
``url`` settings.  CORS preflight (``OPTIONS``) is public by design and skipped.

Not judged: APIs whose routes live in an OpenAPI body (``DefinitionBody``,
``DefinitionUri``), since their ``security`` is not read; resource policies
(an IP allowlist narrows a route but is not authentication); WebSocket routes
other than ``$connect`` (the only one API Gateway authorizes).
"""

from __future__ import annotations

import re
from typing import Any

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.loader import YMap
from ramparts.scan.iac.model import Resource, Template, is_true, items, mapping
from ramparts.scan.iac.rules import finding

_FIX = ("add an authorizer (Cognito, JWT, Lambda) or IAM auth to the route or its API's "
        "DefaultAuthorizer; use Authorizer: NONE only with a reason, and an API key at least")
_HTTP_ROUTE = re.compile(r"^(ANY|GET|POST|PUT|PATCH|DELETE|HEAD) /", re.I)


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    for fn in t.of_type("AWS::Serverless::Function"):
        _sam_events(t, fn, out)
        url = mapping(t.setting(fn, "FunctionUrlConfig"))
        if url.get("AuthType") == "NONE":
            out.append(_url(t, url.line_of("AuthType"), f"{fn.where}.FunctionUrlConfig",
                            fn.name))
    for res in t.of_type("AWS::Lambda::Url"):
        if res.props.get("AuthType") == "NONE":
            out.append(_url(t, res.props.line_of("AuthType"), res.where, res.name))
    for res in t.of_type("AWS::ApiGateway::Method"):
        method = str(res.props.get("HttpMethod", "")).upper()
        if method != "OPTIONS" and _unauthorised(res.props):
            out.append(_route(t, res.props.line_of("AuthorizationType")
                              if "AuthorizationType" in res.props else res.line,
                              res.where, f"API Gateway method {res.name} ({method or '?'})"))
    for res in t.of_type("AWS::ApiGatewayV2::Route"):
        key = str(res.props.get("RouteKey", ""))
        if (key in ("$connect", "$default") or _HTTP_ROUTE.match(key)) and _unauthorised(
                res.props):
            line = (res.props.line_of("AuthorizationType") if "AuthorizationType" in res.props
                    else res.line)
            out.append(_route(t, line, res.where, f"API Gateway route {res.name} ({key})"))
    if t.kind == "serverless":
        _serverless(t, out)
    return out


def _unauthorised(props: YMap) -> bool:
    kind = str(props.get("AuthorizationType", "NONE")).upper()
    return kind == "NONE" and not is_true(props.get("ApiKeyRequired"))


def _sam_events(t: Template, fn: Resource, out: list[Finding]) -> None:
    events = mapping(fn.props.get("Events"))
    for name, event in events.items():
        event = mapping(event)
        kind = event.get("Type")
        if kind not in ("Api", "HttpApi"):
            continue
        props = mapping(event.get("Properties"))
        if str(props.get("Method", "")).upper() == "OPTIONS":
            continue
        api = _api(t, props.get("RestApiId" if kind == "Api" else "ApiId"), kind)
        if api is None:
            continue  # routes defined by an OpenAPI document: not read here
        if not _sam_authorised(mapping(props.get("Auth")), api):
            path = props.get("Path", "/{proxy+}" if kind == "HttpApi" else "?")
            method = str(props.get("Method", "any")).upper()
            out.append(_route(t, events.line_of(str(name)), f"{fn.where}.Events.{name}",
                              f"{kind} event {name} of {fn.name} ({method} {path})"))


def _api(t: Template, ref: Any, kind: str) -> YMap | None:
    """The API's ``Auth`` (explicit API, else SAM's Globals); None when OpenAPI defines it."""
    globals_auth = mapping(mapping(t.section("Globals").get(kind)).get("Auth"))
    name = ref.get("Ref") if isinstance(ref, YMap) else None
    api_type = "AWS::Serverless::Api" if kind == "Api" else "AWS::Serverless::HttpApi"
    res = next((r for r in t.of_type(api_type) if r.name == name), None)
    if res is None:
        return globals_auth
    if "DefinitionBody" in res.props or "DefinitionUri" in res.props:
        return None
    return mapping(res.props.get("Auth")) or globals_auth


def _sam_authorised(auth: YMap, api_auth: YMap) -> bool:
    if is_true(auth.get("ApiKeyRequired")):
        return True
    authorizer = auth.get("Authorizer")
    if authorizer is not None:
        return authorizer != "NONE"
    default = api_auth.get("DefaultAuthorizer")
    if default is not None and default != "NONE":
        return True
    return is_true(api_auth.get("ApiKeyRequired")) and "ApiKeyRequired" not in auth


def _serverless(t: Template, out: list[Finding]) -> None:
    for fname, fn in t.section("functions").items():
        events = fn.get("events")
        for i, (event, line) in enumerate(items(events, fn.line_of("events"))):
            event = mapping(event)
            for kind in ("http", "httpApi"):
                if kind not in event:
                    continue
                spec = event[kind]
                if isinstance(spec, str):
                    if spec.strip().upper().startswith("OPTIONS "):
                        continue
                    route, authorised = spec, False
                else:
                    spec = mapping(spec)
                    if str(spec.get("method", "")).upper() == "OPTIONS":
                        continue
                    route = f"{str(spec.get('method', 'any')).upper()} {spec.get('path', '/')}"
                    authorised = bool(spec.get("authorizer")) or is_true(spec.get("private"))
                if not authorised:
                    out.append(_route(t, line, f"functions.{fname}.events[{i}].{kind}",
                                      f"{kind} event of function {fname} ({route})"))
        url = fn.get("url")
        if is_true(url) or (isinstance(url, YMap) and url.get("authorizer") != "aws_iam"):
            out.append(_url(t, fn.line_of("url"), f"functions.{fname}.url", str(fname)))


def _route(t: Template, line: int, where: str, what: str) -> Finding:
    return finding("RP-I002", Severity.MEDIUM, t, line, where,
                   f"{what} has no authorizer, IAM auth or API key: anyone can call it", _FIX)


def _url(t: Template, line: int, where: str, fn: str) -> Finding:
    return finding("RP-I002", Severity.MEDIUM, t, line, where,
                   f"the function URL of {fn} has AuthType NONE: anyone can invoke it",
                   "use AuthType: AWS_IAM, or put the function behind an API with an "
                   "authorizer")
