"""RP-T005 (path), safe twin: flask route request data reaches the sink through a dict."""

import os

from flask import Flask, jsonify

UPLOAD_DIR = "/srv/uploads"
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    name = os.path.basename(value)
    with open(os.path.join(UPLOAD_DIR, name), "rb") as fh:  # safe: RP-T005
        result = fh.read()
    return jsonify({"ok": True})
