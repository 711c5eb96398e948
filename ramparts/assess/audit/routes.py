"""Route checks: public routes, expected or not, and routes without a rate limit.

RP-A001 public route (``auth: none``) with no ``rate:``; RP-A002 public route
the audit was not told to expect; RP-A003 private route with no ``rate:``.
Webhook routes are not http routes here: their callers are authenticated by
signature, and their volume is the sender's.  What is not checked: whether a
key's own ``--rate`` makes up for a route without one (a key limit covers one
caller, not the route).
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding


def _expected(expect: tuple[str, ...], method: str, path: str) -> bool:
    return f"{method} {path}" in expect or path in expect


def check_routes(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        for trigger in fn.config.triggers:
            route = trigger.http
            if route is None:
                continue
            where = f"{route.method} {route.path}"
            public = route.auth == "none"
            if public and not route.rates:
                found.append(
                    Finding(
                        "RP-A001",
                        where,
                        f"function {fn.name}: auth: none and no rate: limit on {where}",
                        fn.app,
                        fn.name,
                    )
                )
            elif not public and not route.rates:
                found.append(
                    Finding(
                        "RP-A003",
                        where,
                        f"function {fn.name}: auth {route.auth or 'api_key (default)'}, "
                        "no rate: limit",
                        fn.app,
                        fn.name,
                    )
                )
            if public and not _expected(inputs.options.expect_public, route.method, route.path):
                found.append(
                    Finding(
                        "RP-A002",
                        where,
                        f"function {fn.name}: {where} answers without authentication and is not "
                        "in --expect-public",
                        fn.app,
                        fn.name,
                    )
                )
    return found
