"""RP-T002 (command), vulnerable: lambda sqs request data reaches the sink through str.format."""

import json
import subprocess


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    result = subprocess.check_output(f"git log --oneline --author={value}", shell=True)  # expect: RP-T002 CWE-78
    return {"batchItemFailures": []}
