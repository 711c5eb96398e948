"""Handler for account self-service."""

import json
import logging


def consume(event, context):
    for record in event["Records"]:
        message = json.loads(record["body"])
    val = message["value"]
    log = logging.getLogger("worker")
    items = [message.get("id", ""), val]
    line = "|".join(items)
    log.warning("processing " + line)
    out = line
    return {"batchItemFailures": [], "result": str(out)}
