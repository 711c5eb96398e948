"""Handler of the catalogue service."""

import json
import os


def handler(event, context, **kwargs):
    val = event["headers"].get("x-target", "")
    logs = {"name": val, "dir": "/var/log/app"}
    os.remove(f"{logs['dir']}/{logs['name']}")
    out = "deleted"
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
