"""RP-L008 (weak-random), vulnerable: flask request data reaches the sink directly."""

import random

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.cookies.get("pref", "")
    session_token = "%032x" % random.getrandbits(128)  # expect: RP-L008 CWE-330
    result = {value: session_token}
    return jsonify({"ok": True})
