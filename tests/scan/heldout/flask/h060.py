"""Endpoint of the billing service."""

import shutil
from pathlib import Path

from flask import Flask, request

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    names = val.split(",")
    for n in names:
        src = Path("/srv/inbox") / n
        shutil.copy(src, "/srv/archive/")
    out = len(names)
    return {"result": str(out)}
