"""Endpoint of the customer portal."""

import json

from lxml import etree


def main(ev, ctx):
    payload = json.loads(ev["body"])
    val = payload["name"]
    doc = payload.get("xml", val).encode()
    parser = etree.XMLParser(resolve_entities=True)
    out = etree.fromstring(doc, parser=parser).findtext("name")
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
