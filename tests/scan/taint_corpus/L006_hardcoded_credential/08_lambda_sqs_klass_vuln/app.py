"""RP-L006 (hardcoded-credential), vulnerable: lambda sqs request data reaches the sink through an object's attribute."""

import json

import requests


class Job:
    """One unit of work built from a request."""

    def __init__(self, value):
        self.value = value

    def run(self):
        result = requests.post("https://sms.example.net/send", json={"to": self.value}, auth=("shop-sms", "p4ss-W0rd-2024-live"), timeout=5)  # expect: RP-L006 CWE-798


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    job = Job(msg["value"])
    job.run()
    return {"batchItemFailures": []}
