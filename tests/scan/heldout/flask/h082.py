"""Request handler for the orders service."""

import logging

from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    log = logging.getLogger("auth")
    user = val
    log.warning("failed login for " + user)
    out = "denied"
    return {"result": str(out)}
