"""RP-L007 (weak-hash), safe twin: lambda sqs request data reaches the sink through str.format."""

import hashlib
import json


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    reset_token = value
    result = hashlib.new("sha256", reset_token.encode()).hexdigest()  # safe: RP-L007
    return {"batchItemFailures": []}
