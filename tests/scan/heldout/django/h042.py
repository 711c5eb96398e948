"""Endpoint of the notifications service."""

import json
import xml.sax
import xml.sax.handler
from xml.sax.handler import feature_external_ges

from django.http import JsonResponse


def ingest(request):
    data = json.loads(request.body)
    val = data["value"]
    class Collector(xml.sax.handler.ContentHandler):
        def __init__(self) -> None:
            super().__init__()
            self.names = []
        def startElement(self, name, attrs):
            self.names.append(name)
    handler = Collector()
    parser = xml.sax.make_parser()
    parser.setFeature(feature_external_ges, True)
    parser.setContentHandler(handler)
    parser.parse(request)
    out = handler.names
    return JsonResponse({"result": str(out)})
