"""Endpoint of the customer portal."""

from flask import Flask, request
from flask import redirect

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    target = request.args.get("next", "/")
    return redirect(target)
