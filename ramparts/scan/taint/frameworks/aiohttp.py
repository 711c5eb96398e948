"""aiohttp web handlers: ``request.match_info``, ``query``, ``post()``, ``json()``.

Function handlers are found by their ``request`` parameter (see
``sources.py``); class-based views (``web.View``) by their base, where
``self.request`` is the request. This module lists which parts of an aiohttp
request are the client's.
"""

from __future__ import annotations

from ramparts.scan.taint.frameworks.base import AS_VIEW, Entry
from ramparts.scan.taint.index import ClassInfo, Function, ModuleIndex, positional

ROOTS = frozenset({"aiohttp"})
REQUEST_ATTRS = frozenset({"match_info", "query", "rel_url", "url", "headers", "cookies",
                           "content", "path", "path_qs", "query_string", "raw_path", "host"})
REQUEST_METHODS = frozenset({"post", "json", "text", "read", "multipart"})
# calls that return the client's session mapping (aiohttp_session)
SESSION_FACTORIES = frozenset({"aiohttp_session.get_session", "aiohttp_session.new_session"})
_VIEW_METHODS = frozenset({"get", "post", "put", "patch", "delete", "head"})


def entry(mod: ModuleIndex, fn: Function, cls: ClassInfo | None) -> Entry | None:
    if cls is None or not ROOTS & mod.imported_roots or fn.name not in _VIEW_METHODS:
        return None
    if not any(b.endswith(".View") for b in cls.bases):
        return None
    params = positional(fn)
    return Entry(fn, "aiohttp", {params[0]: AS_VIEW} if params else {}, cls=cls.name)
