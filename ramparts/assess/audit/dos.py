"""Abuse checks: the WAF's mode and invocation budgets (denial of wallet).

RP-A019/RP-A020 read each app's ``waf.mode`` as its live version was
deployed, and each route's own ``waf:`` override (a route may turn the WAF off
under an app that blocks, or back on under one that does not).  RP-A021 fires
for a function with no ``budget:`` in an app with no ``app_limits.budget``.
Not checked: the WAF's rule exclusions and disabled rules (``ramparts waf
rules`` lists them), and whether a budget is large enough to be useless.
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding

_RULE = {"off": "RP-A019", "detect": "RP-A020"}


def check_waf(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    app_modes: dict[str, str] = {}
    for fn in inputs.functions:
        app_modes.setdefault(fn.app, fn.waf.mode)
    for app, mode in sorted(app_modes.items()):
        if mode in _RULE:
            found.append(Finding(_RULE[mode], f"app:{app} waf.mode", f"waf: {{mode: {mode}}}", app))
    for fn in inputs.functions:
        for trigger in fn.config.triggers:
            route = trigger.http
            if route is None or route.waf is None or route.waf == app_modes[fn.app]:
                continue
            if route.waf in _RULE:
                where = f"{route.method} {route.path}"
                found.append(
                    Finding(
                        _RULE[route.waf],
                        where,
                        f"function {fn.name}: route waf: {route.waf}",
                        fn.app,
                        fn.name,
                    )
                )
    return found


def check_budgets(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        app_budget = fn.app_limits.budget if fn.app_limits is not None else None
        if app_budget is None and fn.config.budget is None:
            found.append(
                Finding(
                    "RP-A021",
                    f"function:{fn.name}",
                    "no budget: on the function and no app_limits.budget on its app",
                    fn.app,
                    fn.name,
                )
            )
    return found
