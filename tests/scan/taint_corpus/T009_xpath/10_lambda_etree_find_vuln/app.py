"""RP-T009: a Lambda looks a product up in a bundled XML catalogue."""

import json
import xml.etree.ElementTree as ET

CATALOGUE = ET.parse("/var/task/catalogue.xml")


def handler(event, context):
    code = event["pathParameters"]["code"]
    node = CATALOGUE.find(f".//product[@code='{code}']")  # expect: RP-T009 CWE-643
    name = node.findtext("name") if node is not None else None
    return {"statusCode": 200, "body": json.dumps({"name": name})}
