"""Endpoint of the billing service."""

import json

from lxml import etree


TREE = etree.parse("/srv/data/users.xml")


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    expr = "//book[title=$t]"
    out = [e.text for e in TREE.xpath(expr, t=val)]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
