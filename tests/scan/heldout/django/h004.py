"""Webhook and integration endpoint."""

import json
import xml.sax.handler

import defusedxml.sax
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
    parser = defusedxml.sax.make_parser()
    parser.setContentHandler(handler)
    parser.parse(request)
    out = handler.names
    return JsonResponse({"result": str(out)})
