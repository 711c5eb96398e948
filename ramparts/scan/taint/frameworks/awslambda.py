"""AWS Lambda style handlers: ``handler(event, context)`` under any names.

The function a manifest names is called with the event as its first
positional argument whatever that parameter is called; ``*args`` and
``**kwargs`` receive it too (``def handler(*a): ev, ctx = a``). Without a
manifest, a module-level function that looks like a handler is treated as one.
"""

from __future__ import annotations

from ramparts.scan.taint.frameworks.base import ATTACKER, Entry
from ramparts.scan.taint.index import Function, positional

CONTEXT_PARAMS = frozenset({"context", "ctx", "_context", "lambda_context", "_ctx", "_"})
HANDLER_NAMES = frozenset({"handler", "lambda_handler", "handle", "entrypoint",
                           "entry_point", "function_handler", "app_handler"})


def entry(fn: Function, declared: bool) -> Entry | None:
    params = positional(fn)
    if declared or _looks_like_handler(fn, params):
        e = Entry(fn, "lambda")
        if params and (declared or "event" not in params):
            e.params[params[0]] = ATTACKER
        if "event" in params:
            e.params["event"] = ATTACKER
        for star in (fn.args.vararg, fn.args.kwarg):
            if star is not None:
                e.params[star.arg] = ATTACKER
        return e
    return None


def method_entry(fn: Function, cls: str, declared: bool) -> Entry | None:
    """A handler object's method: ``handler = Thumbnailer()``, ``__call__(self, event, ctx)``."""
    params = positional(fn)[1:]
    if declared or "event" in params or (len(params) == 2 and params[1] in CONTEXT_PARAMS):
        first = "event" if "event" in params else params[0] if params else None
        return Entry(fn, "lambda", {first: ATTACKER} if first else {}, cls=cls)
    return None


def _looks_like_handler(fn: Function, params: list[str]) -> bool:
    if "event" in params:
        return True
    if len(params) == 2 and params[1] in CONTEXT_PARAMS:
        return True
    named = fn.name in HANDLER_NAMES or fn.name.endswith("_handler")
    return named and (bool(params) or fn.args.vararg is not None) and not fn.decorator_list
