"""Flask (and Quart, Bottle): the ``request`` global, ``session``, routed views.

A routed view's parameters are URL parts the client chose; a string it
returns is sent as ``text/html``, so returning request data unescaped is XSS.
"""

from __future__ import annotations

import ast
import re

from ramparts.scan.taint.frameworks.base import ATTACKER, Entry, is_route
from ramparts.scan.taint.index import ClassInfo, Function, ModuleIndex, positional

ROOTS = frozenset({"flask", "quart", "bottle"})
GLOBALS = {"flask.request": "request", "quart.request": "request", "bottle.request": "request",
           "flask.session": "session", "quart.session": "session",
           "flask.globals.request": "request", "flask.globals.session": "session"}
REQUEST_ATTRS = frozenset({"args", "form", "json", "values", "cookies", "headers", "files",
                           "data", "view_args", "path", "full_path", "url", "base_url",
                           "query_string", "stream", "environ", "referrer", "user_agent",
                           "query", "forms", "params", "body", "url_rule", "host_url"})
REQUEST_METHODS = frozenset({"get_json", "get_data"})
# URL converters that only match (and pass) a number or a UUID: ``<int:pid>``
_TYPED_CONVERTERS = frozenset({"int", "float", "uuid"})
_CONVERTER = re.compile(r"<(\w+)(?:\([^)]*\))?:(\w+)>")
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "dispatch_request"})


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if not ROOTS & mod.imported_roots:
        return None
    if cls is None and (is_route(fn) or fn.name in mod.registered):
        e = Entry(fn, "flask", html_returns=True)
    elif cls is not None and fn.name in _VIEW_METHODS and any(
            b.endswith(("MethodView", ".View")) for b in cls.bases):
        e = Entry(fn, "flask", cls=cls.name, html_returns=True)
    else:
        return None
    params = positional(fn)[1 if cls is not None else 0:]
    typed = _typed_parts(fn, mod.registered.get(fn.name, []))
    e.params = {p: ATTACKER for p in params if p not in typed}
    for star in (fn.args.vararg, fn.args.kwarg):
        if star is not None:
            e.params[star.arg] = ATTACKER
    return e


def _typed_parts(fn: Function, registered: list[str]) -> set[str]:
    """View arguments every route rule of ``fn`` fills through a typed converter.

    A name typed in one rule but a plain string in another stays attacker text.
    ``registered`` are the rules of ``add_url_rule`` calls naming ``fn``.
    """
    typed: set[str] | None = None
    rules = [d.args[0].value for d in fn.decorator_list
             if isinstance(d, ast.Call) and d.args and isinstance(d.args[0], ast.Constant)
             and isinstance(d.args[0].value, str)]
    for rule in [*rules, *registered]:
        names = {m.group(2) for m in _CONVERTER.finditer(rule)
                 if m.group(1) in _TYPED_CONVERTERS}
        typed = names if typed is None else typed & names
    return typed or set()
