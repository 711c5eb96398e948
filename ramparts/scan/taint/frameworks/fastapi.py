"""FastAPI and Starlette: routed endpoints, their typed parameters, ``Request``.

FastAPI fills an endpoint's parameters from the path, query string, headers,
cookies and body; one typed ``int``/``float``/``bool``/``UUID``/date is
validated into that type and carries no text. A parameter given by
``Depends(dep)``/``Security(dep)`` holds what ``dep`` returns, and FastAPI
fills ``dep``'s own parameters from the request the same way. A plain
Starlette endpoint ``async def page(request)`` is found by its ``request``
parameter (see ``sources.py``).
"""

from __future__ import annotations

import ast

from ramparts.scan.taint.frameworks.base import AS_REQUEST, ATTACKER, Entry, is_route
from ramparts.scan.taint.index import ClassInfo, Function, ModuleIndex, type_name

ROOTS = frozenset({"fastapi", "starlette"})
REQUEST_ATTRS = frozenset({"query_params", "path_params", "headers", "cookies", "url",
                           "base_url", "client"})
REQUEST_METHODS = frozenset({"body", "json", "form", "stream"})
_REQUEST_TYPES = frozenset({"Request", "WebSocket", "HTTPConnection"})
SCALAR_TYPES = frozenset({"int", "float", "bool", "UUID", "date", "datetime", "time",
                          "timedelta", "Decimal", "PositiveInt", "NonNegativeInt",
                          "conint", "confloat"})
_CLEAN_TYPES = SCALAR_TYPES | frozenset({"BackgroundTasks", "Response", "Session",
                                         "AsyncSession", "SecurityScopes",
                                         "HTTPAuthorizationCredentials"})
_APP_DEFAULTS = frozenset({"Depends", "Security"})


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if cls is not None or not ROOTS & mod.imported_roots or not (
            is_route(fn) or fn.name in mod.registered):
        return None
    e = Entry(fn, "fastapi", html_returns=_html_response(fn))
    fill(e, fn)
    return e


def fill(e: Entry, fn: Function) -> None:
    """What FastAPI puts in each parameter of ``fn`` (an endpoint or a dependency)."""
    args = [*fn.args.posonlyargs, *fn.args.args]
    defaults: list[ast.expr | None] = [None] * (len(args) - len(fn.args.defaults))
    defaults += fn.args.defaults
    pairs = list(zip(args, defaults, strict=True))
    pairs += list(zip(fn.args.kwonlyargs, fn.args.kw_defaults, strict=True))
    for arg, default in pairs:
        if _called(default) in _APP_DEFAULTS:
            if isinstance(default, ast.Call) and default.args:
                e.depends[arg.arg] = default.args[0]  # Depends(dep): what dep returns
            continue
        kind = type_name(arg.annotation)
        if kind in _REQUEST_TYPES:
            e.params[arg.arg] = AS_REQUEST
        elif kind not in _CLEAN_TYPES:
            e.params[arg.arg] = ATTACKER
            if isinstance(arg.annotation, ast.Name | ast.Attribute):
                e.models[arg.arg] = arg.annotation  # a body model: its fields, see models.py


def _called(node: ast.expr | None) -> str:
    if isinstance(node, ast.Call):
        return getattr(node.func, "id", None) or getattr(node.func, "attr", "")
    return ""


def _html_response(fn: Function) -> bool:
    for d in fn.decorator_list:
        if isinstance(d, ast.Call):
            for k in d.keywords:
                if k.arg == "response_class" and "HTML" in ast.unparse(k.value):
                    return True
    return False
