"""RP-T014: an SNS-triggered Lambda logs the alarm text it receives."""

import json
import logging

logger = logging.getLogger()
logger.setLevel(logging.INFO)


def handler(event, context):
    for record in event["Records"]:
        message = json.loads(record["Sns"]["Message"])
        reason = message.get("NewStateReason", "")
        reason = reason.replace("\r", "\\r").replace("\n", "\\n")
        logger.warning("alarm %s: " + reason, json.dumps(message.get("AlarmName")))  # safe: RP-T014
    return {"ok": True}
