"""Django and Django REST framework views: function views and class-based views.

``request.GET/POST/COOKIES/META/FILES/body`` (and DRF's ``data`` and
``query_params``) are attacker data, as are the URL kwargs a view receives;
``request.session`` is a session mapping (trust boundary).
"""

from __future__ import annotations

from ramparts.scan.taint.frameworks.base import AS_REQUEST, AS_VIEW, ATTACKER, Entry
from ramparts.scan.taint.index import ClassInfo, Function, ModuleIndex, positional

ROOTS = frozenset({"django", "rest_framework"})
REQUEST_ATTRS = frozenset({"GET", "POST", "COOKIES", "META", "FILES", "body", "data",
                           "query_params", "headers", "path", "path_info", "content_params"})
REQUEST_METHODS = frozenset({"get_full_path", "build_absolute_uri", "get_full_path_info",
                             "read", "readline", "readlines", "get_host"})
VIEW_ATTRS = {"request": AS_REQUEST, "kwargs": ATTACKER, "args": ATTACKER}
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head", "dispatch",
                           "list", "retrieve", "create", "update", "partial_update", "destroy",
                           "form_valid", "get_queryset", "get_object", "get_context_data"})


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if not ROOTS & mod.imported_roots:
        return None
    params = positional(fn)
    if cls is None:
        if not params or params[0] not in ("request", "req"):
            return None
        e = Entry(fn, "django")
        rest = params[1:]
    else:
        if fn.name not in _VIEW_METHODS or not any(
                b.rsplit(".", 1)[-1].endswith(("View", "ViewSet", "Mixin")) for b in cls.bases):
            return None
        e = Entry(fn, "django", cls=cls.name)
        if params:
            e.params[params[0]] = AS_VIEW
        rest = params[1:]
        if rest and rest[0] in ("request", "req"):
            e.params[rest[0]] = AS_REQUEST
            rest = rest[1:]
        else:
            rest = []  # form_valid(self, form), get_queryset(self): only self.request
    if cls is None:
        e.params[params[0]] = AS_REQUEST
    for p in rest:
        e.params[p] = ATTACKER
    for star in (fn.args.vararg, fn.args.kwarg):
        if star is not None:
            e.params[star.arg] = ATTACKER
    return e
