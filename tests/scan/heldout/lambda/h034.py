"""Endpoint of the notifications service."""

import json
import logging


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    log = logging.getLogger("worker")
    items = [message.get("id", ""), val]
    line = "|".join(i.replace("\n", "\\n") for i in items)
    log.warning("processing " + line)
    out = line
    return {"batchItemFailures": [], "result": str(out)}
