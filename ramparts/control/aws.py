"""Control-API route: issue AWS credentials of a function to an operator.

``POST /v1/aws/credentials`` with ``{"function": F, "app": A}`` (``app``
optional; when given it must be F's app) -> the JSON of botocore's container
provider (``AccessKeyId``, ``SecretAccessKey``, ``Token``, ``Expiration``)
plus ``Endpoint`` (the gateway's URL) and ``Region``, for the live version of
F.  Admin token only, like every control route, and audited
(``aws.credentials_issued``; the credentials themselves never are).  Tests
and operators use it to call the AWS-compatible API as that function.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import orjson
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from ramparts.errors import InvalidRequest, NotFound
from ramparts.manifest import NAME_RE

if TYPE_CHECKING:
    from ramparts.node import Node


class _JSON(Response):
    media_type = "application/json"

    def render(self, content: Any) -> bytes:
        return orjson.dumps(content)


def gateway_url(node: Node) -> str:
    """The gateway as a client on this machine reaches it."""
    s = node.settings
    host = "127.0.0.1" if s.host in ("", "0.0.0.0", "localhost") else s.host  # noqa: S104
    host = "[::1]" if host == "::" else (f"[{host}]" if ":" in host else host)
    return f"{'https' if s.tls_cert else 'http'}://{host}:{s.port}"


async def issue_credentials(request: Request) -> _JSON:
    node: Node = request.app.state.node
    try:
        data = orjson.loads(await request.body() or b"{}")
    except orjson.JSONDecodeError:
        raise InvalidRequest("the body is not JSON", code="invalid_json") from None
    if not isinstance(data, dict):
        raise InvalidRequest("the body must be a JSON object", code="invalid_argument")
    function, app = data.get("function"), data.get("app")
    if not isinstance(function, str) or not NAME_RE.match(function):
        raise InvalidRequest("function must be a function name", code="invalid_argument")
    if app is not None and not isinstance(app, str):
        raise InvalidRequest("app must be a string", code="invalid_argument")
    live = node.live(function)
    if live is None or (app is not None and live.app != app):
        where = f" in app {app!r}" if app else ""
        raise NotFound(f"function {function!r} not found{where}", code="function_not_found")
    creds = node.aws_credentials.issue(live.app, live.name, live.version)
    client = request.client
    node.audit.emit(
        "aws.credentials_issued",
        decision="allow",
        principal="admin",
        action="aws:IssueCredentials",
        resource=f"function:{live.name}@{live.version[:12]}",
        access_key_id=creds.access_key_id,
        expires_at=creds.expires_at,
        source_ip=client.host if client else "",
    )
    return _JSON(
        {
            **creds.container_json(),
            "Endpoint": gateway_url(node),
            "Region": node.settings.region,
            "App": live.app,
            "Function": live.name,
            "Version": live.version,
        }
    )


def aws_routes() -> list[Route]:
    return [Route("/v1/aws/credentials", issue_credentials, methods=["POST"])]
