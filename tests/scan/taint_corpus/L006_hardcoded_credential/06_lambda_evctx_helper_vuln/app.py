"""RP-L006 (hardcoded-credential), vulnerable: lambda evctx request data reaches the sink through a helper in helpers.py."""

import json

from helpers import process


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    process(body["value"])
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
