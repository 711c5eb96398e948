"""A SAM function's ``Events`` as Ramparts triggers.

| SAM event | trigger |
|---|---|
| Api (REST API) | ``http`` with ``payload: "1.0"`` |
| HttpApi | ``http`` with the API's payload version (2.0 unless the event says 1.0) |
| SQS | ``topic`` on the queue's name, with the event source mapping's batching |
| SNS | ``topic`` on the topic's name |
| S3 | ``object`` on the bucket, events and key prefix/suffix |
| DynamoDB | ``table`` on the stream's table, with batching (``StartingPosition`` ignored) |
| Schedule, ScheduleV2 | ``schedule`` with the ``rate()``/``cron()`` expression (UTC) |

Everything else (Kinesis, MSK, MQ, IoT, Cognito, CloudWatch Logs, EventBridge
rules, ...) is reported as having no equivalent.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.intrinsics import Resolver, is_intrinsic
from ramparts.aws.sam.resources import Catalog
from ramparts.patterns.match import PatternError, compile_pattern

_MAX_BATCH = 1000  # the manifest's batch_size limit
_MAX_WINDOW = 300


@dataclass
class EventContext:
    """What converting one function's events needs from the rest of the template."""

    template: dict[str, Any]
    resolver: Resolver
    catalog: Catalog


@dataclass
class EventResult:
    triggers: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    mapped: list[tuple[str, str]] = field(default_factory=list)  # (event, trigger summary)
    sources: list[str] = field(default_factory=list)  # the event each trigger came from


def convert_events(events: Any, ctx: EventContext, where: str) -> EventResult:
    result = EventResult()
    if not isinstance(events, dict):
        if events is not None:
            result.notes.append(f"{where}: Events must be a mapping; ignored")
        return result
    for name, event in events.items():
        at = f"{where}.{name}"
        if not isinstance(event, dict):
            result.notes.append(f"{at}: not a mapping; ignored")
            continue
        kind = str(event.get("Type", ""))
        props = event.get("Properties") or {}
        if not isinstance(props, dict):
            result.notes.append(f"{at}.Properties: not a mapping; event dropped")
            continue
        handler = _CONVERTERS.get(kind)
        if handler is None:
            result.notes.append(f"{at}: event type {kind or '(none)'} has no equivalent")
            continue
        try:
            trigger = handler(props, ctx, at, result.notes)
        except Unresolvable as exc:
            result.notes.append(f"{at}: {exc.reason}; event dropped")
            continue
        except (TypeError, ValueError) as exc:
            result.notes.append(f"{at}: {exc}; event dropped")
            continue
        except (AttributeError, IndexError, KeyError) as exc:
            result.notes.append(f"{at}: malformed ({exc.__class__.__name__}); event dropped")
            continue
        if trigger is None:
            continue
        if props.get("Enabled") is False or props.get("State") == "DISABLED":
            result.notes.append(f"{at}: disabled in the template; imported enabled")
        result.triggers.append(trigger)
        result.sources.append(f"{at}.Properties")
        (tkind, cfg), = trigger.items()
        result.mapped.append((f"{kind} {name}", _summary(tkind, cfg)))
    return result


def _summary(kind: str, cfg: dict[str, Any]) -> str:
    match kind:
        case "http":
            return f"http {cfg['method']} {cfg['path']} (payload {cfg['payload']})"
        case "topic" | "table":
            return f"{kind} {cfg['name']}"
        case "object":
            return f"object {cfg['bucket']} {','.join(cfg['events'])}"
        case _:
            return f"schedule {cfg['cron']}"


# -- HTTP ---------------------------------------------------------------------------------------
def _method(props: dict[str, Any], ctx: EventContext) -> str:
    method = ctx.resolver.resolve_str(props.get("Method", "ANY"), "Method").upper()
    return "ANY" if method in ("ANY", "X-AMAZON-APIGATEWAY-ANY-METHOD") else method


def _path(props: dict[str, Any], ctx: EventContext, default: str | None = None) -> str:
    if "Path" not in props and default is not None:
        return default
    return ctx.resolver.resolve_str(props.get("Path"), "Path")


def _api_auth(props: dict[str, Any], ctx: EventContext, api_type: str, id_key: str,
              at: str, notes: list[str]) -> str | None:
    """``none`` for an open route; None (private: API key or token) when the template
    protects it with something Ramparts has no equivalent for; ``api_key`` for keys."""
    from ramparts.aws.sam.template_globals import section_globals

    auth = props.get("Auth") or {}
    api_auth: dict[str, Any] = dict(section_globals(ctx.template, api_type.split("::")[-1])
                                    .get("Auth") or {})
    api_ref = props.get(id_key)
    if isinstance(api_ref, dict) and "Ref" in api_ref:
        api = ctx.template["Resources"].get(api_ref["Ref"]) or {}
        api_auth.update((api.get("Properties") or {}).get("Auth") or {})
    if auth.get("ApiKeyRequired") or (api_auth.get("ApiKeyRequired") and
                                      auth.get("ApiKeyRequired") is not False):
        return "api_key"
    authorizer = auth.get("Authorizer", api_auth.get("DefaultAuthorizer"))
    if authorizer in (None, "NONE"):
        return "none"
    notes.append(
        f"{at}: authorizer {authorizer!r} has no equivalent; the route is private (callers "
        "need an API key, or configure auth: jwt for it)"
    )
    return None


def _api(props: dict[str, Any], ctx: EventContext, at: str, notes: list[str]) -> dict[str, Any]:
    trigger: dict[str, Any] = {"method": _method(props, ctx), "path": _path(props, ctx),
                               "payload": "1.0"}
    auth = _api_auth(props, ctx, "AWS::Serverless::Api", "RestApiId", at, notes)
    if auth is not None:
        trigger["auth"] = auth
    return {"http": trigger}


def _http_api(props: dict[str, Any], ctx: EventContext, at: str,
              notes: list[str]) -> dict[str, Any]:
    payload = str(props.get("PayloadFormatVersion", "2.0"))
    if "Path" not in props:  # the API's $default route: everything
        trigger: dict[str, Any] = {"method": "ANY", "path": "/{proxy+}"}
    else:
        trigger = {"method": _method(props, ctx), "path": _path(props, ctx)}
    trigger["payload"] = "1.0" if payload == "1.0" else "2.0"
    auth = _api_auth(props, ctx, "AWS::Serverless::HttpApi", "ApiId", at, notes)
    if auth is not None:
        trigger["auth"] = auth
    return {"http": trigger}


# -- queues, topics, tables -------------------------------------------------------------------
def _name_from_arn(value: Any, ctx: EventContext, attr: str, kind: str) -> str:
    """The Ramparts name behind ``!GetAtt Res.Arn``, ``!Ref Res`` or a literal ARN/URL."""
    if is_intrinsic(value):
        (fn, arg), = value.items()
        logical = None
        if fn == "Fn::GetAtt":
            logical = arg[0] if isinstance(arg, list) else str(arg).split(".", 1)[0]
        elif fn == "Ref":
            logical = arg
        if isinstance(logical, str) and logical in ctx.catalog.resources:
            res = ctx.catalog.resources[logical]
            if res.kind != kind:
                raise Unresolvable(f"{attr} names {logical}, which is a {res.kind}, not a {kind}")
            return res.name
    text = ctx.resolver.resolve_str(value, attr)
    if kind == "table":
        match = re.search(r":table/([^/]+)", text)
        if not match:
            raise Unresolvable(f"{attr} {text!r} is not a DynamoDB stream ARN")
        return match.group(1)
    return re.split(r"[:/]", text.rstrip("/"))[-1]


def _batching(props: dict[str, Any], ctx: EventContext, at: str,
              notes: list[str]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if "BatchSize" in props:
        size = int(ctx.resolver.resolve(props["BatchSize"]))
        if size > _MAX_BATCH:
            notes.append(f"{at}.BatchSize: {size} is above Ramparts' {_MAX_BATCH}; "
                         f"{_MAX_BATCH} used")
            size = _MAX_BATCH
        out["batch_size"] = max(1, size)
    if "MaximumBatchingWindowInSeconds" in props:
        window = int(ctx.resolver.resolve(props["MaximumBatchingWindowInSeconds"]))
        out["batch_window"] = f"{min(window, _MAX_WINDOW)}s"
    criteria = props.get("FilterCriteria")
    if isinstance(criteria, dict):
        filters = []
        for i, f in enumerate(criteria.get("Filters") or []):
            pattern = f.get("Pattern") if isinstance(f, dict) else None
            try:
                parsed = json.loads(pattern) if isinstance(pattern, str) else pattern
                if not isinstance(parsed, dict):
                    raise ValueError("a pattern is a JSON object")
                compile_pattern(parsed)
            except (ValueError, PatternError) as exc:
                notes.append(f"{at}.FilterCriteria.Filters[{i}]: dropped: {exc}")
                continue
            filters.append(parsed)
        if filters:
            out["filters"] = filters
    types = props.get("FunctionResponseTypes") or []
    if "ReportBatchItemFailures" in types:
        out["report_batch_item_failures"] = True
    return out


def _sqs(props: dict[str, Any], ctx: EventContext, at: str, notes: list[str]) -> dict[str, Any]:
    if "Queue" not in props:
        raise Unresolvable("Queue is required")
    name = _name_from_arn(props["Queue"], ctx, "Queue", "queue")
    return {"topic": {"name": name, **_batching(props, ctx, at, notes),
                      **_redrive(name, ctx, at, notes)}}


def _redrive(queue: str, ctx: EventContext, at: str, notes: list[str]) -> dict[str, Any]:
    """The queue's ``RedrivePolicy`` as the trigger's retries and dead-letter topic:
    ``maxReceiveCount`` receives are the first delivery plus that many minus one retries."""
    res = next((r for r in ctx.catalog.by_kind("queue") if r.name == queue), None)
    policy = (res.properties or {}).get("RedrivePolicy") if res is not None else None
    if not isinstance(policy, dict):
        return {}
    try:
        target = _name_from_arn(policy.get("deadLetterTargetArn"), ctx,
                                "RedrivePolicy.deadLetterTargetArn", "queue")
        receives = int(ctx.resolver.resolve(policy.get("maxReceiveCount", 1)))
    except (Unresolvable, TypeError, ValueError) as exc:
        notes.append(f"{at}: the queue's RedrivePolicy has no equivalent ({exc}); "
                     "default retries")
        return {}
    return {"retries": max(0, min(receives - 1, 100)), "dead_letter": target}


def _sns(props: dict[str, Any], ctx: EventContext, at: str, notes: list[str]) -> dict[str, Any]:
    if "Topic" not in props:
        raise Unresolvable("Topic is required")
    name = _name_from_arn(props["Topic"], ctx, "Topic", "topic")
    if props.get("FilterPolicy"):
        notes.append(f"{at}.FilterPolicy: SNS filter policies have no equivalent; "
                     "every message is delivered")
    if props.get("SqsSubscription"):
        notes.append(f"{at}.SqsSubscription: delivered from the topic directly")
    if _sns_shape_supported():
        return {"topic": {"name": name, "shape": "sns"}}
    notes.append(f"{at}: this node's topic triggers deliver SQS-shaped records (Records[].body), "
                 "not SNS-shaped ones (Records[].Sns.Message)")
    return {"topic": {"name": name}}


def _sns_shape_supported() -> bool:
    """Whether topic triggers take ``shape: sns`` (SNS-shaped records, ramparts.aws.sns)."""
    from ramparts.manifest import TopicTrigger

    return "shape" in TopicTrigger.model_fields


def _dynamodb(props: dict[str, Any], ctx: EventContext, at: str,
              notes: list[str]) -> dict[str, Any]:
    if "Stream" not in props:
        raise Unresolvable("Stream is required")
    name = _name_from_arn(props["Stream"], ctx, "Stream", "table")
    return {"table": {"name": name, **_batching(props, ctx, at, notes)}}


# -- objects, schedules ----------------------------------------------------------------------
_S3_EVENTS = {"s3:ObjectCreated": "created", "s3:ObjectRemoved": "deleted"}


def _s3(props: dict[str, Any], ctx: EventContext, at: str, notes: list[str]) -> dict[str, Any]:
    if "Bucket" not in props:
        raise Unresolvable("Bucket is required")
    bucket = _name_from_arn(props["Bucket"], ctx, "Bucket", "bucket")
    raw = ctx.resolver.resolve(props.get("Events", "s3:ObjectCreated:*"))
    kinds: list[str] = []
    for e in raw if isinstance(raw, list) else [raw]:
        family = ":".join(str(e).split(":")[:2])
        mapped = _S3_EVENTS.get(family)
        if mapped is None:
            notes.append(f"{at}.Events: {e} has no equivalent")
        elif mapped not in kinds:
            kinds.append(mapped)
    if not kinds:
        raise Unresolvable("no S3 event with an equivalent (s3:ObjectCreated:*, "
                           "s3:ObjectRemoved:*)")
    trigger: dict[str, Any] = {"bucket": bucket, "events": kinds}
    rules = (((props.get("Filter") or {}).get("S3Key") or {}).get("Rules")) or []
    for rule in rules:
        key = str(rule.get("Name", "")).lower()
        if key in ("prefix", "suffix"):
            trigger[key] = ctx.resolver.resolve_str(rule.get("Value", ""), f"S3Key {key}")
    return {"object": trigger}


def _schedule(props: dict[str, Any], ctx: EventContext, at: str,
              notes: list[str]) -> dict[str, Any]:
    from ramparts.events.cron import ScheduleError, parse_schedule

    key = "ScheduleExpression" if "ScheduleExpression" in props else "Schedule"
    expr = ctx.resolver.resolve_str(props.get(key), key)
    try:
        parse_schedule(expr)
    except ScheduleError as exc:
        raise Unresolvable(f"{key} {expr!r}: {exc}") from None
    tz = props.get("ScheduleExpressionTimezone")
    if tz not in (None, "UTC", "Etc/UTC"):
        notes.append(f"{at}.ScheduleExpressionTimezone: {tz} has no equivalent; runs in UTC")
    for extra in ("Input", "InputPath", "InputTransformer"):
        if extra in props:
            notes.append(f"{at}.{extra}: no equivalent; the handler gets the Scheduled Event")
    return {"schedule": {"cron": expr}}


_CONVERTERS = {
    "Api": _api,
    "HttpApi": _http_api,
    "SQS": _sqs,
    "SNS": _sns,
    "DynamoDB": _dynamodb,
    "S3": _s3,
    "Schedule": _schedule,
    "ScheduleV2": _schedule,
}
