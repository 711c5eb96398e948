"""Manifest lint: risky but valid settings in ``ramparts.yaml``.

The manifest schema (``ramparts.manifest``) refuses what is invalid; this
module flags what is valid but weakens the app, with severities calibrated
so that an ordinary app with a deliberate public route deploys with warnings
(low/medium), while settings that hand out everything (an ``*`` action on an
``*`` resource) block.
"""

from __future__ import annotations

import re
from typing import Any

import yaml

from ramparts.manifest import Manifest
from ramparts.scan.findings import Finding, Rule, Severity

RULES = [
    Rule("RP-M001", "manifest", "public-route",
         "An HTTP route is declared public (auth: none).", "CWE-306"),
    Rule("RP-M002", "manifest", "public-route-without-rate-limit",
         "A public route has no rate limit.", "CWE-770"),
    Rule("RP-M003", "manifest", "wildcard-policy",
         "A role statement allows a wildcard action or an unscoped resource.", "CWE-732"),
    Rule("RP-M004", "manifest", "webhook-without-signature",
         "A webhook-like path is a plain HTTP route, so no signature is verified.", "CWE-345"),
    Rule("RP-M005", "manifest", "missing-timeout",
         "A function has no explicit timeout (the 30 s default applies).", "CWE-400"),
    Rule("RP-M006", "manifest", "retries-without-dead-letter",
         "An asynchronous trigger retries but has no dead-letter topic.", "CWE-755"),
    Rule("RP-M007", "manifest", "weakened-runtime",
         "Runtime protection is off, or egress is open to any host.", "CWE-693"),
]

_WEBHOOK_WORD = re.compile(r"web[-_]?hooks?|^hooks?$|^ipn$|^notify$", re.I)
_CALLBACK = re.compile(r"^callbacks?$", re.I)
# an OAuth/OIDC redirect endpoint is a "callback" too, but the browser calls it, not a sender
_LOGIN_SEGMENT = re.compile(r"^(oauth2?|auth|login|sso|sign-?in|openid|oidc)$", re.I)
_UNSCOPED = re.compile(r"^(\*|[a-z]+:\*|arn:ramparts:\*.*)$")


def line_map(text: str) -> dict[tuple[str, ...], int]:
    """Field path -> 1-based line, from the YAML node tree (keys of mappings)."""
    out: dict[tuple[str, ...], int] = {}
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
    except yaml.YAMLError:
        return out

    def walk(node: Any, path: tuple[str, ...]) -> None:
        if isinstance(node, yaml.MappingNode):
            for key, value in node.value:
                sub = (*path, str(key.value))
                out[sub] = key.start_mark.line + 1
                walk(value, sub)
        elif isinstance(node, yaml.SequenceNode):
            for i, item in enumerate(node.value):
                sub = (*path, str(i))
                out[sub] = item.start_mark.line + 1
                walk(item, sub)

    if root is not None:
        walk(root, ())
    return out


def looks_like_webhook(path: str) -> bool:
    """``/hooks/stripe``, ``/stripe-webhook``, ``/payments/callback``; not ``/oauth/callback``."""
    segments = [s for s in path.split("/") if s and not s.startswith("{")]
    if any(_WEBHOOK_WORD.search(s) for s in segments):
        return True
    return any(_CALLBACK.match(s) for s in segments) and not any(
        _LOGIN_SEGMENT.match(s) for s in segments
    )


def lint(manifest: Manifest, lines: dict[tuple[str, ...], int]) -> list[Finding]:
    findings: list[Finding] = []

    def add(rule: str, sev: Severity, path: tuple[str, ...], msg: str, fix: str) -> None:
        line = 1
        for n in range(len(path), 0, -1):
            if path[:n] in lines:
                line = lines[path[:n]]
                break
        cwe = next(r.cwe for r in RULES if r.rule_id == rule)
        findings.append(
            Finding(rule, sev, "ramparts.yaml", line, msg, fix, "manifest", cwe,
                    fingerprint_text=".".join(path))
        )

    for name, fn in manifest.functions.items():
        base = ("functions", name)
        for i, trig in enumerate(fn.triggers):
            where = (*base, "triggers", str(i), trig.kind)
            if trig.http is not None:
                route = f"{trig.http.method} {trig.http.path}"
                if trig.http.auth == "none":
                    add("RP-M001", Severity.LOW, (*where, "auth"),
                        f"route {route} of {name} is public: anyone can call it",
                        "keep it only if it is meant for the world; otherwise use api_key, "
                        "jwt or oauth2")
                    if trig.http.rate is None:
                        add("RP-M002", Severity.MEDIUM, where,
                            f"public route {route} of {name} has no rate limit",
                            "add rate: N/minute to the trigger to cap abuse and cost")
                if looks_like_webhook(trig.http.path):
                    add("RP-M004", Severity.MEDIUM, where,
                        f"route {route} of {name} looks like a webhook but is a plain http "
                        "trigger, so no signature is checked",
                        "declare it as a webhook: trigger with scheme: and secret:")
            delivery = trig.config
            if trig.kind in ("topic", "schedule", "object", "table", "webhook"):
                if getattr(delivery, "retries", 0) > 0 and not getattr(delivery, "dead_letter",
                                                                       None):
                    add("RP-M006", Severity.LOW, where,
                        f"{trig.kind} trigger of {name} retries {delivery.retries} times and "
                        "then drops the event",
                        "add dead_letter: TOPIC so failed events are kept for inspection")
        if "timeout" not in fn.model_fields_set:
            add("RP-M005", Severity.LOW, base,
                f"function {name} has no explicit timeout (default 30s)",
                "set timeout: to the longest a call should take, e.g. 5s")
        if fn.role is not None:
            for j, st in enumerate(fn.role.statements):
                if st.effect != "allow":
                    continue
                spath = (*base, "role", "statements", str(j))
                any_action = any(a == "*" for a in st.actions)
                wild_actions = [a for a in st.actions if "*" in a]
                unscoped = [r for r in st.resources if _UNSCOPED.match(r)]
                if any_action and "*" in st.resources:
                    add("RP-M003", Severity.HIGH, spath,
                        f"function {name} is allowed every action on every resource",
                        "list the actions and resources the function needs "
                        "(ramparts policy suggest proposes them)")
                elif wild_actions or unscoped:
                    what = ", ".join([*wild_actions, *unscoped])
                    add("RP-M003", Severity.MEDIUM, spath,
                        f"function {name} has a wildcard grant ({what})",
                        "name the actions and scope resources to a table, bucket or prefix")
        if fn.runtime_protection == "off":
            add("RP-M007", Severity.MEDIUM, (*base, "runtime_protection"),
                f"function {name} runs with runtime protection off",
                "use block (or detect while tuning)")
        if any(e.split(":")[0] in ("*", "0.0.0.0/0") for e in fn.egress):
            add("RP-M007", Severity.MEDIUM, (*base, "egress"),
                f"function {name} may connect to any host",
                "list the host:port pairs the function needs")
    return findings
