"""RP-T014 (log), safe twin: flask request data reaches the sink directly."""

import json
import logging

from flask import Flask, jsonify, request

LOG = logging.getLogger(__name__)
app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.headers.get("X-Item", "")
    result = LOG.error("upload rejected: %s" % json.dumps(value))  # safe: RP-T014
    return jsonify({"ok": True})
