"""Handler for account self-service."""

import random
import string

from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    alphabet = string.ascii_letters + string.digits
    reset_token = "".join(random.choice(alphabet) for _ in range(32))
    out = {"sent_to": val, "len": len(reset_token)}
    return {"result": str(out)}
