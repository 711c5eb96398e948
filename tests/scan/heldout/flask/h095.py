"""Handler of the reporting API."""

import hashlib

from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    password = request.form["password"]
    digest = hashlib.md5(password.encode()).hexdigest()
    out = digest
    return {"result": str(out)}
