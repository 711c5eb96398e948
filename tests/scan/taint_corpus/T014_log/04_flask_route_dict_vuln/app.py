"""RP-T014 (log), vulnerable: flask route request data reaches the sink through a dict."""

import logging

from flask import Flask, jsonify

LOG = logging.getLogger(__name__)
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    result = LOG.info("login failed for " + value)  # expect: RP-T014 CWE-117
    return jsonify({"ok": True})
