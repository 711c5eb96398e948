"""RP-T002 (command), safe twin: lambda request data reaches the sink through a list and a loop."""

import json
import subprocess


def handler(event, context):
    values = []
    values.append(event["pathParameters"]["name"])
    for value in values:
        result = subprocess.check_output(["git", "log", "--oneline", f"--author={value}"])  # safe: RP-T002
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
