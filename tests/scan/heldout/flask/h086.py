"""Function behind the public API gateway."""

from flask import Flask, request
from flask import session

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    session["role"] = val
    out = "saved"
    return {"result": str(out)}
