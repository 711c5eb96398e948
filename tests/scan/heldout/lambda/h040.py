"""Handler of the reporting API."""

import json
from pathlib import Path


BASE = Path("/srv/uploads").resolve()


def handler(*args):
    event = args[0]
    val = event.get("pathParameters", {}).get("id", "")
    target = (BASE / val).resolve()
    if not target.is_relative_to(BASE):
        return {"statusCode": 403, "body": "forbidden"}
    out = open(target).read()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
