"""RP-T005 (path), vulnerable: lambda request data reaches the sink through a dict."""

import json
import os

UPLOAD_DIR = "/srv/uploads"


def handler(event, context):
    params = {"value": event["queryStringParameters"]["q"], "page": 1}
    value = params["value"]
    with open(os.path.join(UPLOAD_DIR, value), "rb") as fh:  # expect: RP-T005 CWE-22
        result = fh.read()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
