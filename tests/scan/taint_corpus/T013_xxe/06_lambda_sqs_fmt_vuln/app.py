"""RP-T013 (xxe), vulnerable: lambda sqs request data reaches the sink through str.format."""

import io
import json
import xml.sax
import xml.sax.handler


def consume(event, context):
    record = event["Records"][0]
    msg = json.loads(record["body"])
    value = "{}".format(msg["value"]).strip()
    parser = xml.sax.make_parser()
    parser.setFeature(xml.sax.handler.feature_external_ges, True)
    parser.setContentHandler(xml.sax.handler.ContentHandler())
    result = parser.parse(io.StringIO(value))  # expect: RP-T013 CWE-611
    return {"batchItemFailures": []}
