"""RP-L007 (weak-hash), vulnerable: flask request data reaches the sink through a dict."""

import hashlib

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    params = {"value": request.args.get("q", ""), "page": 1}
    value = params["value"]
    secret = value
    digest = hashlib.md5()
    digest.update(secret.encode())  # expect: RP-L007 CWE-328
    result = digest.hexdigest()
    return jsonify({"ok": True})
