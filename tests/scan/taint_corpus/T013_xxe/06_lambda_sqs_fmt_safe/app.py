"""RP-T013 (xxe), safe twin: lambda sqs request data reaches the sink through str.format."""

import io
import json
import xml.sax.handler

import defusedxml.sax


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(xml.sax.handler.ContentHandler())
    result = parser.parse(io.StringIO(value))  # safe: RP-T013
    return {"batchItemFailures": []}
