"""RP-L007 (weak-hash), vulnerable: flask route request data reaches the sink through a list and a loop."""

import hashlib

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    values = []
    values.append(item)
    for value in values:
        api_token = value
        result = hashlib.sha1(api_token.encode()).hexdigest()  # expect: RP-L007 CWE-328
    return jsonify({"ok": True})
