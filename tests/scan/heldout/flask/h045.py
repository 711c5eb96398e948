"""Handler for account self-service."""

from flask import Flask, request
from flask import render_template_string

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    page = "<h1>Hello {{ name }}</h1>"
    out = render_template_string(page, name=val)
    return {"result": str(out)}
