"""RP-L004 (cors), vulnerable: lambda request data reaches the sink directly."""

import json


def handler(event, context):
    value = event["queryStringParameters"]["q"]
    result = {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}, "body": json.dumps({"q": value})}  # expect: RP-L004 CWE-942
    return result
