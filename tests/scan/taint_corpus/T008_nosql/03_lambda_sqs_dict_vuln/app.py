"""RP-T008 (nosql), vulnerable: lambda sqs request data reaches the sink through a dict."""

import json

from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    params = {"value": msg["value"], "page": 1}
    value = params["value"]
    query = json.loads(value)
    result = list(DB.items.find(query))  # expect: RP-T008 CWE-943
    return {"batchItemFailures": []}
