"""View used by the admin back office."""

import hashlib
import os

from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    password = request.form["password"]
    salt = os.urandom(16)
    digest = salt.hex() + hashlib.pbkdf2_hmac("sha256", password.encode(), salt, 600_000).hex()
    out = digest
    return {"result": str(out)}
