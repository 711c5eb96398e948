"""Endpoint of the billing service."""

import json

from lxml import etree


TREE = etree.parse("/srv/data/users.xml")


class ApiHandler:
    def __init__(self) -> None:
        self.name = "api"

    def __call__(self, event, context):
        body = json.loads(event.get("body") or "{}")
        val = body.get("value", "")
        self.term = val
        evaluator = etree.XPathEvaluator(TREE)
        out = evaluator("//entry[contains(., $term)]", term=self.term)
        return {"statusCode": 200, "body": json.dumps({"result": str(out)})}


handler = ApiHandler()
