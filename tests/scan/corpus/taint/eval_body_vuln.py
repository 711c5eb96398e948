"""Vulnerable: the HTTP API v2 body is evaluated as Python (RP-T001, code injection)."""


def handler(event, context):
    expression = event["body"]
    result = eval(expression)  # finding: RP-T001
    return {"statusCode": 200, "body": str(result)}
