"""Handler of the reporting API."""

import json
import random


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    api_key = "%032x" % random.getrandbits(128)
    out = {"client": val, "api_key": api_key}
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
