"""RP-L001 (jwt), safe twin: lambda evctx request data reaches the sink through str.format."""

import json
import os

from jose import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = jwt.decode(value, SECRET_KEY, algorithms=["HS256"])  # safe: RP-L001
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
