"""Vulnerable: SQS record bodies (Records[*].body) are unpickled (RP-T004)."""

import base64
import pickle


def handler(event, context):
    for record in event["Records"]:
        job = pickle.loads(base64.b64decode(record["body"]))  # finding: RP-T004
        context.publish("jobs-done", {"id": job["id"]})
