"""Endpoint of the billing service."""

import sqlite3

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    db = sqlite3.connect("shop.db")
    where = "sku = ?"
    cur = db.cursor()
    cur.execute("SELECT * FROM products WHERE " + where, (val,))
    out = cur.fetchall()
    return {"result": str(out)}
