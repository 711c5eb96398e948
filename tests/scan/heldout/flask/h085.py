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
        src = (Path("/srv/inbox") / n).resolve()
        if not src.is_relative_to(Path("/srv/inbox").resolve()):
            continue
        shutil.copy(src, "/srv/archive/")
    out = len(names)
    return {"result": str(out)}
