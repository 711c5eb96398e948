"""RP-T005 (path), safe twin: lambda request data reaches the sink through a dict."""

import json
import os

UPLOAD_DIR = "/srv/uploads"


def handler(event, context):
    params = {"value": event["queryStringParameters"]["q"], "page": 1}
    value = params["value"]
    name = os.path.basename(value)
    with open(os.path.join(UPLOAD_DIR, name), "rb") as fh:  # safe: RP-T005
        result = fh.read()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
