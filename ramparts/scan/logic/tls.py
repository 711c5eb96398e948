"""RP-L005: TLS certificate verification turned off.

Without it anyone on the path (a shared VPC, a proxy, DNS) reads and changes
the traffic, including the credentials sent with it.  Recognised:

* ``verify=False`` on requests/httpx calls, clients and sessions (and
  ``session.verify = False``), and on AWS SDK clients and resources
  (``boto3.client(..., verify=False)``, ``session.client``/``resource``,
  botocore ``create_client``); aiohttp ``ssl=False`` / ``verify_ssl=False``;
* ``cert_reqs="CERT_NONE"`` / ``ssl.CERT_NONE`` (urllib3 pools, ``ssl.wrap_socket``);
* ``ssl._create_unverified_context()`` and installing it as the default;
* ``ctx.verify_mode = ssl.CERT_NONE`` and ``ctx.check_hostname = False``.

``verify=False`` on a JWT decode is RP-L001's business, not this rule's.
"""

from __future__ import annotations

import ast

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import Hit, ModuleContext, is_false

RULE = Rule("RP-L005", "logic", "tls-verification-disabled",
            "TLS certificate (or host name) verification is turned off.", "CWE-295")

_HTTP_LIBS = ("requests.", "httpx.", "aiohttp.", "urllib3.",
              # AWS SDK clients take verify=False too, and then trust any endpoint
              "boto3.", "botocore.", "aioboto3.", "aiobotocore.")
_HTTP_METHODS = {"get", "post", "put", "patch", "delete", "head", "options", "request", "send",
                 "stream", "Client", "AsyncClient", "Session", "ClientSession", "TCPConnector",
                 "client", "resource", "create_client"}
_NOT_HTTP = {"jwt.decode", "jose.jwt.decode", "jwt.api_jwt.decode"}
_FIX = ("keep verification on; for a private CA pass its bundle (verify=\"/path/ca.pem\", "
        "ssl.create_default_context(cafile=...))")


def check(ctx: ModuleContext) -> list[Hit]:
    def judge(node: ast.AST) -> str | None:
        problem = None
        if isinstance(node, ast.Call):
            problem = _call(ctx, node)
        elif isinstance(node, ast.Assign):
            problem = _assignment(ctx, node)
        return f"{problem}: the connection accepts any certificate" if problem else None

    return ctx.hits(ctx.nodes, judge, RULE.rule_id, _FIX, Severity.HIGH)


def _call(ctx: ModuleContext, call: ast.Call) -> str | None:
    name = ctx.call_name(call)
    if name in {"ssl._create_unverified_context", "ssl._create_stdlib_context"}:
        return f"{name}() makes a context that does not verify"
    if name in _NOT_HTTP:
        return None
    http = name.startswith(_HTTP_LIBS) or name.rsplit(".", 1)[-1] in _HTTP_METHODS
    for kw in call.keywords:
        if kw.arg is None:
            continue
        value = ctx.value(kw.value)
        if http and kw.arg in {"verify", "ssl", "verify_ssl"} and is_false(value):
            return f"{name or 'call'}({kw.arg}=False)"
        if kw.arg == "cert_reqs" and value == "CERT_NONE":
            return f"{name or 'call'}(cert_reqs=CERT_NONE)"
    return None


def _assignment(ctx: ModuleContext, node: ast.Assign) -> str | None:
    value = ctx.value(node.value)
    for target in node.targets:
        if isinstance(target, ast.Attribute):
            if target.attr == "verify" and is_false(value) and value is not None:
                return "session.verify = False"
            if target.attr == "verify_mode" and value == "CERT_NONE":
                return "verify_mode = CERT_NONE"
            if target.attr == "check_hostname" and value is False:
                return "check_hostname = False"
            if ctx.qualname(target) == "ssl._create_default_https_context" and (
                    ctx.qualname(node.value) == "ssl._create_unverified_context"):
                return "the default HTTPS context is replaced by an unverified one"
    return None
