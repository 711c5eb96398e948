"""Handler of the reporting API."""

import json

from lxml import etree


TREE = etree.parse("/srv/data/users.xml")


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    expr = "//book[title='" + val + "']"
    out = [e.text for e in TREE.xpath(expr)]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
