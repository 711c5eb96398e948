"""RP-L008 (weak-random), safe twin: flask request data reaches the sink directly."""

import secrets

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.cookies.get("pref", "")
    session_token = secrets.token_hex(16)  # safe: RP-L008
    result = {value: session_token}
    return jsonify({"ok": True})
