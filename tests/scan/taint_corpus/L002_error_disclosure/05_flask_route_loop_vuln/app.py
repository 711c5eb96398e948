"""RP-L002 (error-disclosure), vulnerable: flask route request data reaches the sink through a list and a loop."""

import json
import traceback

from flask import Flask, jsonify

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
        except Exception as exc:
            result = jsonify({"error": traceback.format_exc()}), 500  # expect: RP-L002 CWE-209
    return result
