"""RP-T006 (ssrf), vulnerable: lambda kwargs request data reaches the sink through a helper in helpers.py."""

import json

from helpers import process


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    process(ev["queryStringParameters"]["q"])
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
