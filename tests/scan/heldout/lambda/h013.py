"""Endpoint of the customer portal."""

import json

from pymongo import MongoClient


client = MongoClient("mongodb://db:27017")
users = client.app.users


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    spec = json.loads(val)
    if not isinstance(spec, str):
        return {"statusCode": 400, "body": "bad filter"}
    out = users.delete_many({"email": spec}).deleted_count
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
