"""aiohttp web handlers: ``request.match_info``, ``query``, ``post()``, ``json()``.

Handlers are found by their ``request`` parameter (see ``sources.py``); this
module lists which parts of an aiohttp request are the client's.
"""

from __future__ import annotations

ROOTS = frozenset({"aiohttp"})
REQUEST_ATTRS = frozenset({"match_info", "query", "rel_url", "url", "headers", "cookies",
                           "content", "path", "path_qs", "query_string", "raw_path", "host"})
REQUEST_METHODS = frozenset({"post", "json", "text", "read", "multipart"})
# calls that return the client's session mapping (aiohttp_session)
SESSION_FACTORIES = frozenset({"aiohttp_session.get_session", "aiohttp_session.new_session"})
