"""Handler of the reporting API."""

import os

from flask import Flask, request
from shared import clean

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    name = clean(val)
    archive = "tar czf /tmp/%s.tgz /srv/exports" % name
    out = os.system(archive)
    return {"result": str(out)}
