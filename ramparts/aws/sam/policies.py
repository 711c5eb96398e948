"""A SAM function's ``Policies`` as a Ramparts role.

Three forms appear under ``Policies``: inline IAM statements (a document with
``Statement``), AWS managed policy names or ARNs, and SAM policy templates
(``- DynamoDBCrudPolicy: {TableName: !Ref Orders}``).  Templates expand into
the statements AWS documents for them (serverless-application-model's
``policy_templates.json``), in AWS action names and ARNs, which Ramparts
roles accept as aliases of the native actions (docs/aws/policies.md).  ARNs
are built with region ``*`` and the app's own account, so the role holds on
any node region and never reaches another app.

Managed policies grant what an AWS account holds, not what an app holds:
``AWSLambdaBasicExecutionRole`` and friends (logs, X-Ray, VPC interfaces) are
what Ramparts does for every function and map to nothing; any other managed
policy is reported, never widened into a grant.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from ramparts.aws.sam.errors import Unresolvable
from ramparts.aws.sam.intrinsics import Resolver

# Managed policies whose grants Ramparts gives every function anyway (logs, tracing).
BUILTIN_MANAGED = {
    "AWSLambdaBasicExecutionRole",
    "AWSLambdaExecute",
    "AWSXrayWriteOnlyAccess",
    "AWSXRayDaemonWriteAccess",
    "AWSLambdaVPCAccessExecutionRole",
    "CloudWatchLambdaInsightsExecutionRolePolicy",
}


@dataclass
class PolicyResult:
    """Role statements (manifest short form) and what could not be carried over."""

    statements: list[dict[str, Any]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)  # no equivalent / dropped
    mapped: list[str] = field(default_factory=list)  # one line per policy, for the report


def _allow(actions: list[str], resources: list[str]) -> dict[str, Any]:
    return {"effect": "allow", "actions": actions, "resources": resources}


def _arn(service: str, rest: str, acct: str) -> str:
    return f"arn:aws:{service}:*:{acct}:{rest}"


_Builder = Callable[[dict[str, str], str], list[dict[str, Any]]]


# -- SAM policy templates: name -> (parameter names, statements builder) -------------------------
def _dynamodb(actions: list[str]) -> _Builder:
    def build(p: dict[str, str], acct: str) -> list[dict[str, Any]]:
        table = p["TableName"]
        return [_allow(actions, [_arn("dynamodb", f"table/{table}", acct),
                                 _arn("dynamodb", f"table/{table}/index/*", acct)])]
    return build


def _s3(actions: list[str]) -> _Builder:
    def build(p: dict[str, str], acct: str) -> list[dict[str, Any]]:
        bucket = p["BucketName"]
        return [_allow(actions, [f"arn:aws:s3:::{bucket}", f"arn:aws:s3:::{bucket}/*"])]
    return build


_S3_READ = ["s3:GetObject", "s3:ListBucket", "s3:GetBucketLocation", "s3:GetObjectVersion",
            "s3:GetLifecycleConfiguration"]
_S3_WRITE = ["s3:PutObject", "s3:PutObjectAcl", "s3:PutLifecycleConfiguration"]

TEMPLATES: dict[str, tuple[tuple[str, ...], _Builder]] = {
    "DynamoDBCrudPolicy": (("TableName",), _dynamodb([
        "dynamodb:GetItem", "dynamodb:DeleteItem", "dynamodb:PutItem", "dynamodb:Scan",
        "dynamodb:Query", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem",
        "dynamodb:BatchGetItem", "dynamodb:DescribeTable", "dynamodb:ConditionCheckItem"])),
    "DynamoDBReadPolicy": (("TableName",), _dynamodb([
        "dynamodb:GetItem", "dynamodb:Scan", "dynamodb:Query", "dynamodb:BatchGetItem",
        "dynamodb:DescribeTable"])),
    "DynamoDBWritePolicy": (("TableName",), _dynamodb([
        "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:BatchWriteItem"])),
    "S3ReadPolicy": (("BucketName",), _s3(_S3_READ)),
    "S3WritePolicy": (("BucketName",), _s3(_S3_WRITE)),
    "S3CrudPolicy": (("BucketName",), _s3([*_S3_READ, *_S3_WRITE, "s3:DeleteObject"])),
    "SQSSendMessagePolicy": (("QueueName",), lambda p, a: [
        # AWS documents sqs:SendMessage*; IAM has no other action it matches
        _allow(["sqs:SendMessage"], [_arn("sqs", p["QueueName"], a)])]),
    "SQSPollerPolicy": (("QueueName",), lambda p, a: [
        _allow(["sqs:ChangeMessageVisibility", "sqs:ChangeMessageVisibilityBatch",
                "sqs:DeleteMessage", "sqs:DeleteMessageBatch", "sqs:GetQueueAttributes",
                "sqs:ReceiveMessage"], [_arn("sqs", p["QueueName"], a)])]),
    "SNSPublishMessagePolicy": (("TopicName",), lambda p, a: [
        _allow(["sns:Publish"], [_arn("sns", p["TopicName"], a)])]),
    "EventBridgePutEventsPolicy": (("EventBusName",), lambda p, a: [
        _allow(["events:PutEvents"], [_arn("events", f"event-bus/{p['EventBusName']}", a)])]),
    "LambdaInvokePolicy": (("FunctionName",), lambda p, a: [
        # AWS documents function:NAME* (the function and its qualifiers)
        _allow(["lambda:InvokeFunction"], [_arn("lambda", f"function:{p['FunctionName']}", a),
                                           _arn("lambda", f"function:{p['FunctionName']}:*", a)])]),
    "AWSSecretsManagerGetSecretValuePolicy": (("SecretArn",), lambda p, a: [
        _allow(["secretsmanager:GetSecretValue"], [p["SecretArn"]])]),
    "SSMParameterReadPolicy": (("ParameterName",), lambda p, a: [
        # AWS also grants ssm:DescribeParameters on "*": an every-resource grant the deploy
        # gate refuses, for an operation Ramparts does not offer; left out
        _allow(["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
               [_arn("ssm", f"parameter/{p['ParameterName'].lstrip('/')}", a)])]),
    "SSMParameterWithSlashPrefixReadPolicy": (("ParameterName",), lambda p, a: [
        # AWS also grants ssm:DescribeParameters on "*": an every-resource grant the deploy
        # gate refuses, for an operation Ramparts does not offer; left out
        _allow(["ssm:GetParameters", "ssm:GetParameter", "ssm:GetParametersByPath"],
               [_arn("ssm", f"parameter/{p['ParameterName'].lstrip('/')}", a)])]),
    "KMSDecryptPolicy": (("KeyId",), lambda p, a: [
        _allow(["kms:Decrypt"], [_arn("kms", f"key/{p['KeyId']}", a)])]),
    "KMSEncryptPolicy": (("KeyId",), lambda p, a: [
        _allow(["kms:Encrypt"], [_arn("kms", f"key/{p['KeyId']}", a)])]),
}


def _short_statement(raw: Any, resolver: Resolver) -> dict[str, Any]:
    """One IAM JSON statement -> the manifest's short form."""
    if not isinstance(raw, dict):
        raise Unresolvable("a statement must be a mapping")
    raw = resolver.resolve(raw)
    effect = str(raw.get("Effect", "")).lower()
    if effect not in ("allow", "deny"):
        raise Unresolvable("Effect must be Allow or Deny")
    out: dict[str, Any] = {"effect": effect}
    for src, dst in (("Action", "actions"), ("NotAction", "not_actions"),
                     ("Resource", "resources"), ("NotResource", "not_resources")):
        if src in raw:
            value = raw[src]
            out[dst] = [str(v) for v in (value if isinstance(value, list) else [value])]
    if "Sid" in raw:
        out["sid"] = str(raw["Sid"])
    if "Condition" in raw:
        out["conditions"] = raw["Condition"]
    unknown = set(raw) - {"Effect", "Action", "NotAction", "Resource", "NotResource", "Sid",
                          "Condition"}
    if unknown:
        raise Unresolvable(f"unsupported statement field(s) {', '.join(sorted(unknown))}")
    return out


# Services a role statement can mean something for: the AWS ones aliased to native
# actions (ramparts.policy.aws) and the native ones.
_NATIVE_SERVICES = {"kv", "objects", "topics", "secrets", "functions", "kms"}


def _known_service(service: str) -> bool:
    from ramparts.policy.aws import AWS_SERVICES

    return service.lower() in AWS_SERVICES or service in _NATIVE_SERVICES


def prune_statement(st: dict[str, Any], at: str, notes: list[str]) -> dict[str, Any] | None:
    """Leave out what grants nothing here (``logs:*``, ``xray:*``, ``arn:aws:logs:...``).

    Lambda roles carry logging and tracing grants that Ramparts gives every
    function; kept, an ``Allow logs:* on *`` would read as an every-resource
    grant and the deploy gate would refuse it.  None when nothing is left.
    """
    if "actions" in st:
        kept = [a for a in st["actions"] if a == "*" or _known_service(a.split(":", 1)[0])]
        dropped = [a for a in st["actions"] if a not in kept]
        if dropped:
            notes.append(f"{at}: {', '.join(dropped)} grant nothing in Ramparts (logs and "
                         "traces need no grant); left out")
        st = {**st, "actions": kept}
        if not kept:
            return None
    if "resources" in st:
        kept = [r for r in st["resources"]
                if not r.startswith("arn:") or _known_service(r.split(":")[2])]
        dropped = [r for r in st["resources"] if r not in kept]
        if dropped:
            notes.append(f"{at}: resources of services Ramparts does not have "
                         f"({', '.join(dropped)}) left out")
        st = {**st, "resources": kept}
        if not kept:
            return None
    return st


def convert_policies(value: Any, resolver: Resolver, where: str) -> PolicyResult:
    """``Policies`` (a string, a document, or a list of them) -> statements and notes."""
    result = PolicyResult()
    policy_resolver = resolver.for_policies()
    items = value if isinstance(value, list) else [value]
    for i, item in enumerate(items):
        at = f"{where}[{i}]" if isinstance(value, list) else where
        if isinstance(item, str) or (isinstance(item, dict) and "Fn::Sub" in item) or (
            isinstance(item, dict) and "Ref" in item
        ):
            _managed(item, resolver, at, result)
        elif isinstance(item, dict) and "Statement" in item:
            stmts = item["Statement"]
            stmts = stmts if isinstance(stmts, list) else [stmts]
            for j, st in enumerate(stmts):
                try:
                    short = _short_statement(st, policy_resolver)
                except Unresolvable as exc:
                    result.notes.append(f"{at}.Statement[{j}]: dropped: {exc.reason}")
                    continue
                pruned = prune_statement(short, f"{at}.Statement[{j}]", result.notes)
                if pruned is not None:
                    result.statements.append(pruned)
            result.mapped.append(f"inline statements ({len(stmts)})")
        elif isinstance(item, dict) and len(item) == 1:
            (name, params), = item.items()
            _template(str(name), params, policy_resolver, at, result)
        else:
            result.notes.append(f"{at}: not a policy document, managed policy or SAM template")
    return result


def _managed(item: Any, resolver: Resolver, at: str, result: PolicyResult) -> None:
    try:
        name = resolver.resolve_str(item, "a managed policy")
    except Unresolvable as exc:
        result.notes.append(f"{at}: managed policy dropped: {exc.reason}")
        return
    short = name.rsplit("/", 1)[-1]
    if short in BUILTIN_MANAGED:
        result.mapped.append(f"{short} (built in: logs and traces need no grant)")
    else:
        result.notes.append(
            f"{at}: managed policy {short} has no equivalent (grant what the function needs "
            "in its role)"
        )


def _template(
    name: str, params: Any, resolver: Resolver, at: str, result: PolicyResult
) -> None:
    spec = TEMPLATES.get(name)
    if spec is None:
        result.notes.append(f"{at}: SAM policy template {name} has no equivalent")
        return
    names, build = spec
    if not isinstance(params, dict):
        params = {}
    values: dict[str, str] = {}
    for p in names:
        if p not in params:
            result.notes.append(f"{at}.{name}: missing parameter {p}; template dropped")
            return
        try:
            values[p] = resolver.resolve_str(params[p], f"{name}.{p}")
        except Unresolvable as exc:
            result.notes.append(f"{at}.{name}.{p}: {exc.reason}; template dropped")
            return
    result.statements.extend(build(values, resolver.catalog.account))
    result.mapped.append(f"{name}({', '.join(values.values())})")
