"""RP-T008 (nosql), safe twin: lambda args request data reaches the sink through a helper in helpers.py."""

import json

from helpers import process


def handler(*args):
    ev, _ctx = args
    body = json.loads(ev["body"])
    process(body["value"])
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
