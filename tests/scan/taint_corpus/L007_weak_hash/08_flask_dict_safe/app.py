"""RP-L007 (weak-hash), safe twin: flask request data reaches the sink through a dict."""

import hashlib

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    params = {"value": request.args.get("q", ""), "page": 1}
    value = params["value"]
    content = value
    digest = hashlib.md5(usedforsecurity=False)
    digest.update(content.encode())  # safe: RP-L007
    result = digest.hexdigest()
    return jsonify({"ok": True})
