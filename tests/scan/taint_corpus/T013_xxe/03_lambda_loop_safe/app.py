"""RP-T013 (xxe), safe twin: lambda request data reaches the sink through a list and a loop."""

import io
import json
import xml.sax.handler

import defusedxml.sax


def handler(event, context):
    values = []
    values.append(event["queryStringParameters"]["q"])
    for value in values:
        parser = defusedxml.sax.make_parser()
        parser.setContentHandler(xml.sax.handler.ContentHandler())
        result = parser.parse(io.StringIO(value))  # safe: RP-T013
    return {"statusCode": 200, "body": json.dumps({"ok": True})}
