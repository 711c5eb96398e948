"""``AWS::Serverless::Connector`` (and a function's ``Connectors:``) as role statements.

A connector grants its source ``Read`` and/or ``Write`` on its destination;
SAM turns that into IAM statements.  Only connectors whose source is a
function matter here (the function's role); the actions are the ones SAM
documents for each destination type, in AWS names, on the destination's ARNs
(region ``*``, the app's account).  Other sources (an API, a state machine,
a topic) grant what Ramparts' triggers already decide, or have no
equivalent, and are reported.
"""

from __future__ import annotations

from typing import Any

from ramparts.aws.sam.resources import Catalog, Resource

# destination kind -> permission -> AWS actions (SAM's connector reference)
ACTIONS: dict[str, dict[str, list[str]]] = {
    "table": {
        "Read": ["dynamodb:GetItem", "dynamodb:Query", "dynamodb:Scan",
                 "dynamodb:BatchGetItem", "dynamodb:ConditionCheckItem",
                 "dynamodb:PartiQLSelect"],
        "Write": ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem",
                  "dynamodb:BatchWriteItem", "dynamodb:PartiQLDelete", "dynamodb:PartiQLInsert",
                  "dynamodb:PartiQLUpdate"],
    },
    "bucket": {
        "Read": ["s3:GetObject", "s3:GetObjectAcl", "s3:GetObjectLegalHold",
                 "s3:GetObjectRetention", "s3:GetObjectTorrent", "s3:GetObjectVersion",
                 "s3:GetObjectVersionAcl", "s3:GetObjectVersionForReplication",
                 "s3:GetObjectVersionTorrent", "s3:ListBucket", "s3:ListBucketMultipartUploads",
                 "s3:ListBucketVersions", "s3:ListMultipartUploadParts"],
        "Write": ["s3:AbortMultipartUpload", "s3:DeleteObject", "s3:DeleteObjectVersion",
                  "s3:PutObject", "s3:PutObjectLegalHold", "s3:PutObjectRetention",
                  "s3:RestoreObject"],
    },
    "queue": {
        "Read": ["sqs:ReceiveMessage", "sqs:GetQueueAttributes"],
        "Write": ["sqs:DeleteMessage", "sqs:SendMessage", "sqs:ChangeMessageVisibility",
                  "sqs:PurgeQueue"],
    },
    "topic": {"Write": ["sns:Publish"]},
    "bus": {"Write": ["events:PutEvents"]},
    "function": {"Write": ["lambda:InvokeAsync", "lambda:InvokeFunction"]},
}


def _resources(dest: Resource, catalog: Catalog) -> list[str]:
    arn = catalog.arn(dest.logical_id, "*")
    if dest.kind == "table":
        return [arn, f"{arn}/index/*"]
    if dest.kind == "bucket":
        return [arn, f"{arn}/*"]
    return [arn]


def connector_statements(
    props: dict[str, Any], catalog: Catalog, where: str, notes: list[str]
) -> tuple[str | None, list[dict[str, Any]]]:
    """(source function's logical id or None, statements) for one connector."""
    source = (props.get("Source") or {}).get("Id")
    dests = props.get("Destination") or {}
    dests = dests if isinstance(dests, list) else [dests]
    perms = [p for p in (props.get("Permissions") or []) if p in ("Read", "Write")]
    src = catalog.resources.get(str(source)) if source is not None else None
    if src is None or src.kind != "function":
        notes.append(f"{where}: a connector from {source or 'a resource given by ARN'} has no "
                     "equivalent (triggers and roles decide who may call what)")
        return None, []
    statements = []
    for d in dests:
        dest = catalog.resources.get(str((d or {}).get("Id")))
        table = ACTIONS.get(dest.kind, {}) if dest is not None else {}
        actions = [a for p in perms for a in table.get(p, [])]
        if dest is None or not actions:
            notes.append(f"{where}: a connector to {(d or {}).get('Id') or 'an ARN'} with "
                         f"{', '.join(perms) or 'no'} permissions has no equivalent")
            continue
        statements.append({"effect": "allow", "actions": actions,
                           "resources": _resources(dest, catalog)})
    return src.logical_id, statements
