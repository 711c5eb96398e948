"""RP-T012 (xss), vulnerable: flask request data reaches the sink through a helper in helpers.py."""

from flask import Flask, request
from helpers import process

app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    result = process(request.args.get("q", ""))
    return result
