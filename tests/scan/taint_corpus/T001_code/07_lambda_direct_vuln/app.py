"""RP-T001 (code), vulnerable: lambda request data reaches the sink directly."""

import json


def handler(event, context):
    value = event["pathParameters"]["name"]
    result = eval(value)  # expect: RP-T001 CWE-94
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
