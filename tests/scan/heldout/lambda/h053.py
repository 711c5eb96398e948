"""Handler for account self-service."""

import hashlib
import json


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    password = payload["password"]
    record = {"user": val, "password_hash": hashlib.md5(password.encode("utf-8")).hexdigest()}
    out = record["user"]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
