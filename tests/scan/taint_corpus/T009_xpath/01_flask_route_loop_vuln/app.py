"""RP-T009 (xpath), vulnerable: flask route request data reaches the sink through a list and a loop."""

from flask import Flask, jsonify
from lxml import etree

USERS = etree.parse("/srv/data/users.xml")
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        result = USERS.xpath("//user[name='" + value + "']/email/text()")  # expect: RP-T009 CWE-643
    return jsonify({"ok": True})
