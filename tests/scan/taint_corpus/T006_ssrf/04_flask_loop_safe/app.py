"""RP-T006 (ssrf), safe twin: flask request data reaches the sink through a list and a loop."""

from urllib.parse import urlparse

import requests
from flask import Flask, jsonify, request

ALLOWED_HOSTS = {"api.example.com", "cdn.example.com"}
app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    values = []
    values.append(request.form["name"])
    for value in values:
        if urlparse(value).hostname not in ALLOWED_HOSTS:
            raise ValueError("host not allowed")
        result = requests.get(value, timeout=5).text  # safe: RP-T006
    return jsonify({"ok": True})
