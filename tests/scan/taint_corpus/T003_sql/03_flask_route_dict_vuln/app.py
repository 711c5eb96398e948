"""RP-T003 (sql), vulnerable: flask route request data reaches the sink through a dict."""

from flask import Flask, jsonify
from sqlalchemy import create_engine, text

ENGINE = create_engine("sqlite:////tmp/shop.db")
app = Flask(__name__)


@app.route("/items/<item>")
def show_item(item):
    params = {"value": item, "page": 1}
    value = params["value"]
    with ENGINE.connect() as db:
        result = db.execute(text("SELECT * FROM items WHERE sku = '" + value + "'")).all()  # expect: RP-T003 CWE-89
    return jsonify({"ok": True})
