"""RP-T015 (trust-boundary), safe twin: flask route request data reaches the sink through a helper in helpers.py."""

from flask import Flask, jsonify
from helpers import process

app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    process(item)
    return jsonify({"ok": True})
