"""Endpoint of the notifications service."""

import os
import shlex

from flask import Flask, request
from shared import clean

app = Flask(__name__)


@app.route("/submit", methods=["POST"])
def submit():
    val = request.form["name"]
    name = clean(val)
    archive = "tar czf /tmp/%s.tgz /srv/exports" % shlex.quote(name)
    out = os.system(archive)
    return {"result": str(out)}
