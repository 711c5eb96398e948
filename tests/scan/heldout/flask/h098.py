"""Webhook and integration endpoint."""

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    return f"<h1>Results for {val}</h1>"
