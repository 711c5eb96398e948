"""Webhook and integration endpoint."""

import json
import re
import subprocess


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    if not re.fullmatch(r"[A-Za-z0-9_.-]{1,64}", val):
        raise ValueError("bad object key")
    job = {"input": val, "fmt": "png"}
    out = subprocess.call(f"convert /tmp/in/{job['input']} /tmp/out.{job['fmt']}", shell=True)
    return {"batchItemFailures": [], "result": str(out)}
