"""eval and exec (bandit B307, B102): code injection, CWE-94 like our RP-T001."""


def handler(event, context):
    value = eval(event["expr"])
    exec(event["code"])
    return {"statusCode": 200, "body": str(value)}
