"""Where attacker data enters: entry points, request objects, globals, messages.

Each framework model (``frameworks/``) recognises its own entry points; this
module asks them in turn and merges what they know about request objects, so
the engine has one table of request attributes and methods that yield data.
"""

from __future__ import annotations

from ramparts.scan.taint.frameworks import (
    aiohttp,
    awslambda,
    django,
    fastapi,
    flask,
    messaging,
    powertools,
)
from ramparts.scan.taint.frameworks.base import (
    AS_REQUEST,
    AS_SESSION,
    ATTACKER,
    Entry,
)
from ramparts.scan.taint.index import Function, ModuleIndex, positional
from ramparts.scan.taint.rules import Taint

REQUEST_ATTRS = flask.REQUEST_ATTRS | django.REQUEST_ATTRS | fastapi.REQUEST_ATTRS \
    | aiohttp.REQUEST_ATTRS | powertools.REQUEST_ATTRS
REQUEST_METHODS = flask.REQUEST_METHODS | django.REQUEST_METHODS | fastapi.REQUEST_METHODS \
    | aiohttp.REQUEST_METHODS | powertools.REQUEST_METHODS
VIEW_ATTRS = django.VIEW_ATTRS
READ_METHODS = messaging.READ_METHODS
CONSUMERS = messaging.CONSUMERS
SESSION_FACTORIES = aiohttp.SESSION_FACTORIES
# words that make a function worth running even when no parameter is attacker data
SOURCE_WORDS = READ_METHODS | powertools.CURRENT \
    | frozenset(c.rsplit(".", 1)[-1] for c in CONSUMERS) \
    | frozenset(f.rsplit(".", 1)[-1] for f in SESSION_FACTORIES)
SOURCE_GLOBALS = frozenset(flask.GLOBALS) | CONSUMERS | SESSION_FACTORIES
_GLOBAL_TAINT = {"request": AS_REQUEST, "session": AS_SESSION}
_REQUEST_PARAMS = frozenset({"request", "req"})


def global_taint(origin: str) -> Taint | None:
    """Taint of an imported name such as ``flask.request`` (None: not a source)."""
    kind = flask.GLOBALS.get(origin)
    return _GLOBAL_TAINT[kind] if kind else None


def current_request(ctor: str, attr: str) -> Taint | None:
    """``app.current_event`` of a Powertools/Chalice app object is the request."""
    return AS_REQUEST if attr in powertools.CURRENT and powertools.made_by_router(ctor) \
        else None


def entries(mod: ModuleIndex, declared: set[str]) -> list[Entry]:
    """The entry points of one module; ``declared`` are handler names a manifest gives."""
    exported = {fn for alias, fn in mod.function_aliases.items()
                if alias in declared or alias in awslambda.HANDLER_NAMES}  # handler = _impl
    out = [_function_entry(mod, fn, name in declared or name in exported)
           for name, fn in mod.functions.items()]
    out += [_function_entry(mod, fn, fn.name in declared or fn.name in exported)
            for fn in mod.shadowed]
    called = {mod.dotted(call.func) for name, call in mod.instances.items()
              if name in declared or name in awslambda.HANDLER_NAMES}
    for cls in mod.classes.values():
        for fn in cls.methods.values():
            e = flask.entry(mod, fn, cls) or django.entry(mod, fn, cls) \
                or aiohttp.entry(mod, fn, cls) or awslambda.method_entry(
                    fn, cls.name, fn.name == "__call__" and cls.name in called)
            out.append(e or Entry(fn, "code", cls=cls.name, reads=_reads(mod, fn)))
    return out


def _function_entry(mod: ModuleIndex, fn: Function, declared: bool) -> Entry:
    e = flask.entry(mod, fn, None) or fastapi.entry(mod, fn, None) \
        or django.entry(mod, fn, None) or powertools.entry(mod, fn, None)
    if e is not None:
        return e
    params = positional(fn)
    if not declared and params and params[0] in _REQUEST_PARAMS:
        return Entry(fn, "web", {params[0]: AS_REQUEST})  # Starlette, aiohttp, DRF ...
    if not declared and fn.name in mod.callbacks and params:
        return Entry(fn, "message", {params[0]: ATTACKER})
    # any other function still reads sources of its own (flask.request, queue reads)
    return awslambda.entry(fn, declared) or Entry(fn, "code", reads=_reads(mod, fn))



def _reads(mod: ModuleIndex, fn: Function) -> bool:
    return mod.reads_sources(fn)
