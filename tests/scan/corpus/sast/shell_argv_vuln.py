"""An argument list without a shell whose program comes from the event (bandit B603)."""

import subprocess


def handler(event, context):
    tool = event["queryStringParameters"]["tool"]
    out = subprocess.run([tool, "--version"], capture_output=True, check=False)
    return {"statusCode": 200, "body": out.stdout.decode()}
