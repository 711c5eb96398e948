"""RP-T009 (xpath), vulnerable: flask request data reaches the sink through a dict."""

from flask import Flask, jsonify, request
from lxml import etree

INVENTORY = etree.parse("/srv/data/inventory.xml")
app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    params = {"value": request.cookies.get("pref", ""), "page": 1}
    value = params["value"]
    result = INVENTORY.xpath("//item[@sku='%s']/@qty" % value)  # expect: RP-T009 CWE-643
    return jsonify({"ok": True})
