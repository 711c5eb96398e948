"""RP-T001 (code), safe twin: flask request data reaches the sink directly."""

import ast

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.args.get("q", "")
    result = ast.literal_eval(value)  # safe: RP-T001
    return jsonify({"ok": True})
