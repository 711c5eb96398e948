"""Vulnerable: a field of json.loads(body) reaches exec() and compile() through an f-string."""

import json


def handler(event, context):
    payload = json.loads(event["body"])
    action = payload["action"]
    exec(f"result = do_{action}()")  # finding: RP-T001
    code = compile(payload.get("snippet", ""), "<event>", "exec")  # finding: RP-T001
    return {"statusCode": 200, "body": str(code)}
