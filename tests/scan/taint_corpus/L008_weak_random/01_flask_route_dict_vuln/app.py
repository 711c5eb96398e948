"""RP-L008 (weak-random), vulnerable: flask route request data reaches the sink through a dict."""

import random
import string

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    result = "".join(random.choice(string.ascii_letters + string.digits) for _ in range(32))  # expect: RP-L008 CWE-330
    return jsonify({"ok": True})
