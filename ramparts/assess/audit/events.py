"""Event-source checks: trigger input without a schema, failing events without a dead letter.

RP-A023: a ``topic`` trigger with no ``schema:``, or an http route that takes a
body (POST, PUT, PATCH, and ANY, which answers all three) with no ``schema:``.
Those are the triggers whose input
the manifest can validate before the handler runs; webhook triggers have no
``schema:`` (their sender is authenticated by signature, the handler validates
the payload), and schedule, object and table triggers carry platform-made events.
RP-A027: an asynchronous trigger (topic, schedule, object, table, webhook) with
no ``dead_letter:``: an event whose handler keeps failing is dropped after its
retries, and only the invocation records and logs keep the error.
Not checked: whether a schema is strict (``additionalProperties``, bounds).
"""

from __future__ import annotations

from ramparts.assess.audit.inputs import PostureInputs
from ramparts.assess.findings import Finding

BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
# ``method: ANY`` answers every method, so it takes POST, PUT and PATCH bodies too: left
# out, an author would hide a body-taking endpoint from RP-A023 by writing ANY.
_TAKES_BODY = BODY_METHODS | {"ANY"}
_ASYNC = ("topic", "schedule", "object", "table", "webhook")


def _where(kind: str, config: object) -> str:
    if kind == "topic":
        return f"topic:{config.name}"  # type: ignore[attr-defined]
    if kind == "schedule":
        return f"schedule:{config.cron}"  # type: ignore[attr-defined]
    if kind == "object":
        return f"bucket:{config.bucket}"  # type: ignore[attr-defined]
    if kind == "table":
        return f"table:{config.name}"  # type: ignore[attr-defined]
    return f"webhook:{config.path}"  # type: ignore[attr-defined]


def check_schemas(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        for trigger in fn.config.triggers:
            if trigger.topic is not None and trigger.topic.schema_ is None:
                where = _where("topic", trigger.topic)
                found.append(
                    Finding(
                        "RP-A023",
                        where,
                        f"function {fn.name}: messages of topic {trigger.topic.name} reach the "
                        "handler without schema validation",
                        fn.app,
                        fn.name,
                    )
                )
            route = trigger.http
            if route is not None and route.method in _TAKES_BODY and route.schema_ is None:
                where = f"{route.method} {route.path}"
                any_note = (
                    " (ANY accepts POST, PUT and PATCH bodies; list the methods it needs)"
                    if route.method == "ANY"
                    else ""
                )
                found.append(
                    Finding(
                        "RP-A023",
                        where,
                        f"function {fn.name}: the body of {where} reaches the handler without "
                        f"schema validation{any_note}",
                        fn.app,
                        fn.name,
                    )
                )
    return found


def check_dead_letters(inputs: PostureInputs) -> list[Finding]:
    found: list[Finding] = []
    for fn in inputs.functions:
        for trigger in fn.config.triggers:
            for kind in _ASYNC:
                config = getattr(trigger, kind)
                if config is None or config.dead_letter is not None:
                    continue
                found.append(
                    Finding(
                        "RP-A027",
                        _where(kind, config),
                        f"function {fn.name}: a {kind} event that fails {config.retries + 1} "
                        "time(s) is dropped (no dead_letter:)",
                        fn.app,
                        fn.name,
                    )
                )
    return found
