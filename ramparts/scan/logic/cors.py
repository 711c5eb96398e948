"""RP-L004: any origin allowed *with credentials*.

``Access-Control-Allow-Origin: *`` alone is harmless for cookies (browsers
refuse to send them), which is why the libraries that accept ``*`` together
with credentials reflect the caller's ``Origin`` instead: then any web page
can make the user's browser call the API with its cookies and read the
answer.  Recognised:

* flask-cors ``CORS(app, supports_credentials=True)`` / ``@cross_origin(...)``
  with ``origins`` absent (its default is ``*``), ``"*"`` or a list/resources
  entry containing ``"*"``;
* Starlette/FastAPI ``CORSMiddleware`` with ``allow_credentials=True`` and
  ``allow_origins`` containing ``"*"`` or a catch-all ``allow_origin_regex``;
* django-cors-headers settings ``CORS_ALLOW_ALL_ORIGINS``/``CORS_ORIGIN_ALLOW_ALL
  = True`` (or a catch-all regex) with ``CORS_ALLOW_CREDENTIALS = True``;
* headers written by hand (a Lambda response dict, ``resp.headers[...] =``) in
  one function: ``Access-Control-Allow-Origin`` of ``*`` or the request's own
  ``Origin`` header, with ``Access-Control-Allow-Credentials: true``.  An echo
  written only after the origin passed a check (``if origin in ALLOWED:``,
  ``== "https://..."``, ``is_allowed(origin)``, or an early ``return`` when
  ``origin not in ALLOWED``) is an allowlist, not a reflection.
"""

from __future__ import annotations

import ast
import re
from typing import Any

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import (
    UNKNOWN,
    Hit,
    ModuleContext,
    is_true,
    names_in,
)

RULE = Rule("RP-L004", "logic", "wildcard-cors-with-credentials",
            "Any origin may call with the user's credentials (cookies) and read the answer.",
            "CWE-942")

_CATCH_ALL = re.compile(r"^\^?(https?\??:\/\/)?\.[*+]\$?$|^\^?\.[*+]\$?$")
_FIX = ("list the exact origins that may call with credentials (allow_origins=[...], "
        "CORS_ALLOWED_ORIGINS), or drop credentials for a public API")
_ACAO = "access-control-allow-origin"
_ACAC = "access-control-allow-credentials"


def check(ctx: ModuleContext) -> list[Hit]:
    out: list[Hit] = []
    for node in ctx.calls:
        problem = _library_call(ctx, node)
        if problem:
            out.append(_hit(node, problem))
    out += _django_settings(ctx)
    for nodes in ctx.scopes.values():
        out += _manual_headers(ctx, nodes)
    return out


def _hit(node: ast.AST, problem: str) -> Hit:
    return Hit(RULE.rule_id, getattr(node, "lineno", 1), getattr(node, "col_offset", 0) + 1,
               f"CORS: {problem}", _FIX, Severity.HIGH)


def _has_star(value: Any) -> bool:
    if value == "*":
        return True
    if isinstance(value, list):
        return any(_has_star(v) for v in value)
    if isinstance(value, dict):  # flask-cors resources={path: {"origins": ...}}
        return any((k in ("origins", "origin") and _has_star(v))
                   or (isinstance(v, dict) and _has_star(v)) for k, v in value.items())
    return False


def _library_call(ctx: ModuleContext, call: ast.Call) -> str | None:
    short = ctx.call_name(call).rsplit(".", 1)[-1]
    if short in {"CORS", "cross_origin"}:
        if not is_true(ctx.value(ctx.keyword(call, "supports_credentials"))):
            return None
        origins = ctx.keyword(call, "origins")
        resources = ctx.keyword(call, "resources")
        if origins is None and resources is None and not ctx.has_star_kwargs(call):
            return ("flask-cors with supports_credentials=True and no origins= "
                    "(the default is every origin)")
        if (origins is not None and _has_star(ctx.value(origins))) or (
                resources is not None and _has_star(ctx.value(resources))):
            return "flask-cors with origins '*' and supports_credentials=True"
        return None
    if any((ctx.qualname(a) or "").endswith("CORSMiddleware") for a in call.args) \
            or short == "CORSMiddleware":
        if not is_true(ctx.value(ctx.keyword(call, "allow_credentials"))):
            return None
        regex = ctx.value(ctx.keyword(call, "allow_origin_regex"))
        if _has_star(ctx.value(ctx.keyword(call, "allow_origins"))) or (
                isinstance(regex, str) and _CATCH_ALL.match(regex)):
            return "CORSMiddleware allows every origin with allow_credentials=True"
    return None


def _django_settings(ctx: ModuleContext) -> list[Hit]:
    settings: dict[str, tuple[ast.stmt, Any]] = {}
    for stmt in ctx.module.body:
        if isinstance(stmt, ast.Assign) and len(stmt.targets) == 1 and isinstance(
                stmt.targets[0], ast.Name):
            settings[stmt.targets[0].id] = (stmt, ctx.value(stmt.value))
    if not is_true(settings.get("CORS_ALLOW_CREDENTIALS", (None, None))[1]):
        return []
    for key in ("CORS_ALLOW_ALL_ORIGINS", "CORS_ORIGIN_ALLOW_ALL"):
        if key in settings and is_true(settings[key][1]):
            return [_hit(settings[key][0], f"{key} = True with CORS_ALLOW_CREDENTIALS = True")]
    for key in ("CORS_ALLOWED_ORIGIN_REGEXES", "CORS_ORIGIN_REGEX_WHITELIST"):
        value = settings.get(key, (None, None))[1]
        if isinstance(value, list) and any(isinstance(v, str) and _CATCH_ALL.match(v)
                                           for v in value):
            return [_hit(settings[key][0], f"{key} matches every origin with credentials")]
    return []


def _manual_headers(ctx: ModuleContext, nodes: list[ast.AST]) -> list[Hit]:
    """Both headers set in one function, by dict literal or item assignment."""
    origin: tuple[ast.AST, str] | None = None
    credentials = False
    for node in nodes:
        pairs: list[tuple[ast.AST, ast.AST]] = []
        if isinstance(node, ast.Dict):
            pairs = [(k, v) for k, v in zip(node.keys, node.values, strict=True) if k is not None]
        elif isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Subscript):
            pairs = [(node.targets[0].slice, node.value)]
        for key_node, value_node in pairs:
            key = ctx.value(key_node)
            if not isinstance(key, str):
                continue
            if key.lower() == _ACAO:
                value = ctx.value(value_node)
                if value == "*":
                    origin = (key_node, "Access-Control-Allow-Origin: *")
                elif value is UNKNOWN and _mentions_origin(value_node) \
                        and not _allowlisted(ctx, node, nodes):
                    origin = (key_node, "Access-Control-Allow-Origin echoes the request's Origin")
            elif key.lower() == _ACAC and is_true(ctx.value(value_node)):
                credentials = True
    if origin is not None and credentials:
        return [_hit(origin[0], f"{origin[1]} with Access-Control-Allow-Credentials: true")]
    return []

def _allowlisted(ctx: ModuleContext, node: ast.AST, scope_nodes: list[ast.AST]) -> bool:
    """Is the echoed origin checked against an allowlist before it is written?

    Either the header is written only in the branch where the origin passed a
    check (``if origin in ALLOWED:``, ``== "https://..."``, ``is_allowed(origin)``,
    ``PATTERN.fullmatch(origin)``), or the function leaves first when it fails
    (``if origin not in ALLOWED: return ...``).  ``if origin:`` checks nothing.
    """
    child: ast.AST = node
    for parent in ctx.ancestors(node):
        if isinstance(parent, ast.If):
            verdict = _origin_check(parent.test)
            if verdict is not None and (child in parent.body) == verdict:
                return True
        if isinstance(parent, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            break
        child = parent
    line = getattr(node, "lineno", 0)
    return any(isinstance(n, ast.If) and n.lineno < line and _origin_check(n.test) is False
               and n.body and isinstance(n.body[-1], ast.Return | ast.Raise)
               for n in scope_nodes)


def _origin_check(test: ast.expr) -> bool | None:
    """True: the test passes for allowed origins only; False: only for others; None: no check."""
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        inner = _origin_check(test.operand)
        return None if inner is None else not inner
    if isinstance(test, ast.BoolOp):
        # "a and b" passes only allowed origins if either part does, and fails them
        # all if both parts do; "a or b" the other way round
        verdicts = [_origin_check(v) for v in test.values]
        some, every = (True, False) if isinstance(test.op, ast.And) else (False, True)
        if some in verdicts:
            return some
        return every if all(v is every for v in verdicts) else None
    if isinstance(test, ast.Compare) and len(test.ops) == 1:
        left, right = test.left, test.comparators[0]
        if not _mentions_origin(left) and not _mentions_origin(right):
            return None
        other = right if _mentions_origin(left) else left
        if isinstance(other, ast.Constant) and other.value in (None, "", "*", "null"):
            return None
        if isinstance(test.ops[0], ast.In | ast.Eq):
            return True
        if isinstance(test.ops[0], ast.NotIn | ast.NotEq):
            return False
        return None
    if isinstance(test, ast.Call) and any(_mentions_origin(a) for a in test.args) \
            and not (isinstance(test.func, ast.Attribute) and test.func.attr == "get") \
            and not (isinstance(test.func, ast.Name) and test.func.id in {"bool", "len"}):
        return True
    return None


def _mentions_origin(expr: ast.AST) -> bool:
    """``event["headers"]["origin"]``, ``request.headers.get("Origin")``, ``origin``."""
    words = names_in(expr) + [n.value for n in ast.walk(expr)
                              if isinstance(n, ast.Constant) and isinstance(n.value, str)]
    return any(w.lower() in {"origin", "http_origin"} for w in words)
