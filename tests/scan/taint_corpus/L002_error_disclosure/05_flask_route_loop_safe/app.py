"""RP-L002 (error-disclosure), safe twin: flask route request data reaches the sink through a list and a loop."""

import json
import logging

from flask import Flask, jsonify

LOG = logging.getLogger(__name__)
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        try:
            order = json.loads(value)
            total = sum(line["price"] * line["qty"] for line in order["lines"])
            result = jsonify({"total": total}), 200
        except Exception:
            LOG.exception("order total failed")
            result = jsonify({"error": "internal error"}), 500  # safe: RP-L002
    return result
