"""Handler of the catalogue service."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    theme = val
    session["theme"] = theme
    out = theme
    return {"result": str(out)}
