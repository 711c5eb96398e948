"""RP-I008/RP-I009/RP-I011: how functions and queues fail and how far they can grow.

* RP-I008 (low): an asynchronously invoked function (S3, SNS, EventBridge,
  schedules, CloudWatch Logs, IoT, SES; in plain CloudFormation, a function
  such a service has ``lambda:InvokeFunction`` permission for) with no
  ``DeadLetterQueue``/``DeadLetterConfig`` and no ``OnFailure`` destination
  (SAM ``EventInvokeConfig`` or an ``AWS::Lambda::EventInvokeConfig``;
  serverless ``onError``/``destinations.onFailure``): after two retries its
  events are dropped.  A queue without a ``RedrivePolicy`` that is itself no
  dead-letter target: poison messages are retried until they expire.
* RP-I009 (low): a function without reserved concurrency (SAM
  ``ReservedConcurrentExecutions``, directly or in ``Globals``; serverless
  ``reservedConcurrency``): one flood of events can take the whole account's
  concurrency and the bill with it.
* RP-I011 (low): a function that sets no timeout (``Timeout``, SAM
  ``Globals``; serverless per function or ``provider.timeout``), and so runs
  with the platform default (3 s on Lambda, 6 s under the Serverless Framework).

Not judged: whether a timeout or a concurrency value is sensible, retry
counts (``MaximumRetryAttempts``), and event sources wired up outside the
template.
"""

from __future__ import annotations

from ramparts.scan.findings import Finding, Severity
from ramparts.scan.iac.loader import YMap
from ramparts.scan.iac.model import Resource, Template, items, mapping, mentions
from ramparts.scan.iac.rules import finding

_ASYNC_SAM_EVENTS = {"S3", "SNS", "EventBridgeRule", "CloudWatchEvent", "Schedule",
                     "ScheduleV2", "CloudWatchLogs", "IoTRule", "SES"}
_ASYNC_PRINCIPALS = {"s3", "sns", "events", "scheduler", "logs", "iot", "ses"}
_ASYNC_SERVERLESS_EVENTS = {"s3", "sns", "schedule", "eventBridge", "cloudwatchEvent",
                            "cloudwatchLog", "iot"}
_DLQ_KEYS = ("RedrivePolicy", "DeadLetterQueue", "DeadLetterConfig", "DestinationConfig",
             "EventInvokeConfig", "onError", "destinations")
_FIX_DLQ = ("add a DeadLetterQueue (SQS or SNS) or an OnFailure destination so failed events "
            "are kept")
_FIX_CONCURRENCY = "set ReservedConcurrentExecutions to the most parallel calls it should take"
_FIX_TIMEOUT = "set Timeout to the longest a call should take"


def check(t: Template) -> list[Finding]:
    out: list[Finding] = []
    for fn in t.functions():
        if t.setting(fn, "Timeout") is None:
            out.append(finding("RP-I011", Severity.LOW, t, fn.line, f"{fn.where}.Timeout",
                               f"function {fn.name} sets no Timeout (Lambda's default 3 s "
                               "applies)", _FIX_TIMEOUT))
        if t.setting(fn, "ReservedConcurrentExecutions") is None:
            out.append(finding("RP-I009", Severity.LOW, t, fn.line,
                               f"{fn.where}.ReservedConcurrentExecutions",
                               f"function {fn.name} has no reserved concurrency",
                               _FIX_CONCURRENCY))
        if _is_async(t, fn) and not _has_failure_target(t, fn):
            out.append(finding("RP-I008", Severity.LOW, t, fn.line, f"{fn.where}.DeadLetter",
                               f"function {fn.name} is invoked asynchronously and has no "
                               "dead-letter queue or OnFailure destination", _FIX_DLQ))
    targets = [value for res in t.resources for key, value in res.props.items()
               if key in _DLQ_KEYS]
    targets += [value for fn in t.section("functions").values() for key, value in fn.items()
                if key in _DLQ_KEYS]
    for q in t.of_type("AWS::SQS::Queue"):
        if "RedrivePolicy" not in q.props and not any(mentions(v, q.name) for v in targets):
            out.append(finding("RP-I008", Severity.LOW, t, q.line, f"{q.where}.RedrivePolicy",
                               f"queue {q.name} has no RedrivePolicy (dead-letter queue)",
                               "add a RedrivePolicy with a deadLetterTargetArn and "
                               "maxReceiveCount"))
    if t.kind == "serverless":
        _serverless(t, out)
    return out


def _is_async(t: Template, fn: Resource) -> bool:
    for event in mapping(fn.props.get("Events")).values():
        event = mapping(event)
        if str(event.get("Type")) in _ASYNC_SAM_EVENTS and "DeadLetterConfig" not in mapping(
                event.get("Properties")):
            return True
    for perm in t.of_type("AWS::Lambda::Permission"):
        principal = str(perm.props.get("Principal", ""))
        service = principal.removesuffix(".amazonaws.com")
        if service in _ASYNC_PRINCIPALS and mentions(perm.props.get("FunctionName"), fn.name):
            return True
    return False


def _has_failure_target(t: Template, fn: Resource) -> bool:
    for key in ("DeadLetterQueue", "DeadLetterConfig"):
        if mapping(t.setting(fn, key)).get("TargetArn") is not None:
            return True
    if _on_failure(mapping(t.setting(fn, "EventInvokeConfig")).get("DestinationConfig")):
        return True
    return any(mentions(cfg.props.get("FunctionName"), fn.name)
               and _on_failure(cfg.props.get("DestinationConfig"))
               for cfg in t.of_type("AWS::Lambda::EventInvokeConfig"))


def _on_failure(config: object) -> bool:
    return isinstance(config, YMap) and mapping(config.get("OnFailure")).get(
        "Destination") is not None


def _serverless(t: Template, out: list[Finding]) -> None:
    provider = t.section("provider")
    for fname, fn in t.section("functions").items():
        where = f"functions.{fname}"
        line = t.section("functions").line_of(str(fname))
        if fn.get("timeout") is None and provider.get("timeout") is None:
            out.append(finding("RP-I011", Severity.LOW, t, line, f"{where}.timeout",
                               f"function {fname} sets no timeout (the framework's default "
                               "6 s applies)", "set timeout: (or provider.timeout)"))
        if fn.get("reservedConcurrency") is None:
            out.append(finding("RP-I009", Severity.LOW, t, line, f"{where}.reservedConcurrency",
                               f"function {fname} has no reserved concurrency",
                               "set reservedConcurrency: to the most parallel calls it "
                               "should take"))
        kinds = {k for event, _ in items(fn.get("events"), line)
                 for k in mapping(event) if k in _ASYNC_SERVERLESS_EVENTS}
        failure = fn.get("onError") or mapping(fn.get("destinations")).get("onFailure")
        if kinds and not failure:
            out.append(finding("RP-I008", Severity.LOW, t, line, f"{where}.onError",
                               f"function {fname} is invoked asynchronously "
                               f"({', '.join(sorted(kinds))}) with no onError or "
                               "destinations.onFailure", "add destinations: {onFailure: ARN} "
                               "or onError: a dead-letter SNS/SQS ARN"))
