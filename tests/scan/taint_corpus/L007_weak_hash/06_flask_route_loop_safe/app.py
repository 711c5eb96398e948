"""RP-L007 (weak-hash), safe twin: flask route request data reaches the sink through a list and a loop."""

import hashlib

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        api_token = value
        result = hashlib.sha256(api_token.encode()).hexdigest()  # safe: RP-L007
    return jsonify({"ok": True})
