"""RP-T008 (nosql), safe twin: lambda evctx request data reaches the sink through a list and a loop."""

import json

from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]


def main(ev, ctx):
    body = json.loads(ev.get("body") or "{}")
    values = []
    values.append(body["value"])
    for value in values:
        result = DB.users.find_one({"username": str(value), "active": True})  # safe: RP-T008
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
