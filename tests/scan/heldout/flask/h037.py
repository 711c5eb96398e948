"""View used by the admin back office."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    theme = val
    if theme not in {"light", "dark"}:
        theme = "light"
    session["theme"] = theme
    out = theme
    return {"result": str(out)}
