"""RP-L005 (tls-verify), safe twin: flask request data reaches the sink through a dict."""

import urllib3
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    params = {"value": request.form["name"], "page": 1}
    value = params["value"]
    pool = urllib3.PoolManager(cert_reqs="CERT_REQUIRED")  # safe: RP-L005
    result = pool.request("GET", "https://search.internal/q", fields={"q": value}).data
    return jsonify({"ok": True})
