"""RP-T001 (code), vulnerable, Python 3.12 syntax: a PEP 701 f-string reuses its quotes."""

import json


def handler(event, context):
    body = json.loads(event["body"])
    result = eval(f"{body["expr"]} * 2")  # expect: RP-T001 CWE-94
    return {"statusCode": 200, "body": json.dumps({"result": result})}
