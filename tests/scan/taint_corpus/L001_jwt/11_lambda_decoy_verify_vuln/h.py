"""RP-L001 (jwt), vulnerable: a verified decode in dead code must not excuse the unverified one."""

import os

import jwt


def handler(event, context):
    tok = event["headers"]["authorization"]
    claims = jwt.decode(tok, options={"verify_signature": False})  # expect: RP-L001 CWE-347
    if claims.get("role") == "admin":
        return {"statusCode": 200, "body": "admin area"}
    if False:
        jwt.decode(tok, os.environ["KEY"], algorithms=["HS256"])
    return {"statusCode": 403}
