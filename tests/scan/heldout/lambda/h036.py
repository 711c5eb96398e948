"""Request handler for the orders service."""

import json
import xml.dom.pulldom

import defusedxml.pulldom


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    events = defusedxml.pulldom.parseString(val)
    out = [n.tagName for e, n in events if e == "START_ELEMENT"]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
