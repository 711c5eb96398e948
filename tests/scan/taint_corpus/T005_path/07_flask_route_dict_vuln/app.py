"""RP-T005 (path), vulnerable: flask route request data reaches the sink through a dict."""

import os

from flask import Flask, jsonify

UPLOAD_DIR = "/srv/uploads"
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    with open(os.path.join(UPLOAD_DIR, value), "rb") as fh:  # expect: RP-T005 CWE-22
        result = fh.read()
    return jsonify({"ok": True})
