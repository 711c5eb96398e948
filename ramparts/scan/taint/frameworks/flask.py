"""Flask (and Quart, Bottle): the ``request`` global, ``session``, routed views.

A routed view's parameters are URL parts the client chose; a string it
returns is sent as ``text/html``, so returning request data unescaped is XSS.
"""

from __future__ import annotations

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
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "dispatch_request"})


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if not ROOTS & mod.imported_roots:
        return None
    if cls is None and is_route(fn):
        e = Entry(fn, "flask", html_returns=True)
    elif cls is not None and fn.name in _VIEW_METHODS and any(
            b.endswith(("MethodView", ".View")) for b in cls.bases):
        e = Entry(fn, "flask", cls=cls.name, html_returns=True)
    else:
        return None
    params = positional(fn)[1 if cls is not None else 0:]
    e.params = {p: ATTACKER for p in params}
    for star in (fn.args.vararg, fn.args.kwarg):
        if star is not None:
            e.params[star.arg] = ATTACKER
    return e
