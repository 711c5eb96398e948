"""RP-T004: a Kinesis-triggered Lambda restores the events producers put on the stream."""

import base64
import json


def decode_record(record):
    raw = base64.b64decode(record["kinesis"]["data"])
    return json.loads(raw)  # safe: RP-T004


def handler(event, context):
    events = [decode_record(r) for r in event["Records"]]
    return {"processed": len(events)}
