"""RP-T008 (nosql), safe twin: lambda kwargs request data reaches the sink through an object's attribute."""

import json

from pymongo import MongoClient

DB = MongoClient("mongodb://mongo:27017")["shop"]


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = DB.users.find_one({"username": str(self.value), "active": True})  # safe: RP-T008


def handler(*args, **kwargs):
    ev = kwargs.get("event") or args[0]
    job = Job(ev["queryStringParameters"]["q"])
    job.run()
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
