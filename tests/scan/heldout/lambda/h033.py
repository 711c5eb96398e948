"""View used by the admin back office."""

import json
import os
import re


def handler(event, context, **kwargs):
    val = event["headers"].get("x-target", "")
    if not re.fullmatch(r"[a-z0-9-]{1,40}\.log", val):
        return {"statusCode": 400, "body": "bad name"}
    logs = {"name": val, "dir": "/var/log/app"}
    os.remove(f"{logs['dir']}/{logs['name']}")
    out = "deleted"
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
