"""RP-L005 (tls-verify), vulnerable: flask route request data reaches the sink through a list and a loop."""

import httpx
from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        with httpx.Client(verify=False, timeout=5) as client:  # expect: RP-L005 CWE-295
            result = client.get("https://billing.internal/invoices", params={"id": value}).json()
    return jsonify({"ok": True})
