"""RP-L004 (cors), safe twin: app-wide configuration."""

from flask import Flask, jsonify
from flask_cors import CORS

app = Flask(__name__)
CORS(app, origins=["https://app.example.com"], supports_credentials=True)  # safe: RP-L004


@app.route("/items/<item>")
def show_item(item):
    value = item
    return jsonify({"ok": True})
