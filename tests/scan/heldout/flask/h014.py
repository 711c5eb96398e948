"""Request handler for the orders service."""

import traceback

from flask import Flask, request

app = Flask(__name__)


@app.errorhandler(Exception)
def on_error(exc):
    app.logger.error("".join(traceback.format_exception(exc)))
    return {"error": "internal error"}, 500


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    out = int(val)
    return {"result": str(out)}
