"""View used by the admin back office."""

import json


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    out = val
    return {"statusCode": 200, "headers": {"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Credentials": "true"}, "body": json.dumps({"result": out})}
