"""RP-L008 (weak-random), vulnerable: lambda kwargs request data reaches the sink through str.format."""

import json
import random


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    reset_code = str(random.randint(100000, 999999))  # expect: RP-L008 CWE-330
    result = {value: reset_code}
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
