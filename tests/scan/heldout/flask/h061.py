"""Handler for account self-service."""

import os

from flask import Flask, request
from shared import clean

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    name = clean(val)
    path = os.path.join("/srv/reports", name)
    with open(path, "rb") as fh:
        out = len(fh.read())
    return {"result": str(out)}
