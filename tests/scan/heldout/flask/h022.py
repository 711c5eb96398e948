"""Endpoint of the notifications service."""

from flask import Flask, request
from markupsafe import escape

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    return f"<h1>Results for {escape(val)}</h1>"
