"""RP-T002 (command), vulnerable: lambda request data reaches the sink through a list and a loop."""

import json
import subprocess


def handler(event, context):
    values = []
    values.append(event["pathParameters"]["name"])
    for value in values:
        result = subprocess.check_output(f"git log --oneline --author={value}", shell=True)  # expect: RP-T002 CWE-78
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
