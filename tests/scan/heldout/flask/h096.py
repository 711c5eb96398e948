"""Webhook and integration endpoint."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.post("/api/items")
def create_item():
    data = request.get_json()
    val = data["value"]
    class Importer:
        parser = etree.XMLParser(resolve_entities=False, no_network=True, load_dtd=False)
        def run(self, text: str):
            return etree.fromstring(text.encode(), self.parser)
    out = Importer().run(val).tag
    return {"result": str(out)}, 201
