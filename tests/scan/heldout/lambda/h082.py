"""View used by the admin back office."""

import hashlib
import json


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    password = payload["password"]
    record = {"user": val, "password_hash": hashlib.scrypt(password.encode("utf-8"), salt=val.encode(), n=2**14, r=8, p=1).hex()}
    out = record["user"]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
