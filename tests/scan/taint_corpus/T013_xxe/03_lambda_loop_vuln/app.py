"""RP-T013 (xxe), vulnerable: lambda request data reaches the sink through a list and a loop."""

import io
import json
import xml.sax
import xml.sax.handler


def handler(event, context):
    values = []
    values.append(event["queryStringParameters"]["q"])
    for value in values:
        parser = xml.sax.make_parser()
        parser.setFeature(xml.sax.handler.feature_external_ges, True)
        parser.setContentHandler(xml.sax.handler.ContentHandler())
        result = parser.parse(io.StringIO(value))  # expect: RP-T013 CWE-611
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
