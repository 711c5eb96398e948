"""RP-T014 (log), vulnerable: lambda sqs request data reaches the sink through a helper in helpers.py."""

import json

from helpers import process


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    process(msg["value"])
    return {"batchItemFailures": []}
