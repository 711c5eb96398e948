"""Handler of the reporting API."""

import json

from pymongo import MongoClient


client = MongoClient("mongodb://db:27017")
users = client.app.users


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    criteria = payload.get("filter", {})
    out = list(users.find(criteria))
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
