"""Handler of the catalogue service."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    session["sort"] = val if val in ("name", "date") else "name"
    out = "saved"
    return {"result": str(out)}
