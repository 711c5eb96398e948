"""Safe twin of pickle_sqs_vuln: record bodies are JSON."""

import json


def handler(event, context):
    for record in event["Records"]:
        job = json.loads(record["body"])
        context.publish("jobs-done", {"id": job["id"]})
