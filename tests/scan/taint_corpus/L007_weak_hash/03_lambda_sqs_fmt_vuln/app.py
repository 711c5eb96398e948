"""RP-L007 (weak-hash), vulnerable: lambda sqs request data reaches the sink through str.format."""

import hashlib
import json


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    reset_token = value
    result = hashlib.new("md5", reset_token.encode()).hexdigest()  # expect: RP-L007 CWE-328
    return {"batchItemFailures": []}
