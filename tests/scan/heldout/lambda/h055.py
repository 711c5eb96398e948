"""Webhook and integration endpoint."""

import json
import subprocess


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    job = {"input": val, "fmt": "png"}
    out = subprocess.call(f"convert /tmp/in/{job['input']} /tmp/out.{job['fmt']}", shell=True)
    return {"batchItemFailures": [], "result": str(out)}
