"""RP-L004 (cors), safe twin: lambda request data reaches the sink directly."""

import json


def handler(event, context):
    value = event["queryStringParameters"]["q"]
    result = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "https://app.example.com", "Access-Control-Allow-Credentials": "true"}, "body": json.dumps({"q": value})}  # safe: RP-L004
    return result
