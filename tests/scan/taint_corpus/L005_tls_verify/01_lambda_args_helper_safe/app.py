"""RP-L005 (tls-verify), safe twin: lambda args request data reaches the sink through a helper in helpers.py."""

import json

from helpers import process


def handler(*args):
    ev, _ctx = args
    process(ev["queryStringParameters"]["q"])
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
