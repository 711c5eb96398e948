"""Endpoint of the customer portal."""

from flask import Flask, request
from flask_cors import CORS

app = Flask(__name__)


CORS(app, origins=["https://app.example.com"], supports_credentials=True)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    out = val
    return {"result": str(out)}
