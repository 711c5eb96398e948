"""RP-L002 (error-disclosure), vulnerable: lambda request data reaches the sink directly."""

import json
import traceback


def handler(event, context):
    value = event["queryStringParameters"]["q"]
    try:
        order = json.loads(value)
        total = sum(line["price"] * line["qty"] for line in order["lines"])
        result = {"statusCode": 200, "body": json.dumps({"total": total})}
    except Exception as exc:
        result = {"statusCode": 500, "body": json.dumps({"error": traceback.format_exc()})}  # expect: RP-L002 CWE-209
    return result
