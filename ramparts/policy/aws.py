"""AWS action and ARN names in roles: aliases of the native ones, decided identically.

A role may say ``dynamodb:GetItem`` on ``arn:aws:dynamodb:*:*:table/orders``
instead of ``kv:GetItem`` on ``kv:orders/*``.  When a statement is compiled
(``ramparts.policy.document.parse_statement``) each AWS action is replaced by
the native actions it aliases and each AWS ARN by the native ARN patterns of
the same resources; the statement then runs through the same evaluator, so
Allow/Deny, wildcards, ``NotAction``/``NotResource`` and conditions work the
same whichever names a role uses.  The table is docs/aws/policies.md.

Safety rules:

- an AWS ARN whose account is not the app's own (``ramparts.aws.accounts``) or
  ``*``, or whose region is not the node's or ``*``, gets no native equivalent
  and so matches nothing: one app can never reach another's data through an ARN;
- an AWS action Ramparts does not alias (``dynamodb:CreateTable``) is kept as
  it is and matches no native call;
- action wildcards (``dynamodb:Get*``, ``s3:*``) expand to the native actions
  of every aliased AWS action they match.
"""

from __future__ import annotations

import re
from fnmatch import fnmatchcase

from ramparts.aws.accounts import account_id

# AWS action -> native actions (docs/aws/policies.md, /work/shared aws-names)
ACTIONS: dict[str, tuple[str, ...]] = {
    "dynamodb:GetItem": ("kv:GetItem",),
    "dynamodb:BatchGetItem": ("kv:GetItem",),
    "dynamodb:ConditionCheckItem": ("kv:GetItem",),
    "dynamodb:PutItem": ("kv:PutItem",),
    "dynamodb:UpdateItem": ("kv:PutItem",),
    "dynamodb:BatchWriteItem": ("kv:PutItem", "kv:DeleteItem"),
    "dynamodb:DeleteItem": ("kv:DeleteItem",),
    "dynamodb:Query": ("kv:Query",),
    "dynamodb:Scan": ("kv:Query",),
    "dynamodb:DescribeTable": ("kv:Query",),
    "s3:GetObject": ("objects:GetObject",),
    "s3:PutObject": ("objects:PutObject",),
    "s3:DeleteObject": ("objects:DeleteObject",),
    "s3:ListBucket": ("objects:ListBucket",),
    "sqs:SendMessage": ("topics:Publish",),
    "sns:Publish": ("topics:Publish",),
    "events:PutEvents": ("topics:Publish",),
    "secretsmanager:GetSecretValue": ("secrets:GetSecretValue",),
    "ssm:GetParameter": ("secrets:GetSecretValue",),
    "ssm:GetParameters": ("secrets:GetSecretValue",),
    "ssm:GetParametersByPath": ("secrets:GetSecretValue",),
    "lambda:InvokeFunction": ("functions:Invoke",),
    "kms:Encrypt": ("kms:Encrypt",),
    "kms:Decrypt": ("kms:Decrypt",),
    "kms:GenerateDataKey": ("kms:GenerateDataKey",),
    "kms:DescribeKey": ("kms:DescribeKey",),
}
AWS_SERVICES = frozenset(a.split(":", 1)[0] for a in ACTIONS)
_LOWER = {k.lower(): v for k, v in ACTIONS.items()}
_ARN = re.compile(r"^arn:([^:]*):([^:]*):([^:]*):([^:]*):(.*)$")
_PARTITIONS = ("aws", "aws-cn", "aws-us-gov")
# the resource part every resource of a service starts with, and what "all of them" is natively
_ALL_OF: dict[str, list[tuple[str, str, str]]] = {
    "dynamodb": [("kv", "table", "*")],
    "s3": [("objects", "bucket", "*")],
    "sqs": [("topics", "topic", "*")],
    "sns": [("topics", "topic", "*")],
    "events": [("topics", "topic", "*")],
    "secretsmanager": [("secrets", "secret", "*")],
    "ssm": [("secrets", "secret", "*")],
    "lambda": [("functions", "function", "*")],
    "kms": [("kms", "key", "*")],
}
_PREFIX = {
    "dynamodb": "table/",
    "events": "event-bus/",
    "secretsmanager": "secret:",
    "ssm": "parameter/",
    "lambda": "function:",
    "kms": "",  # key/ or alias/
}
# the node's region (Node.start sets it; tests and offline tools get the default)
_region = {"name": "us-east-1"}


def configure(region: str) -> None:
    """Set the node's region, which AWS ARNs in roles must name (or ``*``)."""
    _region["name"] = region


def is_aws_action(action: str) -> bool:
    return action.split(":", 1)[0].lower() in AWS_SERVICES


def expand_action(action: str) -> list[str]:
    """``dynamodb:GetItem`` -> ``["dynamodb:GetItem", "kv:GetItem"]``; wildcards expand too.

    The AWS name itself is kept (it matches no native call): explanations and
    lint still show what the author wrote.
    """
    if not is_aws_action(action):
        return [action]
    out = [action]
    pattern = action.lower()
    if "*" in pattern or "?" in pattern:
        for name, natives in _LOWER.items():
            if fnmatchcase(name, pattern):
                out.extend(n for n in natives if n not in out)
    else:
        out.extend(n for n in _LOWER.get(pattern, ()) if n not in out)
    return out


def aws_action_for(native: str, service: str) -> list[str]:
    """The AWS actions of ``service`` that alias ``native`` (for ``policy suggest``)."""
    return [
        a for a, natives in ACTIONS.items() if a.startswith(service + ":") and native in natives
    ]


def _wild(text: str) -> bool:
    return "*" in text or "?" in text


def _parts(resource: str) -> tuple[str, str, str, str, str] | None:
    """(partition, service, region, account, rest) of an AWS ARN (patterns allowed), else None.

    Ramparts' own ARNs (``arn:ramparts:...``) are not AWS ARNs, even when a
    wildcard partition would also match them: those stay native patterns.
    """
    m = _ARN.match(resource)
    if m is None:
        return None
    partition = m.group(1)
    if partition == "ramparts" or not any(fnmatchcase(p, partition) for p in _PARTITIONS):
        return None
    return m.groups()  # type: ignore[return-value]


def is_aws_arn(resource: str) -> bool:
    return _parts(resource) is not None


def expand_resource(app: str, resource: str, *, wide: bool = False) -> list[str]:
    """An AWS ARN -> the native ARN patterns of the same resources in ``app``.

    The ARN as written comes first (it matches no native resource); another
    account's or region's ARN gets nothing else.  A resource that is not an AWS
    ARN is returned unchanged.

    Wildcards follow IAM's: ``arn:aws:dynamodb:*:*:*`` is every table,
    ``arn:aws:*:*:*:*`` every resource of every aliased service.  A pattern
    whose wildcard falls inside the part that names the resource type
    (``arn:aws:ssm:*:*:parameter*``) cannot be mapped exactly: with ``wide``
    (a Deny's Resource, an Allow's NotResource) it stands for every resource
    of that service, so a Deny never reaches less than AWS's would; otherwise
    for none, so an Allow never reaches more.
    """
    parts = _parts(resource)
    if parts is None:
        return [resource]
    _, service, region, account, rest = parts
    services = [s for s in _ALL_OF if fnmatchcase(s, service.lower())]
    out = [resource]
    for svc in services:
        if svc != "s3":
            if not fnmatchcase(account_id(app), account or "-"):
                continue
            if not fnmatchcase(_region["name"], region or "-"):
                continue
        elif (account and account != "*") or (region and region != "*"):  # S3 ARNs name neither
            continue
        natives = _native_pattern(svc, rest, wide=wide)
        out.extend(
            f"arn:ramparts:{n_svc}:{app}:{kind}/{path}"
            for n_svc, kind, path in natives
            if f"arn:ramparts:{n_svc}:{app}:{kind}/{path}" not in out
        )
    return out


def _native_pattern(service: str, rest: str, *, wide: bool) -> list[tuple[str, str, str]]:
    if rest and all(c in "*" for c in rest):
        return _ALL_OF[service]  # "*": every resource of the service
    prefix = _PREFIX.get(service)
    if prefix is not None and _wild(rest):
        literal = re.split(r"[*?]", rest, maxsplit=1)[0]
        if len(literal) < len(prefix) or (service == "kms" and "/" not in literal):
            # the wildcard is inside the resource-type part: no exact native equivalent
            return _ALL_OF[service] if wide else []
    if service == "dynamodb" and rest.startswith("table/") and "/" in rest[len("table/") :]:
        # table/T/index/I, table/T/stream/S: on AWS they never cover the table's items.
        # Ramparts has no indexes or stream reads to grant, so an Allow on them grants
        # nothing; a Deny on them still denies the table (never less than AWS's).
        return _native(service, rest) if wide else []
    return _native(service, rest)


def _native(service: str, rest: str) -> list[tuple[str, str, str]]:
    if service == "dynamodb":
        if not rest.startswith("table/"):
            return []
        # table/T (and, for a Deny, its index/stream sub-resources: see _native_pattern)
        table = rest[len("table/") :].split("/", 1)[0]
        return [("kv", "table", f"{table}/*")] if table else []
    if service == "s3":
        return [("objects", "bucket", rest)] if rest else []
    if service in ("sqs", "sns"):
        return [("topics", "topic", rest)] if rest and "/" not in rest else []
    if service == "events":
        if rest.startswith("event-bus/"):
            return [("topics", "topic", rest[len("event-bus/") :])]
        return []
    if service == "secretsmanager":
        if not rest.startswith("secret:"):
            return []
        # "prod/db/password" is the secret "prod.db.password" (ramparts.aws.secretnames)
        name = rest[len("secret:") :].replace("/", ".")
        out = [("secrets", "secret", name)]
        # AWS appends "-" + 6 random characters; roles write NAME-??????, NAME-* or the full id
        stripped = re.sub(r"-(\?{6}|\*|[A-Za-z0-9]{6})$", "", name)
        if stripped and stripped != name:
            out.append(("secrets", "secret", stripped))
        return out
    if service == "ssm":
        if not rest.startswith("parameter/"):
            return []
        path = rest[len("parameter/") :].lstrip("/")
        return [("secrets", "secret", path.replace("/", "."))] if path else []
    if service == "lambda":
        if not rest.startswith("function:"):
            return []
        name = rest[len("function:") :].split(":", 1)[0]  # a qualifier names the same function
        return [("functions", "function", name)] if name else []
    if service == "kms":
        # Native key resources are named by the key's name (ramparts.aws.kms): alias/NAME is
        # key:NAME; key/ID stays key:ID (key/* is every key; a UUID names no native key).
        if rest.startswith("alias/"):
            return [("kms", "key", rest[len("alias/") :])]
        if rest.startswith("key/"):
            return [("kms", "key", rest[len("key/") :])]
        return []
    return []


def aws_names_for(app: str, action: str, resource: str, service: str) -> tuple[str, str] | None:
    """A native grant seen through the AWS API of ``service`` -> (AWS action, AWS ARN).

    ``resource`` is a short name (``kv:orders/*``); None when there is no AWS name for it.
    """
    aws_actions = aws_action_for(action, service)
    kind, _, path = resource.partition(":")
    if not aws_actions or not path:
        return None
    region, account = _region["name"], account_id(app)
    head = f"arn:aws:{service}:{region}:{account}"
    arn: str | None = None
    if service == "dynamodb" and kind == "kv":
        arn = f"{head}:table/{path.split('/', 1)[0]}"
    elif service == "s3" and kind == "objects":
        arn = f"arn:aws:s3:::{path}"
    elif service in ("sqs", "sns") and kind == "topic":
        arn = f"{head}:{path}"
    elif service == "events" and kind == "topic":
        arn = f"{head}:event-bus/{path}"
    elif service == "secretsmanager" and kind == "secret":
        arn = f"{head}:secret:{path}-??????"
    elif service == "ssm" and kind == "secret":
        arn = f"{head}:parameter/{path.replace('.', '/')}"
    elif service == "lambda" and kind == "function":
        arn = f"{head}:function:{path}"
    elif service == "kms" and kind == "key":
        arn = f"{head}:{path if path.startswith('alias/') else 'key/' + path}"
    return (aws_actions[0], arn) if arn else None
