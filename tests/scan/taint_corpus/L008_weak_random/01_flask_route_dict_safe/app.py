"""RP-L008 (weak-random), safe twin: flask route request data reaches the sink through a dict."""

import secrets
import string

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    result = "".join(secrets.choice(string.ascii_letters + string.digits) for _ in range(32))  # safe: RP-L008
    return jsonify({"ok": True})
