"""RP-L008 (weak-random), safe twin: lambda kwargs request data reaches the sink through str.format."""

import json
import secrets


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    reset_code = str(secrets.randbelow(900000) + 100000)  # safe: RP-L008
    result = {value: reset_code}
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
