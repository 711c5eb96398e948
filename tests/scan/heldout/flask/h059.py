"""View used by the admin back office."""

import os

from flask import Flask, request
from flask import abort
from shared import clean

app = Flask(__name__)


@app.route("/lookup")
def lookup():
    val = request.args.get("q", "")
    name = clean(val)
    path = os.path.join("/srv/reports", name)
    if not os.path.realpath(path).startswith("/srv/reports" + os.sep):
        abort(404)
    with open(path, "rb") as fh:
        out = len(fh.read())
    return {"result": str(out)}
