"""RP-T015 (trust-boundary), safe twin: flask route request data reaches the sink through a list and a loop."""

import uuid

from flask import Flask, jsonify, session

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        session["cart_id"] = str(uuid.UUID(value))  # safe: RP-T015
    return jsonify({"ok": True})
