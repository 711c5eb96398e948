"""RP-T014 (log), safe twin: flask route request data reaches the sink through a dict."""

import logging

from flask import Flask, jsonify

LOG = logging.getLogger(__name__)
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    clean = value.replace("\r", " ").replace("\n", " ")
    result = LOG.info("login failed for " + clean)  # safe: RP-T014
    return jsonify({"ok": True})
