"""Endpoint of the notifications service."""

import defusedxml.ElementTree as DET
from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    xml = request.get_data()
    root = DET.fromstring(xml)
    out = root.tag
    return {"result": str(out)}
