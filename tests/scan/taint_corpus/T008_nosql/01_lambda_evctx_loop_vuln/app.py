"""RP-T008 (nosql), vulnerable: lambda evctx request data reaches the sink through a list and a loop."""

import json

from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    values = []
    values.append(body["value"])
    for value in values:
        result = DB.users.find_one({"username": value, "active": True})  # expect: RP-T008 CWE-943
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
