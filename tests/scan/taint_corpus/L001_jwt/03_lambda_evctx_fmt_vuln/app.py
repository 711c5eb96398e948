"""RP-L001 (jwt), vulnerable: lambda evctx request data reaches the sink through str.format."""

import json
import os

from jose import jwt

SECRET_KEY = os.environ["JWT_SECRET"]


def main(ev, ctx):
    value = "{}".format(ev["queryStringParameters"]["q"]).strip()
    result = jwt.get_unverified_claims(value)  # expect: RP-L001 CWE-347
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
