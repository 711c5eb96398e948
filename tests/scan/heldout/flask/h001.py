"""Endpoint of the customer portal."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


TREE = etree.parse("/srv/data/users.xml")


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    out = TREE.xpath("//user[@name=$name]/email/text()", name=val)
    return {"result": str(out)}
