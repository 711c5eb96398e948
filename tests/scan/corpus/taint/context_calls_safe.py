"""Safe: event data used with the platform's own APIs and harmless library calls only.

Keys into kv, object names, topics and secrets are names, not paths or
commands; none of these calls is a sink.
"""

import hashlib
import json
import logging

log = logging.getLogger(__name__)


def handler(event, context):
    body = json.loads(event["body"])
    order = context.kv.get("orders", body["id"])
    image = context.objects.get("uploads", body["image"])
    context.publish("order-viewed", {"id": body["id"]})
    digest = hashlib.sha256(image).hexdigest()
    api_key = context.secrets.get("payments-api-key")
    log.info("order %r viewed", body["id"])
    return {"statusCode": 200, "body": json.dumps({"order": order, "digest": digest,
                                                   "key_len": len(api_key)})}
