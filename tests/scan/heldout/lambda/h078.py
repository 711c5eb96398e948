"""Endpoint of the billing service."""

import json
import shlex
import subprocess


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    host = val
    cmd = f"ping -c 1 {shlex.quote(host)}"
    out = subprocess.run(cmd, shell=True, capture_output=True, text=True).stdout
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
