"""RP-L002: a traceback or an exception's text sent back to the caller.

Exception text carries file paths, SQL, hostnames, library versions and
sometimes the data that failed; a traceback is a map of the code.  What is
exception text: ``traceback.format_exc()``/``format_exception``/
``format_tb``/``format_stack``, ``sys.exc_info()``, and an ``except ... as e``
name used as ``str(e)``, ``repr(e)``, ``e.args``, ``{e}`` in an f-string,
``"%s" % e``, ``.format(e)``, ``+ str(e)``, or assigned to a local first.
Where it must not go: a response constructor (Flask ``jsonify``/
``make_response``/``Response``, Django ``HttpResponse``/``JsonResponse``,
Starlette/FastAPI responses, ``HTTPException(detail=...)``, ``abort``,
aiohttp ``web.Response``/``json_response``), a Lambda proxy response dict
(``{"statusCode": ..., "body": ...}``, reported where it is built even when
returned later through a local), or the ``return`` of a handler or view (a
function with a route decorator, an ``event``/``request`` parameter, or
returning a ``(body, status)`` tuple).  The exception parameter of a
registered error handler (Flask ``errorhandler``, FastAPI/Starlette
``exception_handler``, and their ``register_``/``add_`` forms) is an
exception like ``except ... as e``.

Logging it (``logger.exception``) is the fix and is never reported.
"""

from __future__ import annotations

import ast

from ramparts.scan.findings import Rule, Severity
from ramparts.scan.logic.context import Hit, ModuleContext

RULE = Rule("RP-L002", "logic", "exception-text-in-response",
            "A traceback or exception text is returned to the caller.", "CWE-209")

_TRACEBACK = {"traceback.format_exc", "traceback.format_exception", "traceback.format_tb",
              "traceback.format_stack", "traceback.format_exception_only", "sys.exc_info",
              "traceback.extract_tb"}
_RESPONSES = {"jsonify", "make_response", "Response", "HttpResponse", "JsonResponse",
              "HttpResponseServerError", "HttpResponseBadRequest", "JSONResponse",
              "PlainTextResponse", "HTMLResponse", "ORJSONResponse", "UJSONResponse",
              "HTTPException", "abort", "json_response", "HTTPInternalServerError",
              "HTTPBadRequest"}
_CLIENT_SIDE = ("http.client.", "urllib3.", "requests.", "httpx.", "aiohttp.client")
_HANDLER_PARAMS = {"event", "request", "req", "evt"}
_HANDLER_DECORATORS = {"errorhandler", "app_errorhandler", "exception_handler"}
_REGISTRATIONS = {"register_error_handler", "add_exception_handler"}
_FIX = ("log the exception (logger.exception(...)) and return a fixed message with an "
        "error id the operator can look up; never the exception text or the traceback")


def check(ctx: ModuleContext) -> list[Hit]:
    hits: dict[int, Hit] = {}
    handlers = _error_handlers(ctx)
    for scope, nodes in ctx.scopes.items():
        errors, texts = _exception_names(ctx, nodes)
        if scope in handlers:
            errors |= handlers[scope]
        built: set[str] = set()  # locals holding a Lambda response reported where built
        for node in nodes:
            if isinstance(node, ast.Call) and _is_response(ctx, node):
                parts = [*node.args, *(k.value for k in node.keywords)]
                if any(_carries(ctx, p, errors, texts) for p in parts):
                    hits.setdefault(node.lineno, _hit(node, "passed to a response"))
            elif (isinstance(node, ast.Dict) and _is_lambda_response(node)
                  and _carries(ctx, node, errors, texts)):
                hits.setdefault(node.lineno, _hit(node, "put in a Lambda response"))
                stmt = ctx.statement_of(node)
                if isinstance(stmt, ast.Assign) and stmt.value is node:
                    built |= {t.id for t in stmt.targets if isinstance(t, ast.Name)}
        for node in nodes:
            if (isinstance(node, ast.Return) and node.value is not None
                    and isinstance(scope, ast.FunctionDef | ast.AsyncFunctionDef)
                    and not (isinstance(node.value, ast.Name) and node.value.id in built)
                    and not (isinstance(node.value, ast.Dict) and _is_lambda_response(node.value))
                    and _is_handler(ctx, scope, node.value)
                    and _carries(ctx, node.value, errors, texts)):
                hits.setdefault(node.lineno, _hit(node, "returned by a handler"))
    return list(hits.values())


def _is_lambda_response(node: ast.Dict) -> bool:
    """An API Gateway/Lambda proxy response: a dict literal with ``statusCode``."""
    return any(isinstance(k, ast.Constant) and k.value == "statusCode" for k in node.keys)


def _error_handlers(ctx: ModuleContext) -> dict[ast.AST, set[str]]:
    """Functions registered as error handlers, with the parameter holding the exception.

    Flask ``@app.errorhandler(E)`` / ``register_error_handler(E, fn)`` pass the
    exception first; FastAPI/Starlette ``@app.exception_handler(E)`` /
    ``add_exception_handler(E, fn)`` pass ``(request, exc)``.  Whatever such a
    function returns goes to the caller, so its exception is as telling as an
    ``except ... as e``.
    """
    registered: set[str] = set()
    for call in ctx.calls:
        if isinstance(call.func, ast.Attribute) and call.func.attr in _REGISTRATIONS \
                and len(call.args) >= 2 and isinstance(call.args[1], ast.Name):
            registered.add(call.args[1].id)
    out: dict[ast.AST, set[str]] = {}
    for fn in ctx.scopes:
        if not isinstance(fn, ast.FunctionDef | ast.AsyncFunctionDef):
            continue
        decorated = any(isinstance(d, ast.Call) and isinstance(d.func, ast.Attribute)
                        and d.func.attr in _HANDLER_DECORATORS for d in fn.decorator_list)
        if decorated or fn.name in registered:
            params = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args]]
            out[fn] = {p for p in params if p not in _HANDLER_PARAMS | {"self"}}
    return out


def _hit(node: ast.stmt | ast.expr, how: str) -> Hit:
    return Hit(RULE.rule_id, node.lineno, node.col_offset + 1,
               f"exception text or a traceback is {how}: it tells the caller about the code, "
               "its paths and its data", _FIX, Severity.MEDIUM)


def _exception_names(ctx: ModuleContext, nodes: list[ast.AST]) -> tuple[set[str], set[str]]:
    """(names holding an exception object, locals holding its text), to a fixpoint.

    ``except ... as e`` and ``err = e`` hold the exception, which is only text
    where it is rendered (``str(e)``, ``{e}``); ``msg = str(e)`` holds text.
    """
    errors = {n.name for n in nodes if isinstance(n, ast.ExceptHandler) and n.name}
    texts: set[str] = set()
    changed = True
    while changed:
        changed = False
        for node in nodes:
            if not (isinstance(node, ast.Assign | ast.AnnAssign) and node.value is not None):
                continue
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            names = {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}
            if isinstance(node.value, ast.Name) and node.value.id in errors:
                new, into = names - errors, errors
            elif _carries(ctx, node.value, errors, texts):
                new, into = names - texts, texts
            else:
                continue
            if new:
                into.update(new)
                changed = True
    return errors, texts


def _carries(ctx: ModuleContext, expr: ast.AST, errors: set[str], texts: set[str]) -> bool:
    """Does ``expr`` contain exception text: a traceback, a rendered exception, or its text?"""
    for node in ast.walk(expr):
        if isinstance(node, ast.Call) and ctx.call_name(node) in _TRACEBACK:
            return True
        if isinstance(node, ast.Name):
            if node.id in texts:
                return True
            if node.id in errors and _rendered(ctx, node):
                return True
    return False


def _rendered(ctx: ModuleContext, node: ast.Name) -> bool:
    """``str(e)``, ``repr(e)``, ``f"{e}"``, ``"%s" % e``, ``.format(e)``, ``e.args``."""
    parent = ctx.parents.get(node)
    if isinstance(parent, ast.FormattedValue | ast.BinOp):
        return True
    if isinstance(parent, ast.Tuple) and isinstance(ctx.parents.get(parent), ast.BinOp):
        return True  # "%s: %s" % (kind, e)
    if isinstance(parent, ast.keyword):
        parent = ctx.parents.get(parent)
    if isinstance(parent, ast.Call):
        name = ctx.call_name(parent)
        return name in {"str", "repr"} or name.endswith(".format")
    return isinstance(parent, ast.Attribute) and parent.attr in {
        "args", "message", "msg", "strerror", "detail", "description"}


def _is_response(ctx: ModuleContext, call: ast.Call) -> bool:
    name = ctx.call_name(call)
    # http.client/urllib3/requests HTTPException are client-side errors, not responses
    return name.rsplit(".", 1)[-1] in _RESPONSES and not name.startswith(_CLIENT_SIDE)


def _is_handler(ctx: ModuleContext, fn: ast.FunctionDef | ast.AsyncFunctionDef,
                value: ast.expr) -> bool:
    params = {a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]}
    if params & _HANDLER_PARAMS or fn.name in {"handler", "lambda_handler", "main"}:
        return True
    if any(_is_route(ctx, d) for d in fn.decorator_list):
        return True
    if isinstance(value, ast.Dict):
        keys = {k.value for k in value.keys if isinstance(k, ast.Constant)}
        return bool(keys & {"statusCode", "body"})
    return isinstance(value, ast.Tuple) and len(value.elts) >= 2 and isinstance(
        value.elts[1], ast.Constant) and isinstance(value.elts[1].value, int)


def _is_route(ctx: ModuleContext, decorator: ast.expr) -> bool:
    target = decorator.func if isinstance(decorator, ast.Call) else decorator
    name = ctx.qualname(target) or ""
    return name.rsplit(".", 1)[-1] in {"route", "get", "post", "put", "delete", "patch",
                                        "api_view", "websocket", "api_route", "view_config"}
