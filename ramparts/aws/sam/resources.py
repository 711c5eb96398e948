"""The template's data resources and what ``!Ref``/``!GetAtt`` of them mean here.

A DynamoDB table, SQS queue, SNS topic, S3 bucket, EventBridge bus, secret,
SSM parameter or KMS key becomes a Ramparts name (its explicit name property,
e.g. ``TableName``, else its logical id), and its references become what the
boto3 calls against the node accept: a table or bucket name, a topic ARN, a
queue URL, ARNs in the app's own account.

Queue URLs: the queue URL boto3 gets from the node is
``{endpoint}/{ACCOUNT}/{QUEUE}``; the endpoint is not known offline, and
botocore sends ``QueueUrl`` as a parameter to the client's own endpoint
(``AWS_ENDPOINT_URL``), never to the URL's host, so the importer writes the
URL AWS itself would give, ``https://sqs.REGION.amazonaws.com/ACCOUNT/QUEUE``,
whose path carries the account and queue the SQS service reads.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

from ramparts.aws.sam.errors import Unresolvable

TABLE_TYPES = ("AWS::DynamoDB::Table", "AWS::Serverless::SimpleTable")
FUNCTION_TYPE = "AWS::Serverless::Function"

# type -> (kind, the property holding an explicit name)
NAMED_TYPES: dict[str, tuple[str, str | None]] = {
    "AWS::DynamoDB::Table": ("table", "TableName"),
    "AWS::Serverless::SimpleTable": ("table", "TableName"),
    "AWS::SQS::Queue": ("queue", "QueueName"),
    "AWS::SNS::Topic": ("topic", "TopicName"),
    "AWS::S3::Bucket": ("bucket", "BucketName"),
    "AWS::Events::EventBus": ("bus", "Name"),
    "AWS::SecretsManager::Secret": ("secret", "Name"),
    "AWS::SSM::Parameter": ("parameter", "Name"),
    "AWS::KMS::Key": ("key", None),
    "AWS::KMS::Alias": ("alias", "AliasName"),
    FUNCTION_TYPE: ("function", "FunctionName"),
}

_NAME_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}\Z")


def function_name(logical_id: str) -> str:
    """``HelloWorldFunction`` -> ``hello-world-function`` (Ramparts function names)."""
    words = re.sub(r"(?<=[a-z0-9])(?=[A-Z])|(?<=[A-Z])(?=[A-Z][a-z])", "-", logical_id)
    name = re.sub(r"[^a-z0-9-]+", "-", words.lower()).strip("-")
    name = re.sub(r"-{2,}", "-", name)[:63].strip("-")
    return name or "function"


def parameter_secret(path: str) -> str:
    """An SSM parameter path as a Ramparts secret name: ``/a/b`` -> ``a.b`` (aws-names.md)."""
    return path.lstrip("/").replace("/", ".")


@dataclass
class Resource:
    """One data resource of the template and its Ramparts name."""

    logical_id: str
    type: str
    kind: str
    name: str
    properties: dict[str, Any] = field(default_factory=dict)


@dataclass
class Catalog:
    """Every named resource by logical id, and the pseudo parameters references use."""

    app: str
    account: str
    region: str
    resources: dict[str, Resource] = field(default_factory=dict)
    others: dict[str, str] = field(default_factory=dict)  # logical id -> type (no equivalent)

    def by_kind(self, kind: str) -> list[Resource]:
        return [r for r in self.resources.values() if r.kind == kind]

    # -- references ---------------------------------------------------------------------------
    def ref(self, logical_id: str, region: str | None = None) -> str:
        res = self._get(logical_id)
        region = region or self.region
        acct = self.account
        match res.kind:
            case "queue":
                return f"https://sqs.{region}.amazonaws.com/{acct}/{res.name}"
            case "topic":
                return f"arn:aws:sns:{region}:{acct}:{res.name}"
            case "secret":
                return f"arn:aws:secretsmanager:{region}:{acct}:secret:{res.name}"
            case "parameter":
                return "/" + res.name.replace(".", "/")
            case "alias":
                return f"alias/{res.name}"
            case _:  # table, bucket, bus, key id, function name
                return res.name

    def arn(self, logical_id: str, region: str | None = None) -> str:
        res = self._get(logical_id)
        region = region or self.region
        acct = self.account
        match res.kind:
            case "table":
                return f"arn:aws:dynamodb:{region}:{acct}:table/{res.name}"
            case "queue":
                return f"arn:aws:sqs:{region}:{acct}:{res.name}"
            case "topic":
                return f"arn:aws:sns:{region}:{acct}:{res.name}"
            case "bucket":
                return f"arn:aws:s3:::{res.name}"
            case "bus":
                return f"arn:aws:events:{region}:{acct}:event-bus/{res.name}"
            case "secret":
                return f"arn:aws:secretsmanager:{region}:{acct}:secret:{res.name}"
            case "parameter":
                return f"arn:aws:ssm:{region}:{acct}:parameter/{res.name.replace('.', '/')}"
            case "key":
                return f"arn:aws:kms:{region}:{acct}:key/{res.name}"
            case "alias":
                return f"arn:aws:kms:{region}:{acct}:alias/{res.name}"
            case _:
                return f"arn:aws:lambda:{region}:{acct}:function:{res.name}"

    def get_att(self, logical_id: str, attribute: str, region: str | None = None) -> str:
        res = self._get(logical_id)
        region = region or self.region
        simple = {
            ("table", "Arn"), ("queue", "Arn"), ("topic", "TopicArn"), ("bucket", "Arn"),
            ("bus", "Arn"), ("key", "Arn"), ("function", "Arn"), ("secret", "Id"),
        }
        if (res.kind, attribute) in simple:
            return self.arn(logical_id, region)
        if res.kind == "table" and attribute == "StreamArn":
            return f"{self.arn(logical_id, region)}/stream/*"
        if (res.kind, attribute) in {
            ("queue", "QueueName"), ("topic", "TopicName"), ("bus", "Name"), ("key", "KeyId"),
        }:
            return res.name
        if res.kind == "queue" and attribute == "QueueUrl":
            return self.ref(logical_id, region)
        if res.kind == "topic" and attribute == "Arn":
            return self.arn(logical_id, region)
        raise Unresolvable(f"!GetAtt {logical_id}.{attribute} has no equivalent")

    def _get(self, logical_id: str) -> Resource:
        res = self.resources.get(logical_id)
        if res is None:
            kind = self.others.get(logical_id)
            if kind is None:
                raise Unresolvable(f"{logical_id!r} is not a resource or parameter of the template")
            raise Unresolvable(f"{logical_id} ({kind}) has no equivalent in Ramparts")
        return res


def valid_name(name: str) -> bool:
    return bool(_NAME_RE.match(name))
