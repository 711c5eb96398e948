"""Schedules declared as their own resources, as schedule triggers on their target function.

``AWS::Scheduler::Schedule`` (``ScheduleExpression``, ``Target.Arn``) and an
``AWS::Events::Rule`` with a ``ScheduleExpression`` and function targets are
how templates schedule a function outside its ``Events``.  Each becomes a
``schedule: {cron: ...}`` trigger on the function the target names; a rule
with an ``EventPattern`` (not a schedule) and targets that are not functions
of the template are reported.
"""

from __future__ import annotations

from typing import Any

from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.intrinsics import Resolver, is_intrinsic
from ramparts.aws.sam.resources import Catalog


def _target_function(arn: Any, catalog: Catalog) -> str | None:
    """The logical id of the template function an ARN value names, or None."""
    if is_intrinsic(arn):
        (fn, arg), = arn.items()
        if fn == "Fn::GetAtt":
            lid = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
        elif fn == "Ref":
            lid = arg
        elif fn == "Fn::Sub" and isinstance(arg, str) and arg.startswith("${") \
                and arg.endswith(".Arn}"):
            lid = arg[2:-5]
        else:
            return None
        res = catalog.resources.get(str(lid))
        return res.logical_id if res is not None and res.kind == "function" else None
    return None


def schedule_triggers(
    live: dict[str, Any], resolver: Resolver, notes: list[str]
) -> dict[str, list[tuple[str, dict[str, Any]]]]:
    """Function logical id -> [(source resource, trigger)]."""
    from ramparts.events.cron import ScheduleError, parse_schedule

    out: dict[str, list[tuple[str, dict[str, Any]]]] = {}
    catalog = resolver.catalog
    for lid, res in live.items():
        rtype = res["Type"]
        if rtype not in ("AWS::Scheduler::Schedule", "AWS::Events::Rule"):
            continue
        props = res.get("Properties") or {}
        where = f"Resources.{lid}"
        if "ScheduleExpression" not in props:
            notes.append(f"{where}: event rules that match events (EventPattern) have no "
                         "equivalent")
            continue
        try:
            expr = resolver.resolve_str(props["ScheduleExpression"], "ScheduleExpression")
            parse_schedule(expr)
        except (Unresolvable, ScheduleError) as exc:
            notes.append(f"{where}.ScheduleExpression: {exc}; not imported")
            continue
        tz = props.get("ScheduleExpressionTimezone")
        if tz not in (None, "UTC", "Etc/UTC"):
            notes.append(f"{where}.ScheduleExpressionTimezone: {tz} has no equivalent; "
                         "runs in UTC")
        targets = props.get("Targets") if rtype == "AWS::Events::Rule" else [props.get("Target")]
        for i, target in enumerate(targets or []):
            target = target or {}
            fn = _target_function(target.get("Arn"), catalog)
            if fn is None:
                notes.append(f"{where}: target {i} is not a function of the template; "
                             "not imported")
                continue
            if "Input" in target:
                notes.append(f"{where}: target Input has no equivalent; the handler gets the "
                             "Scheduled Event")
            out.setdefault(fn, []).append((lid, {"schedule": {"cron": expr}}))
    return out
