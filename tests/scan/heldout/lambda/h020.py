"""View used by the admin back office."""

import json
from pathlib import Path


BASE = Path("/srv/uploads").resolve()


def handler(*args):
    event = args[0]
    val = event.get("pathParameters", {}).get("id", "")
    target = BASE / val
    out = open(target).read()
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
