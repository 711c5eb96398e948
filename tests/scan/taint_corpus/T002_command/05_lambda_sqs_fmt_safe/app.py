"""RP-T002 (command), safe twin: lambda sqs request data reaches the sink through str.format."""

import json
import subprocess


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    result = subprocess.check_output(["git", "log", "--oneline", f"--author={value}"])  # safe: RP-T002
    return {"batchItemFailures": []}
