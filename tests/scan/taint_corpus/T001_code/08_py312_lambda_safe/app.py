"""RP-T001 (code), safe twin, Python 3.12 syntax: the number is parsed, never evaluated."""

import ast
import json


def handler(event, context):
    body = json.loads(event["body"])
    result = ast.literal_eval(f"{body["expr"]}") * 2  # safe: RP-T001
    return {"statusCode": 200, "body": json.dumps({"result": result})}
