"""RP-T001 (code), vulnerable: flask request data reaches the sink directly."""

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.args.get("q", "")
    result = eval(value)  # expect: RP-T001 CWE-94
    return jsonify({"ok": True})
