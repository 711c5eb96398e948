"""Handler for account self-service."""

import json

from pymongo import MongoClient


client = MongoClient("mongodb://db:27017")
users = client.app.users


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    spec = json.loads(val)
    out = users.delete_many({"email": spec}).deleted_count
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
