"""View used by the admin back office."""

from flask import Flask, request
from lxml import etree

app = Flask(__name__)


TREE = etree.parse("/srv/data/users.xml")


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    out = TREE.xpath(f"//user[@name='{val}']/email/text()")
    return {"result": str(out)}
