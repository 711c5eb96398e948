"""View used by the admin back office."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    xml = request.get_data()
    parser = etree.XMLParser(resolve_entities=True, load_dtd=True, no_network=False)
    root = etree.fromstring(xml, parser)
    out = root.tag
    return {"result": str(out)}
