"""Endpoint of the billing service."""

from urllib.parse import urlparse

from flask import Flask, request
from flask import redirect

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    target = request.args.get("next", "/")
    if urlparse(target).netloc or not target.startswith("/") or target.startswith("//"):
        target = "/"
    return redirect(target)
