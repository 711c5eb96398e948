"""RP-L006 (hardcoded-credential), safe twin: lambda sqs request data reaches the sink through an object's attribute."""

import json
import os

import requests


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = requests.post("https://sms.example.net/send", json={"to": self.value}, auth=("shop-sms", os.environ["SMS_PASSWORD"]), timeout=5)  # safe: RP-L006


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    job = Job(msg["value"])
    job.run()
    return {"batchItemFailures": []}
