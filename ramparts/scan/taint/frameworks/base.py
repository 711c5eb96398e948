"""What a framework model tells the engine: entry points and request objects.

A request object is not attacker data as a whole (``request.user`` and
``request.method`` are the framework's); only some of its parts are. The
engine carries such objects as a marker in the taint set (``REQUEST``), and a
framework model lists which attributes and methods of a request yield
attacker data. ``SESSION`` marks a session mapping (a trust-boundary sink) and
``VIEW`` a class-based view's ``self`` (whose ``request`` and ``kwargs`` are
the request's).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field

from ramparts.scan.taint.index import Function
from ramparts.scan.taint.rules import KINDS, Taint

REQUEST = "@request"
SESSION = "@session"
VIEW = "@view"
MARKERS = frozenset({REQUEST, SESSION, VIEW})
AS_REQUEST: Taint = frozenset({REQUEST})
AS_SESSION: Taint = frozenset({SESSION})
AS_VIEW: Taint = frozenset({VIEW})
ATTACKER: Taint = KINDS

# the HTTP verbs under which route decorators register a view
ROUTE_DECORATORS = frozenset({"route", "get", "post", "put", "patch", "delete", "head",
                              "options", "api_route", "websocket", "view"})


@dataclass
class Entry:
    """A function the outside world calls, and what its parameters hold."""

    fn: Function
    origin: str  # "lambda", "flask", "django", "fastapi", "aiohttp", "message"
    params: dict[str, Taint] = field(default_factory=dict)
    cls: str | None = None  # the class a method entry belongs to
    html_returns: bool = False  # a string it returns is sent as text/html
    # for plain code (origin "code"): whether its body reads a source of its own; a
    # method that does not is run only once its class holds attacker data in a field
    reads: bool = True
    # parameters typed with a class (a request body model) -> that annotation
    models: dict[str, ast.expr] = field(default_factory=dict)
    # FastAPI ``p = Depends(dep)`` parameters -> ``dep``: p holds what dep returns, with
    # dep's own parameters filled from the request
    depends: dict[str, ast.expr] = field(default_factory=dict)


def decorator_names(fn: Function) -> list[tuple[str, bool]]:
    """(last attribute, is called) of each decorator: ``@app.route("/")`` -> ("route", True)."""
    out = []
    for d in fn.decorator_list:
        called = False
        if hasattr(d, "func"):
            d, called = d.func, True  # type: ignore[attr-defined]
        name = getattr(d, "attr", None) or getattr(d, "id", "")
        out.append((name, called))
    return out


def is_route(fn: Function) -> bool:
    return any(called and name in ROUTE_DECORATORS for name, called in decorator_names(fn))
