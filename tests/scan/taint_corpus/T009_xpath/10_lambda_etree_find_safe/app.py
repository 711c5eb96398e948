"""RP-T009: a Lambda looks a product up in a bundled XML catalogue."""

import json
import re
import xml.etree.ElementTree as ET

CATALOGUE = ET.parse("/var/task/catalogue.xml")


def handler(event, context):
    code = event["pathParameters"]["code"]
    if not re.fullmatch(r"[A-Z0-9-]{1,20}", code):
        return {"statusCode": 400, "body": "bad code"}
    node = CATALOGUE.find(f".//product[@code='{code}']")  # safe: RP-T009
    name = node.findtext("name") if node is not None else None
    return {"statusCode": 200, "body": json.dumps({"name": name})}
