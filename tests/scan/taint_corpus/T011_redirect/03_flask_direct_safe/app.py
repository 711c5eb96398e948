"""RP-T011 (redirect), safe twin: flask request data reaches the sink directly."""

from urllib.parse import urlparse

from flask import Flask, redirect, request

ALLOWED_HOSTS = {"shop.example.com", "accounts.example.com"}
app = Flask(__name__)


@app.route("/items", methods=["GET", "POST"])
def items():
    value = request.values["file"]
    if urlparse(value).hostname not in ALLOWED_HOSTS:
        raise ValueError("redirect target not allowed")
    result = redirect(value)  # safe: RP-T011
    return result
