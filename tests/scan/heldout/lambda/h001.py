"""Handler for account self-service."""

import json
import logging
import traceback


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    try:
        out = payload["items"][int(val)]
    except (KeyError, IndexError, ValueError):
        tb = traceback.format_exc()
        logging.error(tb)
        return {"statusCode": 500, "body": json.dumps({"error": "bad request"})}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
