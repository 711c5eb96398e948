"""RP-L004 (cors), vulnerable: app-wide configuration."""

from flask import Flask, jsonify
from flask_cors import CORS

app = Flask(__name__)
CORS(app, origins="*", supports_credentials=True)  # expect: RP-L004 CWE-942


@app.route("/items/<item>")
def show_item(item):
    value = item
    return jsonify({"ok": True})
