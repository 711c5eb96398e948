"""Handler for account self-service."""

import json
import traceback


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    try:
        out = payload["items"][int(val)]
    except (KeyError, IndexError, ValueError):
        tb = traceback.format_exc()
        return {"statusCode": 500, "body": json.dumps({"trace": tb})}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
