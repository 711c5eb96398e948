"""Webhook and integration endpoint."""

import ssl
import urllib.request

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    ctx = ssl._create_unverified_context()
    out = urllib.request.urlopen("https://inventory.example.com/stock", context=ctx).read()
    return {"result": str(out)}
