"""RP-T003 (sql), safe twin: flask request data reaches the sink directly."""

import sqlite3

from flask import Flask, jsonify, request

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.args.get("q", "")
    conn = sqlite3.connect("/tmp/app.db")
    result = conn.execute(f"DELETE FROM orders WHERE id = {int(value)}")  # safe: RP-T003
    conn.commit()
    return jsonify({"ok": True})
