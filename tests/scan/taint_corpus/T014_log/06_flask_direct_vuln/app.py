"""RP-T014 (log), vulnerable: flask request data reaches the sink directly."""

import logging

from flask import Flask, jsonify, request

LOG = logging.getLogger(__name__)
app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.headers.get("X-Item", "")
    result = LOG.error("upload rejected: %s" % value)  # expect: RP-T014 CWE-117
    return jsonify({"ok": True})
