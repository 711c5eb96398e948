"""Request handler for the orders service."""

from flask import Flask, request
from flask_cors import CORS

app = Flask(__name__)


CORS(app, origins="*", supports_credentials=True)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    out = val
    return {"result": str(out)}
