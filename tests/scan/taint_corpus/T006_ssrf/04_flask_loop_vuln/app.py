"""RP-T006 (ssrf), vulnerable: flask request data reaches the sink through a list and a loop."""

import requests
from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    values = []
    values.append(request.form["name"])
    for value in values:
        result = requests.get(value, timeout=5).text  # expect: RP-T006 CWE-918
    return jsonify({"ok": True})
