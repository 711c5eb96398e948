"""Handler of the reporting API."""

import json
import xml.dom.pulldom
from xml.sax import make_parser
from xml.sax.handler import feature_external_ges


def handler(event, context):
    val = event["queryStringParameters"]["q"]
    parser = make_parser()
    parser.setFeature(feature_external_ges, True)
    events = xml.dom.pulldom.parseString(val, parser=parser)
    out = [n.tagName for e, n in events if e == "START_ELEMENT"]
    return {"statusCode": 200, "body": json.dumps({"result": str(out)})}
