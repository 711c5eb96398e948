"""RP-T014 (log), vulnerable: lambda kwargs request data reaches the sink through str.format."""

import json
import logging


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    body = json.loads(ev["body"])
    value = "{}".format(body["value"]).strip()
    result = logging.warning(f"unknown sku {value}")  # expect: RP-T014 CWE-117
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
