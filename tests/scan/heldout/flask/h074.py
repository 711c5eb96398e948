"""Webhook and integration endpoint."""

from flask import Flask, request
from flask import render_template_string

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    page = "<h1>Hello " + val + "</h1>"
    out = render_template_string(page)
    return {"result": str(out)}
