"""RP-T015 (trust-boundary), vulnerable: flask route request data reaches the sink through a list and a loop."""

from flask import Flask, jsonify, session

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        session["display_name"] = value  # expect: RP-T015 CWE-501
    return jsonify({"ok": True})
