"""RP-T014 (log), safe twin: lambda kwargs request data reaches the sink through str.format."""

import json
import logging


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    body = json.loads(ev["body"])
    value = "{}".format(body["value"]).strip()
    result = logging.warning(f"unknown sku {value!r}")  # safe: RP-T014
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
