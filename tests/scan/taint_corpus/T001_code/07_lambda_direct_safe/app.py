"""RP-T001 (code), safe twin: lambda request data reaches the sink directly."""

import ast
import json


def handler(event, context):
    value = event["pathParameters"]["name"]
    result = ast.literal_eval(value)  # safe: RP-T001
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
