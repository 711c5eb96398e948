"""Handler of the catalogue service."""

import os

from flask import Flask, request

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    path = "/srv/shared/exports/latest.csv"
    with open(path, "w") as fh:
        fh.write("id,total\n")
    os.chmod(path, 0o640)
    out = path
    return {"result": str(out)}
