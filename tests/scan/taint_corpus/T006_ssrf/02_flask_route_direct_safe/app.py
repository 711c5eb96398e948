"""RP-T006 (ssrf), safe twin: flask route request data reaches the sink directly."""

import urllib.request
from urllib.parse import quote

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    value = item
    result = urllib.request.urlopen("https://status.example.com/" + quote(value), timeout=5).read()  # safe: RP-T006
    return jsonify({"ok": True})
