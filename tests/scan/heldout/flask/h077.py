"""Handler for account self-service."""

import sqlite3

from flask import Flask, request
from shared import build_filter

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    db = sqlite3.connect("shop.db")
    where = build_filter("sku", val)
    cur = db.cursor()
    cur.execute("SELECT * FROM products WHERE " + where)
    out = cur.fetchall()
    return {"result": str(out)}
