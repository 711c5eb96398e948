"""RP-T006 (ssrf), vulnerable: flask route request data reaches the sink directly."""

import urllib.request

from flask import Flask, jsonify

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    value = item
    result = urllib.request.urlopen("http://" + value + "/status", timeout=5).read()  # expect: RP-T006 CWE-918
    return jsonify({"ok": True})
