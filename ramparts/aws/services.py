"""Which :class:`~ramparts.aws.service.Service` answers a signing name.

The credential scope of a SigV4 signature names the service a boto3 client
is talking to (``.../us-east-1/dynamodb/aws4_request``); the endpoint looks
it up here.  Services are imported on first use so a node that never sees an
AWS call never imports them, and each is one instance for the node's life.
"""

from __future__ import annotations

import importlib
from functools import cache

from ramparts.aws.service import Service

# signing name -> "module:Class"
REGISTRY: dict[str, str] = {
    "sts": "ramparts.aws.sts:STS",
    "dynamodb": "ramparts.aws.dynamodb:DynamoDB",
    "s3": "ramparts.aws.s3:S3",
    "sqs": "ramparts.aws.sqs:SQS",
    "sns": "ramparts.aws.sns:SNS",
    "events": "ramparts.aws.eventbridge:EventBridge",
    "lambda": "ramparts.aws.lambda_:Lambda",
    "secretsmanager": "ramparts.aws.secretsmanager:SecretsManager",
    "ssm": "ramparts.aws.ssm:SSM",
    "kms": "ramparts.aws.kms:KMS",
}


@cache
def service(name: str) -> Service | None:
    """The service for a signing name, or ``None`` when Ramparts has none by that name."""
    target = REGISTRY.get(name)
    if target is None:
        return None
    module_name, _, class_name = target.partition(":")
    module = importlib.import_module(module_name)
    return getattr(module, class_name)()
