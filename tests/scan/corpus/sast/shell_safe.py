"""Safe twin of shell_vuln: an argument list without a shell (B404/B603/B607 are off), JSON."""

import json
import subprocess


def handler(event, context):
    name = context.function_name
    subprocess.run(["du", "-sh", "/tmp/" + name], check=True)
    state = json.loads(context.objects.get("state", name))
    return {"statusCode": 200, "body": str(state)}
